import { spawnSync } from 'node:child_process';
import { containerPids } from '../../runtime/index.js';
import { BerthError } from '../../errors/index.js';
import { need, str } from './args.js';
import type { RuntimeCommand } from './command.js';

export const ps: RuntimeCommand = {
  name: 'ps',
  usage: 'ps [--format table|json] ID [ps options]',
  flags: [{ name: 'format', alias: 'f', value: true }],
  stopAtPositional: true,
  run(cli, a) {
    const [id, ...psArgs] = need(a, ['ID'], 'ps');
    const pids = containerPids(cli.rt, id);
    const format = str(a, 'format') ?? 'table';
    if (format === 'json') {
      cli.out(`${JSON.stringify(pids)}\n`);
      return 0;
    }
    if (format !== 'table') throw new BerthError('INVALID_ARGUMENT', `ps: invalid --format ${JSON.stringify(format)}`);
    // Like runc: the host's ps(1) output, header plus the container's rows.
    const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
    if (r.status !== 0) throw new BerthError('INTERNAL', `ps: ${r.stderr.trim() || 'ps(1) failed'}`);
    const lines = r.stdout.trimEnd().split('\n');
    const header = lines[0];
    const pidCol = header.trim().split(/\s+/).indexOf('PID');
    if (pidCol < 0) throw new BerthError('INVALID_ARGUMENT', 'ps: the ps options must print a PID column');
    const want = new Set(pids);
    const rows = lines.slice(1).filter((l) => want.has(Number(l.trim().split(/\s+/)[pidCol])));
    cli.out([header, ...rows].join('\n') + '\n');
    return 0;
  },
};
