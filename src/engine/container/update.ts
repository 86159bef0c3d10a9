import { readFileSync } from 'node:fs';
import { BerthError } from '../../errors/index.js';
import { writeFileAtomic } from '../../util/fs.js';
import type { Resources } from '../../spec/runtime.js';
import type { Engine } from '../engine.js';
import type { RunConfig } from '../run-config.js';
import { cpuResources } from '../spec-builder.js';
import { parseRestartPolicy } from './restart-policy.js';
import { refreshContainer } from './status.js';

export type UpdateRequest = Pick<RunConfig, 'memory' | 'memorySwap' | 'memoryReservation' | 'cpus' | 'cpuShares' | 'cpuQuota' | 'cpuPeriod' | 'cpusetCpus' | 'cpusetMems' | 'pidsLimit' | 'restart'>;

/**
 * docker update: new resource limits for a running container (through the runtime's update)
 * and for its next starts (the stored config and bundle). A restart policy applies from the
 * next start.
 */
export async function updateContainer(engine: Engine, ref: string, req: UpdateRequest): Promise<string> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  if (req.restart) parseRestartPolicy(req.restart);
  const r: Resources = {};
  if (req.memory !== undefined) {
    if (req.memory > 0 && req.memory < 6 * 1024 * 1024) throw new BerthError('INVALID_ARGUMENT', 'minimum memory limit allowed is 6MB');
    r.memory = { limit: req.memory };
    const swap = req.memorySwap ?? rec.config.memorySwap;
    if (swap !== undefined) {
      if (swap !== -1 && swap < req.memory) throw new BerthError('INVALID_ARGUMENT', 'minimum memoryswap limit should be larger than memory limit');
      r.memory.swap = swap;
    }
  } else if (req.memorySwap !== undefined) r.memory = { swap: req.memorySwap };
  if (req.memoryReservation !== undefined) r.memory = { ...r.memory, reservation: req.memoryReservation };
  const cpu = cpuResources(req);
  if (cpu) r.cpu = cpu;
  if (req.pidsLimit !== undefined) r.pids = { limit: req.pidsLimit };
  if (Object.keys(r).length && (rec.state.status === 'running' || rec.state.status === 'paused')) {
    await engine.runtime(rec.config.runtime).update(rec.id, r);
  }
  const next: RunConfig = { ...rec.config };
  for (const [k, v] of Object.entries(req)) if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
  engine.containers.updateConfig(rec.id, next);
  // the bundle's resources too, so a restart keeps the new limits
  const paths = engine.paths(rec.id);
  try {
    const spec = JSON.parse(readFileSync(paths.config, 'utf8')) as { linux?: { resources?: Resources } };
    const res = (spec.linux ??= {}).resources ?? {};
    spec.linux.resources = { ...res, ...(r.memory ? { memory: { ...res.memory, ...r.memory } } : {}), ...(r.cpu ? { cpu: { ...res.cpu, ...r.cpu } } : {}), ...(r.pids ? { pids: r.pids } : {}) };
    writeFileAtomic(paths.config, JSON.stringify(spec));
  } catch {
    /* no bundle: nothing to keep in step */
  }
  engine.containerEvent(rec, 'update');
  return rec.id;
}
