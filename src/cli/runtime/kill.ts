import { killContainer, parseSignal } from '../../runtime/index.js';
import { bool, need } from './args.js';
import type { RuntimeCommand } from './command.js';

export const kill: RuntimeCommand = {
  name: 'kill',
  usage: 'kill [--all] ID [SIGNAL]',
  flags: [{ name: 'all', alias: 'a' }],
  run(cli, a) {
    const [id, sig] = need(a, ['ID'], 'kill');
    killContainer(cli.rt, id, parseSignal(sig), bool(a, 'all'));
    return 0;
  },
};
