import { deleteContainer } from '../../runtime/index.js';
import { bool, need } from './args.js';
import type { RuntimeCommand } from './command.js';

export const del: RuntimeCommand = {
  name: 'delete',
  usage: 'delete [--force] ID...',
  flags: [{ name: 'force', alias: 'f' }],
  async run(cli, a) {
    need(a, ['ID'], 'delete');
    for (const id of a.positional) await deleteContainer(cli.rt, id, bool(a, 'force'));
    return 0;
  },
};
