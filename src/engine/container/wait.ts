import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../errors/index.js';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { refreshContainer } from './status.js';

const LIVE = new Set(['running', 'paused', 'restarting']);

/**
 * Wait until the container is no longer running; resolves with its record (exit code inside).
 * `timeoutMs`: resolve undefined when it is still running by then.
 */
export async function waitStopped(engine: Engine, id: string, opts: { timeoutMs?: number; signal?: AbortSignal; pollMs?: number } = {}): Promise<ContainerRecord | undefined> {
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  let poll = 5;
  for (;;) {
    const rec = engine.containers.tryFind(id);
    if (!rec) throw new BerthError('NOT_FOUND', `No such container: ${id}`);
    const r = refreshContainer(engine, rec);
    if (!LIVE.has(r.state.status)) return r;
    if (Date.now() >= deadline) return undefined;
    if (opts.signal?.aborted) throw new BerthError('CANCELED', `wait for container ${JSON.stringify(r.name)}: canceled`);
    await sleep(Math.min(poll, Math.max(1, deadline - Date.now())));
    poll = Math.min(poll * 2, opts.pollMs ?? 100);
  }
}

/** docker wait: block until the container stops, return its exit code. */
export async function waitContainer(engine: Engine, ref: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
  const rec = engine.containers.find(ref);
  const r = await waitStopped(engine, rec.id, opts);
  return r!.state.exitCode;
}
