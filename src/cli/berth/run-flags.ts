/**
 * The flags `berth run` and `berth create` share, as docker spells them, and their translation
 * into a RunConfig (the engine's view of a container request).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BerthError } from '../../errors/index.js';
import type { DeviceRequest, MountRequest, RunConfig, Ulimit } from '../../engine/index.js';
import { addNetworkFlags, applyNetworkFlags, type NetworkFlags } from './network-flags.js';
import { addHealthFlags, healthConfigFrom, type HealthFlags } from './health-flags.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export interface RunFlags extends NetworkFlags, HealthFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  groupAdd: string[];
  entrypoint?: string;
  hostname?: string;
  domainname?: string;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  readOnly?: boolean;
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  ulimit: string[];
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  securityOpt: string[];
  device: string[];
  init?: boolean;
  restart?: string;
  label: string[];
  logOpt: string[];
  logDriver?: string;
  stopSignal?: string;
  stopTimeout?: string;
  pull?: string;
  platform?: string;
  runtime?: string;
  userns?: string;
  shmSize?: string;
  sysctl: string[];
  oomScoreAdj?: string;
  cgroupParent?: string;
  sigProxy?: boolean;
  detachKeys?: string;
}

/** Adds the shared flags to `run` or `create`. */
export function addRunFlags(cmd: Command): Command {
  return addHealthFlags(addNetworkFlags(cmd))
    .option('-i, --interactive', 'keep STDIN open')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('--detach-keys <keys>', 'key sequence to detach (default ctrl-p,ctrl-q)')
    .option('--rm', 'remove the container when it exits')
    .option('--name <name>', 'assign a name to the container')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'username or UID (format: <name|uid>[:<group|gid>])')
    .option('--group-add <group>', 'add an additional group (repeatable)', collect, [])
    .option('--entrypoint <cmd>', 'overwrite the default ENTRYPOINT of the image')
    .option('-h, --hostname <name>', 'container host name')
    .option('--domainname <name>', 'container NIS domain name')
    .option('-v, --volume <src:dst[:ro]>', 'bind mount a host path or a named volume (repeatable)', collect, [])
    .option('--mount <spec>', 'type=bind|volume|tmpfs,source=...,target=...[,readonly] (repeatable)', collect, [])
    .option('--tmpfs <dst[:opts]>', 'mount a tmpfs (repeatable)', collect, [])
    .option('--read-only', "mount the container's root filesystem as read only")
    .option('-m, --memory <bytes>', 'memory limit (e.g. 64m)')
    .option('--memory-swap <bytes>', 'memory plus swap limit; -1 for unlimited swap')
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--cpus <n>', 'number of CPUs')
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpu-quota <us>', 'CFS quota')
    .option('--cpu-period <us>', 'CFS period')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <list>', 'memory nodes in which to allow execution')
    .option('--pids-limit <n>', 'tune container pids limit (-1 for unlimited)')
    .option('--ulimit <name=soft[:hard]>', 'ulimit options (repeatable)', collect, [])
    .option('--cap-add <cap>', 'add Linux capabilities (repeatable)', collect, [])
    .option('--cap-drop <cap>', 'drop Linux capabilities (repeatable)', collect, [])
    .option('--privileged', 'give extended privileges to this container')
    .option('--security-opt <opt>', 'seccomp=unconfined|PROFILE.json, no-new-privileges (repeatable)', collect, [])
    .option('--device <host[:container[:rwm]]>', 'add a host device (repeatable)', collect, [])
    .option('--init', 'run an init inside the container that forwards signals and reaps processes')
    .option('--restart <policy>', 'no, on-failure[:max-retries], always, unless-stopped', 'no')
    .option('-l, --label <key=value>', 'set metadata on a container (repeatable)', collect, [])
    .option('--log-driver <driver>', 'logging driver (json-file only)')
    .option('--log-opt <opt>', 'log driver options: max-size, max-file (repeatable)', collect, [])
    .option('--stop-signal <signal>', 'signal to stop the container')
    .option('--stop-timeout <seconds>', 'timeout (in seconds) to stop a container')
    .option('--pull <policy>', 'pull image before running: always, missing, never', 'missing')
    .option('--platform <os/arch>', 'set platform if server is multi-platform capable')
    .option('--runtime <runtime>', 'runtime to use for this container: berth, runc, crun or a path')
    .option('--userns <mode>', 'user namespace: host, auto, or <uid>:<gid>:<size> (container root maps to that host range)')
    .option('--shm-size <bytes>', 'size of /dev/shm')
    .option('--sysctl <key=value>', 'sysctl options (repeatable)', collect, [])
    .option('--oom-score-adj <n>', "tune host's OOM preferences (-1000 to 1000)")
    .option('--cgroup-parent <path>', 'optional parent cgroup for the container');
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** docker's RAMInBytes: "512", "64m", "1.5g", "2GiB"... */
export function parseBytes(s: string, flag: string): number {
  const m = /^(-?\d+(?:\.\d+)?)\s*([kmgtb]?)(?:i?b)?$/i.exec(s.trim());
  if (!m) throw new BerthError('INVALID_ARGUMENT', `invalid ${flag} ${JSON.stringify(s)}: use a size like 512m or 1g`);
  return Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

function parseInt10(s: string, flag: string): number {
  if (!/^-?\d+$/.test(s.trim())) throw new BerthError('INVALID_ARGUMENT', `invalid ${flag} ${JSON.stringify(s)}: not an integer`);
  return Number(s);
}

/** docker --env-file: KEY=VALUE lines, `#` comments, a bare KEY takes berth's own value. */
export function readEnvFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw BerthError.wrap(err, `read env file ${JSON.stringify(path)}`, 'INVALID_ARGUMENT');
  }
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    if (/\s/.test(line.split('=', 1)[0])) throw new BerthError('INVALID_ARGUMENT', `env file ${path}: variable ${JSON.stringify(line.split('=', 1)[0])} contains whitespaces`);
    out.push(line);
  }
  return out;
}

