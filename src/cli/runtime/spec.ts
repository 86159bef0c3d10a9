import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpec } from '../../runtime/index.js';
import { BerthError } from '../../errors/index.js';
import { writeFileAtomic } from '../../util/fs.js';
import { bool, str } from './args.js';
import type { RuntimeCommand } from './command.js';

export const spec: RuntimeCommand = {
  name: 'spec',
  usage: 'spec [--bundle DIR] [--rootless]',
  flags: [{ name: 'bundle', alias: 'b', value: true }, { name: 'rootless' }],
  run(_cli, a) {
    const path = join(str(a, 'bundle') ?? '.', 'config.json');
    if (existsSync(path)) throw new BerthError('ALREADY_EXISTS', `spec: ${path} already exists; remove it first`);
    writeFileAtomic(path, JSON.stringify(defaultSpec({ rootless: bool(a, 'rootless') }), null, '\t') + '\n');
    return 0;
  },
};
