import type { Command } from 'commander';
import { formatError } from '../../errors/index.js';
import { startContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { exitCodeForStartError } from './container-exit.js';
import { engineFor } from './engine.js';
import { streamContainer } from './run.js';

export const registerStart: RegisterCommand = (program: Command, ctx, setExit) => {
  program
    .command('start')
    .description('start one or more stopped containers')
    .argument('<container...>', 'names or ids')
    .option('-a, --attach', 'attach stdout/stderr and forward signals')
    .option('-i, --interactive', "attach the container's stdin")
    .action(async (refs: string[], o: { attach?: boolean; interactive?: boolean }) => {
      const engine = engineFor(ctx);
      if (o.attach || o.interactive) {
        if (refs.length > 1) throw new Error('you cannot start and attach multiple containers at once');
        try {
          const { container, attach } = await startContainer(engine, refs[0], { attach: true });
          if (!attach) return; // already running
          setExit(await streamContainer(ctx, engine, container.id, attach, { stdin: !!o.interactive, tty: !!container.config.tty }));
        } catch (err) {
          ctx.err(`berth: ${formatError(err)}\n`);
          setExit(exitCodeForStartError(err));
        }
        return;
      }
      let failed = false;
      for (const r of refs) {
        try {
          await startContainer(engine, r);
          ctx.out(`${r}\n`);
        } catch (err) {
          ctx.err(`berth: ${formatError(err)}\n`);
          failed = true;
        }
      }
      if (failed) setExit(1);
    });
};
