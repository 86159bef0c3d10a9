import type { Command } from 'commander';
import { removeContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { forEachContainer } from './each.js';
import { engineFor } from './engine.js';

export const registerRm: RegisterCommand = (program: Command, ctx, setExit) => {
  program
    .command('rm')
    .description('remove one or more containers')
    .argument('<container...>', 'names or ids')
    .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'remove anonymous volumes associated with the container')
    .action(async (refs: string[], o: { force?: boolean; volumes?: boolean }) => {
      const engine = engineFor(ctx);
      await Promise.all(refs.map((r) => forEachContainer(ctx, [r], setExit, () => removeContainer(engine, r, { force: !!o.force, volumes: !!o.volumes }))));
    });
};
