import { readFileSync } from 'node:fs';
import { execInContainer, execProcessFromFlags } from '../../runtime/index.js';
import { BerthError } from '../../errors/index.js';
import { bool, int, list, str } from './args.js';
import type { RuntimeCommand } from './command.js';
import type { Process } from '../../spec/runtime.js';

export const exec: RuntimeCommand = {
  name: 'exec',
  usage: 'exec [--process FILE | flags] [--detach] [--pid-file FILE] [--console-socket SOCK] ID [COMMAND [ARG...]]',
  flags: [
    { name: 'process', alias: 'p', value: true },
    { name: 'console-socket', value: true },
    { name: 'pid-file', value: true },
    { name: 'detach', alias: 'd' },
    { name: 'tty', alias: 't' },
    { name: 'cwd', value: true },
    { name: 'env', alias: 'e', value: true, repeat: true },
    { name: 'user', alias: 'u', value: true },
    { name: 'additional-gids', alias: 'g', value: true, repeat: true },
    { name: 'cap', alias: 'c', value: true, repeat: true },
    { name: 'no-new-privs' },
    { name: 'preserve-fds', value: true },
    { name: 'process-label', value: true },
    { name: 'apparmor', value: true },
    { name: 'cgroup', value: true, repeat: true },
    { name: 'ignore-paused' },
  ],
  stopAtPositional: true,
  async run(cli, a) {
    const [id, ...args] = a.positional;
    if (!id) throw new BerthError('INVALID_ARGUMENT', 'exec: missing argument: ID');
    const processFile = str(a, 'process');
    let proc: Process;
    if (processFile) {
      try {
        proc = JSON.parse(readFileSync(processFile === '-' ? 0 : processFile, 'utf8')) as Process;
      } catch (err) {
        throw BerthError.wrap(err, `exec: read process from ${JSON.stringify(processFile)}`, 'INVALID_ARGUMENT');
      }
      if (!proc || typeof proc !== 'object' || !proc.user || typeof proc.cwd !== 'string') {
        throw new BerthError('INVALID_ARGUMENT', `exec: ${processFile}: a process needs "user", "cwd" and "args"`);
      }
    } else {
      if (args.length === 0) throw new BerthError('INVALID_ARGUMENT', 'exec: missing argument: COMMAND');
      const base = cli.rt.root.loadSpec(id).process;
      const gids = list(a, 'additional-gids').map((g) => {
        if (!/^\d+$/.test(g)) throw new BerthError('INVALID_ARGUMENT', `exec: invalid --additional-gids ${JSON.stringify(g)}`);
        return Number(g);
      });
      proc = execProcessFromFlags(base, {
        args,
        env: list(a, 'env'),
        cwd: str(a, 'cwd'),
        user: str(a, 'user'),
        additionalGids: gids,
        tty: bool(a, 'tty'),
        caps: list(a, 'cap'),
        noNewPrivs: bool(a, 'no-new-privs'),
      });
    }
    return execInContainer(cli.rt, {
      id,
      process: proc,
      detach: bool(a, 'detach'),
      pidFile: str(a, 'pid-file'),
      consoleSocket: str(a, 'console-socket'),
      preserveFds: int(a, 'preserve-fds'),
    });
  },
};
