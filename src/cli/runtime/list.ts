import { listContainers } from '../../runtime/index.js';
import { BerthError } from '../../errors/index.js';
import { bool, str } from './args.js';
import type { RuntimeCommand } from './command.js';

export const list: RuntimeCommand = {
  name: 'list',
  usage: 'list [--format table|json] [--quiet]',
  flags: [{ name: 'format', alias: 'f', value: true }, { name: 'quiet', alias: 'q' }],
  run(cli, a) {
    const states = listContainers(cli.rt);
    const format = str(a, 'format') ?? 'table';
    if (bool(a, 'quiet')) {
      cli.out(states.map((s) => `${s.id}\n`).join(''));
    } else if (format === 'json') {
      cli.out(`${JSON.stringify(states)}\n`);
    } else if (format === 'table') {
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
      for (const s of states) rows.push([s.id, String(s.pid ?? 0), s.status, s.bundle, s.created, s.owner]);
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      cli.out(rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] + 3) : c)).join('')).join('\n') + '\n');
    } else {
      throw new BerthError('INVALID_ARGUMENT', `list: invalid --format ${JSON.stringify(format)}: use table or json`);
    }
    return 0;
  },
};
