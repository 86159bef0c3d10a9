/**
 * Docker's `--security-opt seccomp=...` for one container, as docker's daemon decides it
 * (moby daemon/seccomp_linux.go WithSeccomp), into the spec's `linux.seccomp`:
 *   - `seccomp=unconfined`: none;
 *   - `seccomp=builtin`, or no seccomp option: docker's default profile for the capabilities;
 *   - `seccomp=<JSON>` (what docker's CLI sends after reading the file, and what Engine API
 *     clients send) or `seccomp=<path>` (berth's CLI): that profile, in docker's format;
 *   - `--privileged`: none, unless a profile is given explicitly.
 * `seccomp:VALUE` (the deprecated separator) is read too.
 */
import { readFileSync } from 'node:fs';
import { BerthError } from '../../errors/index.js';
import type { Seccomp } from '../../spec/runtime.js';
import { dockerDefaultProfile } from './docker-default.js';
import { parseDockerProfile } from './docker-profile.js';

export interface ContainerSeccompOptions {
  /** The container's --security-opt values; only `seccomp` ones are looked at. */
  securityOpt?: string[];
  /** The container's (bounding) capabilities. */
  capabilities: string[];
  privileged?: boolean;
  /** Reads a profile path (default: the file system). */
  readFile?: (path: string) => string;
  arch?: string;
  kernel?: string;
}

/** The `linux.seccomp` for a container, or undefined for none (unconfined). */
export function seccompForContainer(o: ContainerSeccompOptions): Seccomp | undefined {
  let value: string | undefined;
  for (const opt of o.securityOpt ?? []) {
    const m = /^seccomp[=:]([\s\S]*)$/.exec(opt);
    if (m) value = m[1];
  }
  const resolve = { capabilities: o.capabilities, arch: o.arch, kernel: o.kernel };
  if (value === 'unconfined') return undefined;
  if (value === undefined || value === '' || value === 'builtin') {
    return o.privileged ? undefined : dockerDefaultProfile(resolve);
  }
  const where = value.trimStart().startsWith('{') ? '--security-opt seccomp=<profile JSON>' : `--security-opt seccomp=${value}`;
  let text = value;
  if (!value.trimStart().startsWith('{')) {
    try {
      text = (o.readFile ?? ((p) => readFileSync(p, 'utf8')))(value);
    } catch (err) {
      throw BerthError.wrap(err, `${where}: read the profile`, 'INVALID_ARGUMENT');
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BerthError('INVALID_ARGUMENT', `${where}: the profile is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseDockerProfile(json, resolve);
  } catch (err) {
    throw BerthError.wrap(err, where);
  }
}
