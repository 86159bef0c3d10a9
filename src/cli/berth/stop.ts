import type { Command } from 'commander';
import { stopContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { forEachContainer } from './each.js';
import { engineFor } from './engine.js';

export const registerStop: RegisterCommand = (program: Command, ctx, setExit) => {
  program
    .command('stop')
    .description('stop one or more running containers (stop signal, then SIGKILL after the timeout)')
    .argument('<container...>', 'names or ids')
    .option('-t, --time <seconds>', 'seconds to wait before killing the container')
    .option('-s, --signal <signal>', 'signal to send to the container')
    .action(async (refs: string[], o: { time?: string; signal?: string }) => {
      const engine = engineFor(ctx);
      await Promise.all(
        refs.map((r) =>
          forEachContainer(ctx, [r], setExit, () =>
            stopContainer(engine, r, { ...(o.time !== undefined ? { timeout: Number(o.time) } : {}), ...(o.signal ? { signal: o.signal } : {}) }),
          ),
        ),
      );
    });
};
