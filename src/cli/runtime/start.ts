import { startContainer } from '../../runtime/index.js';
import { need } from './args.js';
import type { RuntimeCommand } from './command.js';

export const start: RuntimeCommand = {
  name: 'start',
  usage: 'start ID',
  flags: [],
  async run(cli, a) {
    const [id] = need(a, ['ID'], 'start');
    await startContainer(cli.rt, id);
    return 0;
  },
};