/** -v SRC:DST[:OPTS] / -v DST: a host path (absolute) or a named volume; `-v /dst` alone is anonymous. */
export function parseVolume(spec: string): MountRequest {
  const parts = spec.split(':');
  let src: string | undefined;
  let dst: string;
  let opts = '';
  if (parts.length === 1) dst = parts[0];
  else if (parts.length === 2) [src, dst] = parts as [string, string];
  else if (parts.length === 3) [src, dst, opts] = parts as [string, string, string];
  else throw new BerthError('INVALID_ARGUMENT', `invalid volume specification: ${JSON.stringify(spec)}`);
  if (!dst || !dst.startsWith('/')) throw new BerthError('INVALID_ARGUMENT', `invalid volume specification: ${JSON.stringify(spec)}: the destination must be an absolute path`);
  const o = opts ? opts.split(',') : [];
  for (const x of o) {
    if (!['ro', 'rw', 'z', 'Z', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'nocopy'].includes(x)) {
      throw new BerthError('INVALID_ARGUMENT', `invalid volume specification: ${JSON.stringify(spec)}: unknown option ${JSON.stringify(x)}`);
    }
  }
  const readOnly = o.includes('ro');
  const propagation = o.find((x) => /^r?(private|shared|slave)$/.test(x));
  const noCopy = o.includes('nocopy') ? { noCopy: true } : {};
  if (src === undefined) return { type: 'volume', target: dst, readOnly, ...noCopy };
  if (src.startsWith('/') || src.startsWith('.')) {
    return { type: 'bind', source: resolve(src), target: dst, readOnly, ...(propagation ? { propagation } : {}) };
  }
  return { type: 'volume', source: src, target: dst, readOnly, ...noCopy };
}

