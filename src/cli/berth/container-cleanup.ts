import type { Command } from 'commander';
import { cleanupContainer } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';

/** The `berth container` group, created by whichever container subcommand registers first. */
export function containerGroup(program: Command): Command {
  const found = program.commands.find((c) => c.name() === 'container');
  if (found) return found;
  return program.command('container').description('manage containers');
}

/** `berth container cleanup [--rm] ID`: run by a container's monitor when it exits (not for people). */
export const registerContainerCleanup: RegisterCommand = (program: Command, ctx) => {
  containerGroup(program)
    .command('cleanup', { hidden: true })
    .description("record an exited container's status; with --rm remove a --rm container")
    .argument('<container>', 'id')
    .option('--rm', 'remove the container if it was started with --rm')
    .action((ref: string, o: { rm?: boolean }) => cleanupContainer(engineFor(ctx), ref, { remove: !!o.rm }));
};
