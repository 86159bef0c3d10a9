import type { Command } from 'commander';
import { formatError } from '../../errors/index.js';
import { execContainer, removeExecState } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { exitCodeForStartError } from './container-exit.js';
import { parseDetachKeys } from './detach-keys.js';
import { engineFor } from './engine.js';
import { readEnvFile } from './run-flags.js';
import { streamAttach } from './stream-io.js';

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
  detachKeys?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** docker's `-e NAME` (no `=`): the value from our own environment, or nothing. */
export function envFromFlags(list: string[]): string[] {
  return list.flatMap((e) => (e.includes('=') ? [e] : process.env[e] !== undefined ? [`${e}=${process.env[e]}`] : []));
}

export const registerExec: RegisterCommand = (program: Command, ctx, setExit) => {
  program
    .command('exec')
    .description('run a command in a running container')
    .argument('<container>', 'name or id')
    .argument('<command...>', 'command and arguments')
    .passThroughOptions()
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-d, --detach', 'run the command in the background')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect, [])
    .option('-u, --user <user[:group]>', 'user name or uid (and group)')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--privileged', 'give the process every capability of the container')
    .option('--detach-keys <keys>', 'key sequence to detach (default ctrl-p,ctrl-q)')
    .action(async (ref: string, command: string[], f: ExecFlags) => {
      const engine = engineFor(ctx);
      const detachKeys = parseDetachKeys(f.detachKeys);
      const env = [...f.envFile.flatMap((p) => readEnvFile(p)), ...envFromFlags(f.env)];
      const tty = !!f.tty;
      const size = tty && process.stdout.isTTY && process.stdout.columns ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined;
      let session;
      try {
        session = await execContainer(engine, ref, {
          cmd: command,
          env,
          ...(f.user ? { user: f.user } : {}),
          ...(f.workdir ? { workdir: f.workdir } : {}),
          tty,
          stdin: !!f.interactive && !f.detach,
          privileged: !!f.privileged,
          detach: !!f.detach,
          ...(size ? { size } : {}),
        });
      } catch (err) {
        ctx.err(`berth: ${formatError(err)}\n`);
        setExit(exitCodeForStartError(err));
        return;
      }
      if (!session.attach) return; // -d: docker prints nothing
      const pid = session.pid;
      const r = await streamAttach(session.attach, {
        stdin: !!f.interactive,
        tty,
        detachKeys,
        // no pty line discipline to turn ^C into SIGINT: forward what we receive (sig-proxy)
        onSignal: (s) => {
          try {
            if (pid > 0) process.kill(pid, s);
          } catch {
            /* already gone */
          }
        },
      });
      if (r.kind === 'detached') {
        ctx.err('\n');
        return;
      }
      removeExecState(session.stateDir);
      setExit(r.exitCode ?? 126);
    });
};
