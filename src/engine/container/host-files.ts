import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { BerthError } from '../../errors/index.js';
import type { DeviceRequest } from '../run-config.js';

/** Hard limits of this process (proc(5) /proc/self/limits), keyed RLIMIT_*, -1 for unlimited. */
export function hostHardLimits(): Record<string, number> {
  const names: Record<string, string> = {
    'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA',
    'Max stack size': 'RLIMIT_STACK', 'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS',
    'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE', 'Max locked memory': 'RLIMIT_MEMLOCK',
    'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
    'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE', 'Max realtime priority': 'RLIMIT_RTPRIO',
    'Max realtime timeout': 'RLIMIT_RTTIME',
  };
  const out: Record<string, number> = {};
  let text = '';
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const key = Object.keys(names).find((k) => line.startsWith(k));
    if (!key) continue;
    const hard = line.slice(key.length).trim().split(/\s+/)[1];
    out[names[key]] = hard === 'unlimited' ? -1 : Number(hard);
  }
  return out;
}

/** Fill a --device request from stat(2) of its host path (major/minor as makedev(3) splits them). */
export function statDevice(d: DeviceRequest): DeviceRequest {
  let st;
  try {
    st = statSync(d.hostPath, { bigint: true });
  } catch (err) {
    throw BerthError.wrap(err, `error gathering device information while adding custom device ${JSON.stringify(d.hostPath)}`, 'INVALID_ARGUMENT');
  }
  const isChar = st.isCharacterDevice();
  if (!isChar && !st.isBlockDevice()) {
    throw new BerthError('INVALID_ARGUMENT', `device ${JSON.stringify(d.hostPath)}: not a character or block device`);
  }
  const dev = st.rdev;
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { ...d, type: isChar ? 'c' : 'b', major, minor, fileMode: Number(st.mode) & 0o777 };
}

export function readHostFile(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/**
 * Docker's per-CPU masked paths: `/sys/devices/system/cpu/cpuN/thermal_throttle` for every CPU
 * of this host that has one (moby globs them when it builds the default spec). `sysRoot` is
 * the host's /sys, replaceable for tests. Paths are returned as the container sees them.
 */
export function thermalThrottlePaths(sysRoot = '/sys'): string[] {
  let names: string[];
  try {
    names = readdirSync(`${sysRoot}/devices/system/cpu`);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^cpu\d+$/.test(n) && existsSync(`${sysRoot}/devices/system/cpu/${n}/thermal_throttle`))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))
    .map((n) => `/sys/devices/system/cpu/${n}/thermal_throttle`);
}
