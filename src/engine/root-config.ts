/**
 * `<root>/config.json`: berth's daemon.json, read by every berth process over that root (the
 * CLI and the daemon alike). Absent = every default. Keys:
 *  - `usernsPoolStart` (number): where the `--userns=auto` pool starts;
 *  - `bridge` ("none"): no default bridge, as dockerd's `--bridge=none` / daemon.json
 *    `"bridge": "none"`: a container asking for the default network (no `--network`,
 *    `default` or `bridge`) gets its own namespace with only lo. The environment variable
 *    `BERTH_BRIDGE=none` does the same for one process and wins over the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';

export interface RootConfig {
  usernsPoolStart?: number;
  bridge?: string;
}

export function rootConfigPath(root: string): string {
  return join(root, 'config.json');
}

/** The parsed file; {} when there is none. A file that is not a JSON object is an error. */
export function readRootConfig(root: string): RootConfig {
  const path = rootConfigPath(root);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw BerthError.wrap(err, `read berth config ${path}`);
  }
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch (err) {
    throw new BerthError('INVALID_ARGUMENT', `berth config ${path}: not valid JSON: ${(err as Error).message}`);
  }
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new BerthError('INVALID_ARGUMENT', `berth config ${path}: want a JSON object`);
  return c as RootConfig;
}

/**
 * Whether the default bridge is turned off: `BERTH_BRIDGE` if set (non-empty), else the
 * config file's `bridge`. Only "none" is a value (dockerd's `--bridge` also takes an
 * interface name; berth names its bridges itself).
 */
export function bridgeDisabled(root: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const fromEnv = env.BERTH_BRIDGE;
  const [value, where] = fromEnv ? [fromEnv, 'BERTH_BRIDGE'] : [readRootConfig(root).bridge, `${rootConfigPath(root)}: "bridge"`];
  if (value === undefined || value === '') return false;
  if (value === 'none') return true;
  throw new BerthError('INVALID_ARGUMENT', `${where}: ${JSON.stringify(value)} is not a valid value: only "none" (no default bridge, as dockerd --bridge=none) is supported`);
}
