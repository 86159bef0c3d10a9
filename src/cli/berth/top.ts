import type { Command } from 'commander';
import { topContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';

/** Left-aligned columns, three spaces apart (docker's tabwriter look). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd()).join('\n') + '\n';
}

export const registerTop: RegisterCommand = (program: Command, ctx) => {
  program
    .command('top')
    .description('display the running processes of a container (ps options after the name)')
    .argument('<container>', 'name or id')
    .argument('[ps-options...]', 'options for ps(1), default -ef')
    .passThroughOptions()
    .action(async (ref: string, psArgs: string[]) => {
      const engine = engineFor(ctx);
      const r = await topContainer(engine, ref, psArgs.length ? psArgs : ['-ef']);
      ctx.out(table([r.titles, ...r.processes]));
    });
};
