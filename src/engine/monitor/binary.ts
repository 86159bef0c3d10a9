import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../../errors/index.js';

let cached: string | undefined;

/**
 * The berth-monitor binary: $BERTH_MONITOR, else `native/build/berth-monitor` in the first
 * directory above this module that has one (works from src/, dist/ and the esbuild bundle).
 */
export function monitorBinary(): string {
  if (process.env.BERTH_MONITOR) return process.env.BERTH_MONITOR;
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'native', 'build', 'berth-monitor');
    try {
      accessSync(candidate, constants.X_OK);
      cached = candidate;
      return candidate;
    } catch {
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new BerthError('NOT_FOUND', 'find berth-monitor: not built (run `make -C native`) and $BERTH_MONITOR unset');
}
