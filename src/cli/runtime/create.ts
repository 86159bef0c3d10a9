import { createContainer } from '../../runtime/index.js';
import { bool, int, need, str } from './args.js';
import type { RuntimeCommand } from './command.js';

export const CREATE_FLAGS = [
  { name: 'bundle', alias: 'b', value: true },
  { name: 'console-socket', value: true },
  { name: 'pid-file', value: true },
  { name: 'no-pivot' },
  { name: 'no-new-keyring' },
  { name: 'preserve-fds', value: true },
];

export const create: RuntimeCommand = {
  name: 'create',
  usage: 'create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--preserve-fds N] [--no-pivot] ID',
  flags: CREATE_FLAGS,
  async run(cli, a) {
    const [id] = need(a, ['ID'], 'create');
    await createContainer(cli.rt, {
      id,
      bundle: str(a, 'bundle') ?? '.',
      pidFile: str(a, 'pid-file'),
      consoleSocket: str(a, 'console-socket'),
      preserveFds: int(a, 'preserve-fds'),
      noPivot: bool(a, 'no-pivot'),
    });
    return 0;
  },
};
