import type { Command } from 'commander';
import type { RegisterCommand } from './commands.js';
import { engineFor, networkFor } from './engine.js';
import { alignColumns, parseTemplate } from './template.js';

export const registerNetworkLs: RegisterCommand = (net: Command, ctx) => {
  net
    .command('ls')
    .alias('list')
    .description('list networks')
    .option('-q, --quiet', 'only display network ids')
    .option('--no-trunc', 'do not truncate ids')
    .option('--format <template>', 'Go-template-like format')
    .action(async (o: { quiet?: boolean; trunc?: boolean; format?: string }) => {
      engineFor(ctx);
      const nm = networkFor(ctx);
      await nm.reconcile();
      const list = nm.list();
      const id = (s: string) => (o.trunc === false ? s : s.slice(0, 12));
      if (o.quiet) {
        for (const n of list) ctx.out(`${id(n.id)}\n`);
        return;
      }
      const t = parseTemplate(o.format ?? 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}\t{{.Subnet}}');
      const lines = list.map((n) => t.render({ ID: id(n.id), Name: n.name, Driver: n.driver, Scope: 'local', Subnet: n.subnet, Internal: n.internal, Labels: n.labels, CreatedAt: n.created }));
      if (t.table) ctx.out(alignColumns([t.header().replace('ID', 'NETWORK ID'), ...lines]));
      else for (const l of lines) ctx.out(`${l}\n`);
    });
};
