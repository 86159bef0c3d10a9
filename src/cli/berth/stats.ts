import type { Command } from 'commander';
import { cpuPercent, statsOf, type Engine, type StatsSample } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';
import { table } from './top.js';

/** docker's units in stats: binary for memory (MiB), decimal for I/O (kB, MB). */
function binary(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
  return `${Number(n.toPrecision(4))}${u[i]}`; // Go's %.4g, as docker's units.BytesSize
}
function decimal(n: number): string {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) (n /= 1000), i++;
  return `${Number(n.toPrecision(3))}${u[i]}`; // %.3g, as docker's HumanSizeWithPrecision
}

function rows(engine: Engine, refs: string[], prev: Map<string, StatsSample>, noTrunc: boolean): string[][] {
  const out: string[][] = [['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']];
  for (const s of statsOf(engine, refs)) {
    const id = noTrunc ? s.id : s.id.slice(0, 12);
    if ('stopped' in s) {
      out.push([id, s.name, '0.00%', '0B / 0B', '0.00%', '0B / 0B', '0B / 0B', '0']);
      continue;
    }
    const cpu = cpuPercent(prev.get(s.id), s);
    prev.set(s.id, s);
    const memPct = s.memLimit ? (s.memUsage / s.memLimit) * 100 : 0;
    out.push([id, s.name, `${cpu.toFixed(2)}%`, `${binary(s.memUsage)} / ${binary(s.memLimit)}`, `${memPct.toFixed(2)}%`, `${decimal(s.netRx)} / ${decimal(s.netTx)}`, `${decimal(s.blkRead)} / ${decimal(s.blkWrite)}`, String(s.pids)]);
  }
  return out;
}

export const registerStats: RegisterCommand = (program: Command, ctx) => {
  program
    .command('stats')
    .description("display containers' resource usage (CPU, memory, network, pids)")
    .argument('[container...]', 'names or ids (default: all running)')
    .option('--no-stream', 'print one sample and exit')
    .option('--no-trunc', 'do not truncate ids')
    .action(async (refs: string[], o: { stream: boolean; trunc: boolean }) => {
      const engine = engineFor(ctx);
      const prev = new Map<string, StatsSample>();
      // CPU % needs two samples, as docker's precpu_stats: the first one a second earlier
      rows(engine, refs, prev, !o.trunc);
      for (;;) {
        await new Promise((r) => setTimeout(r, 1000));
        const text = table(rows(engine, refs, prev, !o.trunc));
        if (!o.stream) return ctx.out(text);
        ctx.out(`${ctx.tty ? '\x1b[2J\x1b[H' : ''}${text}`);
      }
    });
};
