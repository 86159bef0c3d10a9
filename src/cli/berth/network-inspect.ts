import type { Command } from 'commander';
import { formatError } from '../../errors/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor, networkFor } from './engine.js';
import { networkView } from '../../engine/index.js';
import { parseTemplate } from './template.js';

export const registerNetworkInspect: RegisterCommand = (net: Command, ctx, setExit) => {
  net
    .command('inspect')
    .description('show details of one or more networks (JSON)')
    .argument('<network...>', 'names or ids')
    .option('-f, --format <template>', 'Go-template-like format')
    .action(async (refs: string[], o: { format?: string }) => {
      engineFor(ctx);
      const nm = networkFor(ctx);
      await nm.reconcile();
      const out: Record<string, unknown>[] = [];
      for (const r of refs) {
        try {
          out.push(networkView(nm, nm.store.getNetwork(r)));
        } catch (err) {
          ctx.err(`berth: ${formatError(err)}\n`);
          setExit(1);
        }
      }
      if (o.format) {
        const t = parseTemplate(o.format);
        for (const v of out) ctx.out(`${t.render(v)}\n`);
      } else ctx.out(`${JSON.stringify(out, null, 4)}\n`);
    });
};
