import type { Command } from 'commander';
import { formatError } from '../../errors/index.js';
import type { Volume } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';
import { humanSize } from './pull-progress.js';
import { alignColumns, parseTemplate } from './template.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function view(v: Volume): Record<string, unknown> {
  return { CreatedAt: v.created, Driver: v.driver, Labels: v.labels, Mountpoint: v.mountpoint, Name: v.name, Options: null, Scope: 'local' };
}

export const registerVolume: RegisterCommand = (program: Command, ctx, setExit) => {
  const vol = program.command('volume').description('manage volumes');
  vol
    .command('create')
    .description('create a volume')
    .argument('[name]', 'volume name (default: a random id)')
    .option('-l, --label <key=value>', 'set metadata on a volume (repeatable)', collect, [])
    .option('-d, --driver <driver>', 'volume driver (local only)', 'local')
    .action((name: string | undefined, o: { label: string[]; driver: string }) => {
      if (o.driver !== 'local') throw new Error(`volume driver ${JSON.stringify(o.driver)}: only local is supported`);
      const labels = Object.fromEntries(o.label.map((l) => [l.split('=', 1)[0], l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
      const v = engineFor(ctx).volumes.create({ ...(name ? { name } : {}), labels });
      ctx.out(`${v.name}\n`);
    });
  vol
    .command('ls')
    .alias('list')
    .description('list volumes')
    .option('-q, --quiet', 'only display volume names')
    .option('--format <template>', 'Go-template-like format')
    .action((o: { quiet?: boolean; format?: string }) => {
      const list = engineFor(ctx).volumes.list();
      if (o.quiet) {
        for (const v of list) ctx.out(`${v.name}\n`);
        return;
      }
      const t = parseTemplate(o.format ?? 'table {{.Driver}}\t{{.Name}}');
      const lines = list.map((v) => t.render(view(v)));
      if (t.table) ctx.out(alignColumns([t.header().replace('DRIVER', 'DRIVER').replace('NAME', 'VOLUME NAME'), ...lines]));
      else for (const l of lines) ctx.out(`${l}\n`);
    });
  vol
    .command('inspect')
    .description('show details of one or more volumes (JSON)')
    .argument('<volume...>', 'names')
    .action((names: string[]) => {
      const e = engineFor(ctx);
      const out = [];
      for (const n of names) {
        try {
          out.push(view(e.volumes.get(n)));
        } catch (err) {
          ctx.err(`berth: ${formatError(err)}\n`);
          setExit(1);
        }
      }
      ctx.out(JSON.stringify(out, null, 4) + '\n');
    });
  vol
    .command('rm')
    .alias('remove')
    .description('remove one or more volumes')
    .argument('<volume...>', 'names')
    .option('-f, --force', 'do not fail when a volume does not exist')
    .action((names: string[], o: { force?: boolean }) => {
      const e = engineFor(ctx);
      for (const n of names) {
        try {
          e.volumes.remove(n, !!o.force);
          ctx.out(`${n}\n`);
        } catch (err) {
          ctx.err(`berth: ${formatError(err)}\n`);
          setExit(1);
        }
      }
    });
  vol
    .command('prune')
    .description('remove unused anonymous volumes (all unused ones with -a)')
    .option('-a, --all', 'remove all unused volumes, not just anonymous ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .action((o: { all?: boolean }) => {
      const r = engineFor(ctx).volumes.prune(!!o.all);
      if (r.removed.length) ctx.out(`Deleted Volumes:\n${r.removed.map((n) => `${n}\n`).join('')}\n`);
      ctx.out(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
    });
};
