import type { Command } from 'commander';
import { updateContainer, type UpdateRequest } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { forEachContainer } from './each.js';
import { engineFor } from './engine.js';
import { parseBytes, type RunFlags } from './run-flags.js';

/** The flags docker update shares with run: the resource limits and the restart policy. */
type UpdateFlags = Pick<RunFlags, 'memory' | 'memorySwap' | 'memoryReservation' | 'cpus' | 'cpuShares' | 'cpuQuota' | 'cpuPeriod' | 'cpusetCpus' | 'cpusetMems' | 'pidsLimit' | 'restart'>;

export const registerUpdate: RegisterCommand = (program: Command, ctx, setExit) => {
  program
    .command('update')
    .description("update the resource limits (and restart policy) of one or more containers")
    .argument('<container...>', 'names or ids')
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', 'memory plus swap limit; -1 for unlimited')
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--cpus <n>', 'number of CPUs')
    .option('-c, --cpu-shares <n>', 'CPU shares')
    .option('--cpu-quota <us>', 'CFS quota')
    .option('--cpu-period <us>', 'CFS period')
    .option('--cpuset-cpus <list>', 'CPUs allowed')
    .option('--cpuset-mems <list>', 'memory nodes allowed')
    .option('--pids-limit <n>', 'pids limit (-1 unlimited)')
    .option('--restart <policy>', 'restart policy')
    .action(async (refs: string[], f: UpdateFlags) => {
      const req: UpdateRequest = {};
      if (f.memory) req.memory = parseBytes(f.memory, '--memory');
      if (f.memorySwap) req.memorySwap = f.memorySwap === '-1' ? -1 : parseBytes(f.memorySwap, '--memory-swap');
      if (f.memoryReservation) req.memoryReservation = parseBytes(f.memoryReservation, '--memory-reservation');
      if (f.cpus) req.cpus = Number(f.cpus);
      if (f.cpuShares) req.cpuShares = Number(f.cpuShares);
      if (f.cpuQuota) req.cpuQuota = Number(f.cpuQuota);
      if (f.cpuPeriod) req.cpuPeriod = Number(f.cpuPeriod);
      if (f.cpusetCpus) req.cpusetCpus = f.cpusetCpus;
      if (f.cpusetMems) req.cpusetMems = f.cpusetMems;
      if (f.pidsLimit) req.pidsLimit = Number(f.pidsLimit);
      if (f.restart) req.restart = f.restart;
      const engine = engineFor(ctx);
      await forEachContainer(ctx, refs, setExit, (r) => updateContainer(engine, r, req));
    });
};
