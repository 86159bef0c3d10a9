import { runtimeFeatures } from '../../runtime/index.js';
import type { RuntimeCommand } from './command.js';

export const features: RuntimeCommand = {
  name: 'features',
  usage: 'features',
  flags: [],
  run(cli) {
    cli.out(`${JSON.stringify(runtimeFeatures(), null, 4)}\n`);
    return 0;
  },
};