/** --mount type=...,source=...,target=...,readonly,tmpfs-size=...,tmpfs-mode=...,bind-propagation=... */
export function parseMount(spec: string): MountRequest {
  const kv = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    kv.set((eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase(), eq < 0 ? 'true' : part.slice(eq + 1));
  }
  const type = kv.get('type') ?? 'volume';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw new BerthError('INVALID_ARGUMENT', `invalid --mount ${JSON.stringify(spec)}: type must be bind, volume or tmpfs`);
  const target = kv.get('target') ?? kv.get('destination') ?? kv.get('dst');
  if (!target) throw new BerthError('INVALID_ARGUMENT', `invalid --mount ${JSON.stringify(spec)}: target is required`);
  const source = kv.get('source') ?? kv.get('src');
  const ro = kv.get('readonly') ?? kv.get('ro');
  const m: MountRequest = { type, target, readOnly: ro === 'true' || ro === '1' };
  if (type === 'bind') {
    if (!source) throw new BerthError('INVALID_ARGUMENT', `invalid --mount ${JSON.stringify(spec)}: source is required for bind`);
    m.source = resolve(source);
    const p = kv.get('bind-propagation');
    if (p) m.propagation = p;
  } else if (type === 'volume') {
    if (source) m.source = source;
    const nc = kv.get('volume-nocopy');
    if (nc === 'true' || nc === '1') m.noCopy = true;
  } else {
    if (source) throw new BerthError('INVALID_ARGUMENT', `invalid --mount ${JSON.stringify(spec)}: tmpfs takes no source`);
    const size = kv.get('tmpfs-size');
    if (size) m.tmpfsSize = parseBytes(size, 'tmpfs-size');
    const mode = kv.get('tmpfs-mode');
    if (mode) m.tmpfsMode = parseInt(mode, 8);
  }
  return m;
}

/** --tmpfs /dst[:size=64m,mode=1777,ro] */
export function parseTmpfs(spec: string): MountRequest {
  const i = spec.indexOf(':');
  const target = i < 0 ? spec : spec.slice(0, i);
  const m: MountRequest = { type: 'tmpfs', target };
  for (const o of i < 0 ? [] : spec.slice(i + 1).split(',')) {
    if (o.startsWith('size=')) m.tmpfsSize = parseBytes(o.slice(5), '--tmpfs size');
    else if (o.startsWith('mode=')) m.tmpfsMode = parseInt(o.slice(5), 8);
    else if (o === 'ro') m.readOnly = true;
  }
  return m;
}

export function parseUlimit(s: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s);
  if (!m) throw new BerthError('INVALID_ARGUMENT', `invalid ulimit argument: ${s} (use name=soft[:hard])`);
  const soft = Number(m[2]);
  return { name: m[1], soft, hard: m[3] !== undefined ? Number(m[3]) : soft };
}

export function parseDevice(s: string): DeviceRequest {
  const parts = s.split(':');
  const hostPath = parts[0];
  let containerPath = hostPath;
  let permissions = 'rwm';
  if (parts.length === 2) {
    if (/^[rwm]+$/.test(parts[1])) permissions = parts[1];
    else containerPath = parts[1];
  } else if (parts.length === 3) {
    containerPath = parts[1];
    permissions = parts[2];
  } else if (parts.length > 3) throw new BerthError('INVALID_ARGUMENT', `invalid device specification: ${s}`);
  return { hostPath, containerPath, permissions };
}

