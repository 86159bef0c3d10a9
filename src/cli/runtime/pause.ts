import { pauseContainer, resumeContainer } from '../../runtime/index.js';
import { need } from './args.js';
import type { RuntimeCommand } from './command.js';

export const pause: RuntimeCommand = {
  name: 'pause',
  usage: 'pause ID',
  flags: [],
  run(cli, a) {
    pauseContainer(cli.rt, need(a, ['ID'], 'pause')[0]);
    return 0;
  },
};

export const resume: RuntimeCommand = {
  name: 'resume',
  usage: 'resume ID',
  flags: [],
  run(cli, a) {
    resumeContainer(cli.rt, need(a, ['ID'], 'resume')[0]);
    return 0;
  },
};
