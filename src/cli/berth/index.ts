/**
 * berth: the docker-like command line. Each command lives in its own file and registers
 * itself through `commands.ts`; this file parses global flags and maps errors to exit codes.
 */
import { Command, CommanderError } from 'commander';
import { isatty } from 'node:tty';
import { writeAll } from './output.js';
import { EXIT_CODES, formatError, toBerthError } from '../../errors/index.js';
import type { CliContext } from './context.js';
import { COMMANDS } from './commands.js';
import { packageVersion } from './version.js';

export async function main(argv: string[]): Promise<number> {
  const ctx: CliContext = {
    root: process.env.BERTH_ROOT || '/var/lib/berth',
    state: process.env.BERTH_STATE || '/run/berth',
    debug: !!process.env.BERTH_DEBUG,
    // Through writeAll: a pipe may be non-blocking (another process, or Node itself once
    // something touches process.stdout), and a full one answers EAGAIN.
    out: (t) => writeAll(1, Buffer.from(t)),
    err: (t) => writeAll(2, Buffer.from(t)),
    // isatty(1), not process.stdout.isTTY: touching process.stdout makes Node set O_NONBLOCK on a pipe.
    tty: isatty(1),
  };
  const program = new Command('berth')
    .description('berth: run containers')
    .option('--root <dir>', 'persistent state directory (images, snapshots, metadata)')
    .option('--state <dir>', 'per-boot state directory (running containers, sockets)')
    .option('-D, --debug', 'print debug information')
    .version(`berth version ${packageVersion()}`, '-v, --version', 'print the version and quit')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.out(s), writeErr: (s) => ctx.err(s) })
    .hook('preAction', (cmd) => {
      const o = cmd.opts<{ root?: string; state?: string; debug?: boolean }>();
      if (o.root) ctx.root = o.root;
      if (o.state) ctx.state = o.state;
      if (o.debug) ctx.debug = true;
    });
  let exit = 0;
  for (const register of COMMANDS) register(program, ctx, (code) => (exit = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 125;
    const e = toBerthError(err);
    ctx.err(`berth: ${formatError(e)}\n`);
    return EXIT_CODES[e.code];
  }
}
