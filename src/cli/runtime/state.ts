import { containerState } from '../../runtime/index.js';
import { need } from './args.js';
import type { RuntimeCommand } from './command.js';

export const state: RuntimeCommand = {
  name: 'state',
  usage: 'state ID',
  flags: [],
  run(cli, a) {
    const [id] = need(a, ['ID'], 'state');
    cli.out(`${JSON.stringify(containerState(cli.rt, id), null, 2)}\n`);
    return 0;
  },
};