function keyValues(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new BerthError('INVALID_ARGUMENT', `invalid ${flag} ${JSON.stringify(kv)}`);
    if (eq < 0) out[kv] = '';
    else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** The RunConfig for `run`/`create IMAGE [COMMAND...]`. */
export function runConfigFrom(image: string, command: string[], f: RunFlags): RunConfig {
  const c: RunConfig = { image };
  if (f.name) c.name = f.name;
  if (command.length) c.cmd = command;
  if (f.entrypoint !== undefined) c.entrypoint = f.entrypoint === '' ? [] : [f.entrypoint];
  const env = [...f.envFile.flatMap(readEnvFile), ...f.env];
  if (env.length) c.env = env;
  if (f.workdir) c.workdir = f.workdir;
  if (f.user) c.user = f.user;
  if (f.groupAdd.length) c.groupAdd = f.groupAdd;
  if (f.hostname) c.hostname = f.hostname;
  if (f.domainname) c.domainname = f.domainname;
  if (f.tty) c.tty = true;
  if (f.interactive) c.openStdin = true;
  if (f.readOnly) c.readOnly = true;
  if (f.privileged) c.privileged = true;
  if (f.capAdd.length) c.capAdd = f.capAdd;
  if (f.capDrop.length) c.capDrop = f.capDrop;
  if (f.securityOpt.length) c.securityOpt = f.securityOpt;
  if (f.memory !== undefined) c.memory = parseBytes(f.memory, '--memory');
  if (f.memorySwap !== undefined) c.memorySwap = f.memorySwap === '-1' ? -1 : parseBytes(f.memorySwap, '--memory-swap');
  if (f.memoryReservation !== undefined) c.memoryReservation = parseBytes(f.memoryReservation, '--memory-reservation');
  if (f.cpus !== undefined) {
    const n = Number(f.cpus);
    if (!Number.isFinite(n)) throw new BerthError('INVALID_ARGUMENT', `invalid --cpus ${JSON.stringify(f.cpus)}`);
    c.cpus = n;
  }
  if (f.cpuShares !== undefined) c.cpuShares = parseInt10(f.cpuShares, '--cpu-shares');
  if (f.cpuQuota !== undefined) c.cpuQuota = parseInt10(f.cpuQuota, '--cpu-quota');
  if (f.cpuPeriod !== undefined) c.cpuPeriod = parseInt10(f.cpuPeriod, '--cpu-period');
  if (f.cpusetCpus !== undefined) c.cpusetCpus = f.cpusetCpus;
  if (f.cpusetMems !== undefined) c.cpusetMems = f.cpusetMems;
  if (f.pidsLimit !== undefined) c.pidsLimit = parseInt10(f.pidsLimit, '--pids-limit');
  if (f.ulimit.length) c.ulimits = f.ulimit.map(parseUlimit);
  if (f.device.length) c.devices = f.device.map(parseDevice);
  const mounts = [...f.volume.map(parseVolume), ...f.mount.map(parseMount), ...f.tmpfs.map(parseTmpfs)];
  if (mounts.length) c.mounts = mounts;
  if (f.label.length) c.labels = keyValues(f.label, '--label');
  if (f.init) c.init = true;
  if (f.stopSignal) c.stopSignal = f.stopSignal;
  const health = healthConfigFrom(f);
  if (health) c.healthcheck = health;
  if (f.stopTimeout !== undefined) c.stopTimeout = parseInt10(f.stopTimeout, '--stop-timeout');
  if (f.shmSize !== undefined) c.shmSize = parseBytes(f.shmSize, '--shm-size');
  if (f.sysctl.length) c.sysctls = keyValues(f.sysctl, '--sysctl');
  if (f.oomScoreAdj !== undefined) c.oomScoreAdj = parseInt10(f.oomScoreAdj, '--oom-score-adj');
  applyNetworkFlags(c, f);
  if (f.restart && f.restart !== 'no') c.restart = f.restart;
  if (f.rm) c.autoRemove = true;
  if (f.cgroupParent) c.cgroupParent = f.cgroupParent;
  if (f.platform) c.platform = f.platform;
  if (f.runtime) c.runtime = f.runtime;
  if (f.userns && f.userns !== 'host') c.userns = f.userns;
  if (f.logDriver && f.logDriver !== 'json-file') throw new BerthError('NOT_IMPLEMENTED', `log driver ${JSON.stringify(f.logDriver)}: only json-file is supported`);
  for (const [k, v] of Object.entries(keyValues(f.logOpt, '--log-opt'))) {
    if (k === 'max-size') c.logMaxSize = parseBytes(v, '--log-opt max-size');
    else if (k === 'max-file') {
      c.logMaxFiles = parseInt10(v, '--log-opt max-file');
      if (c.logMaxFiles < 1) throw new BerthError('INVALID_ARGUMENT', 'max-file cannot be less than 1');
    } else throw new BerthError('INVALID_ARGUMENT', `unknown log opt '${k}' for json-file log driver`);
  }
  if (c.logMaxFiles && c.logMaxFiles > 1 && !c.logMaxSize) throw new BerthError('INVALID_ARGUMENT', "max-file can only be used with max-size");
  return c;
}
