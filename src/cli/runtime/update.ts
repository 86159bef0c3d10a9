import { readFileSync } from 'node:fs';
import { updateContainer } from '../../runtime/index.js';
import { BerthError } from '../../errors/index.js';
import { bytes, int, need, str } from './args.js';
import type { RuntimeCommand } from './command.js';
import type { Resources } from '../../spec/runtime.js';

export const update: RuntimeCommand = {
  name: 'update',
  usage: 'update [--resources FILE|-] [--memory N] [--cpu-shares N] [--cpu-quota N] [--pids-limit N] ... ID',
  flags: [
    { name: 'resources', alias: 'r', value: true },
    { name: 'memory', value: true },
    { name: 'memory-reservation', value: true },
    { name: 'memory-swap', value: true },
    { name: 'kernel-memory', value: true },
    { name: 'cpu-shares', value: true },
    { name: 'cpu-quota', value: true },
    { name: 'cpu-period', value: true },
    { name: 'cpu-rt-period', value: true },
    { name: 'cpu-rt-runtime', value: true },
    { name: 'cpuset-cpus', value: true },
    { name: 'cpuset-mems', value: true },
    { name: 'pids-limit', value: true },
    { name: 'blkio-weight', value: true },
  ],
  run(cli, a) {
    const [id] = need(a, ['ID'], 'update');
    let r: Resources = {};
    const file = str(a, 'resources');
    if (file) {
      try {
        r = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')) as Resources;
      } catch (err) {
        throw BerthError.wrap(err, `update: read resources from ${file === '-' ? 'stdin' : JSON.stringify(file)}`, 'INVALID_ARGUMENT');
      }
    }
    const set = <K extends keyof Resources>(k: K, v: Resources[K]) => (r[k] = { ...(r[k] as object), ...(v as object) } as Resources[K]);
    const mem = { limit: bytes(a, 'memory'), reservation: bytes(a, 'memory-reservation'), swap: bytes(a, 'memory-swap'), kernel: bytes(a, 'kernel-memory') };
    if (Object.values(mem).some((v) => v !== undefined)) set('memory', strip(mem));
    const cpu = {
      shares: int(a, 'cpu-shares'),
      quota: int(a, 'cpu-quota'),
      period: int(a, 'cpu-period'),
      realtimePeriod: int(a, 'cpu-rt-period'),
      realtimeRuntime: int(a, 'cpu-rt-runtime'),
      cpus: str(a, 'cpuset-cpus'),
      mems: str(a, 'cpuset-mems'),
    };
    if (Object.values(cpu).some((v) => v !== undefined)) set('cpu', strip(cpu));
    const pids = int(a, 'pids-limit');
    if (pids !== undefined) r.pids = { limit: pids };
    const w = int(a, 'blkio-weight');
    if (w !== undefined) set('blockIO', { weight: w });
    updateContainer(cli.rt, id, r);
    return 0;
  },
};

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
