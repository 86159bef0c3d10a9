import type { Command } from 'commander';
import { BerthError, formatError, isBerthError } from '../../errors/index.js';
import { inspectContainer } from '../../engine/index.js';
import { inspectImage } from '../../image/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';
import { parseTemplate } from './template.js';

export const registerInspect: RegisterCommand = (program: Command, ctx, setExit) => {
  program
    .command('inspect')
    .description('low-level information on containers (or images) as JSON')
    .argument('<name...>', 'container or image names or ids')
    .option('-f, --format <template>', 'format the output using a Go-template-like string')
    .option('--type <type>', 'container or image')
    .action(async (refs: string[], o: { format?: string; type?: string }) => {
      const engine = engineFor(ctx);
      const out: Record<string, unknown>[] = [];
      for (const r of refs) {
        try {
          if (o.type !== 'image') {
            try {
              out.push(inspectContainer(engine, r));
              continue;
            } catch (err) {
              if (!isBerthError(err, 'NOT_FOUND') || o.type === 'container') throw err;
            }
          }
          try {
            out.push(await inspectImage(engine.images, r));
          } catch (err) {
            if (isBerthError(err, 'NOT_FOUND')) throw new BerthError('NOT_FOUND', `No such object: ${r}`);
            throw err;
          }
        } catch (err) {
          ctx.err(`berth: ${formatError(err)}\n`);
          setExit(1);
        }
      }
      if (o.format) {
        const t = parseTemplate(o.format);
        for (const x of out) ctx.out(`${t.render(x)}\n`);
        return;
      }
      ctx.out(JSON.stringify(out, null, 4) + '\n');
    });
};
