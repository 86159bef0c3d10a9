import { runContainer } from '../../runtime/index.js';
import { bool, int, need, str } from './args.js';
import { CREATE_FLAGS } from './create.js';
import type { RuntimeCommand } from './command.js';

export const run: RuntimeCommand = {
  name: 'run',
  usage: 'run [--bundle DIR] [--detach] [--keep] [--pid-file FILE] [--console-socket SOCK] [--preserve-fds N] ID',
  flags: [...CREATE_FLAGS, { name: 'detach', alias: 'd' }, { name: 'keep' }],
  run(cli, a) {
    const [id] = need(a, ['ID'], 'run');
    return runContainer(cli.rt, {
      id,
      bundle: str(a, 'bundle') ?? '.',
      pidFile: str(a, 'pid-file'),
      consoleSocket: str(a, 'console-socket'),
      preserveFds: int(a, 'preserve-fds'),
      noPivot: bool(a, 'no-pivot'),
      detach: bool(a, 'detach'),
      keep: bool(a, 'keep'),
    });
  },
};
