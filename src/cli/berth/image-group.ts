import { Command } from 'commander';

/** The `berth image` command group, created by whichever image subcommand registers first. */
export function imageGroup(program: Command): Command {
  const found = program.commands.find((c) => c.name() === 'image');
  if (found) return found;
  return program.command('image').description('manage images');
}
