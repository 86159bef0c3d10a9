import { BerthError } from '../../errors/index.js';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { noRestart, signalContainer, signalNumber } from './signal.js';
import { refreshContainer } from './status.js';
import { waitStopped } from './wait.js';

export interface StopOptions {
  /** Seconds to wait after the stop signal before SIGKILL (default: the container's --stop-timeout, else 10). */
  timeout?: number;
  /** Overrides the container's stop signal. */
  signal?: string;
}

/**
 * docker stop: no more restarts, the stop signal (--stop-signal, the image's StopSignal, else
 * SIGTERM), then SIGKILL after the timeout. A container that is not running is left alone.
 */
export async function stopContainer(engine: Engine, ref: string, opts: StopOptions = {}): Promise<ContainerRecord> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  return stopRecord(engine, rec, opts);
}

export async function stopRecord(engine: Engine, rec: ContainerRecord, opts: StopOptions = {}): Promise<ContainerRecord> {
  const live = ['running', 'paused', 'restarting'].includes(rec.state.status);
  const done = await stopProcesses(engine, rec, opts);
  if (live) engine.containerEvent(rec, 'stop');
  // a stopped container holds no network: its addresses, ports and rules go (docker does the same)
  await engine.network?.teardown(rec.id);
  return done;
}

async function stopProcesses(engine: Engine, rec: ContainerRecord, opts: StopOptions): Promise<ContainerRecord> {
  if (!['running', 'paused', 'restarting'].includes(rec.state.status)) return rec;
  await noRestart(engine, rec);
  if (rec.state.status === 'paused') await engine.runtime(rec.config.runtime).resume(rec.id).catch(() => {});
  const timeout = opts.timeout ?? rec.config.stopTimeout ?? 10;
  const signal = opts.signal ?? rec.config.stopSignal ?? 'SIGTERM';
  if (timeout !== 0) {
    await signalContainer(engine, rec, signal).then(() => engine.containerEvent(rec, 'kill', { signal: signalNumber(signal) }), () => {});
    const done = await waitStopped(engine, rec.id, timeout < 0 ? {} : { timeoutMs: timeout * 1000 });
    if (done) return done;
  }
  await signalContainer(engine, rec, 'KILL').then(() => engine.containerEvent(rec, 'kill', { signal: '9' }), () => {});
  const done = await waitStopped(engine, rec.id, { timeoutMs: 30_000 });
  if (!done) throw new BerthError('DEADLINE_EXCEEDED', `stop container ${JSON.stringify(rec.name)}: still running 30 s after SIGKILL`);
  return done;
}
