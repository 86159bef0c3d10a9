import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { BerthError } from '../../errors/index.js';
import { monitorBinary } from '../monitor/index.js';

/** native/build/berth-tini (docker's --init): found beside the monitor, or $BERTH_INIT. */
export function initBinary(): string {
  if (process.env.BERTH_INIT) return process.env.BERTH_INIT;
  const p = join(dirname(monitorBinary()), 'berth-tini');
  try {
    accessSync(p, constants.X_OK);
    return p;
  } catch {
    throw new BerthError('FAILED_PRECONDITION', `--init: ${p} is not built (run \`make -C native\`)`);
  }
}
