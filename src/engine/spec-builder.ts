import { BerthError } from '../errors/index.js';
import type { Capabilities, Mount, Rlimit, Spec, Resources, Namespace } from '../spec/runtime.js';
import {
  ALL_CAPABILITIES,
  DEFAULT_CAPABILITIES,
  DEFAULT_DEVICE_RULES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH_ENV,
  DEFAULT_READONLY_PATHS,
  defaultMounts,
} from './defaults.js';
import type { ImageConfigView, RunConfig } from './run-config.js';
import type { ResolvedUser } from './user.js';
import type { IdRange } from './userns.js';

export interface BuildSpecInput {
  id: string;
  config: RunConfig;
  image: ImageConfigView;
  /** Absolute path of the container's mounted rootfs. */
  rootfs: string;
  user: ResolvedUser;
  /** Host paths of named volumes, by name (resolved by the engine before). */
  volumePaths?: Record<string, string>;
  /** Namespaces to join instead of creating (network of another container, a pod...). */
  joinNamespaces?: Namespace[];
  /** --userns: a new user namespace mapping container ids 0..size-1 to this host range. */
  idRange?: IdRange;
  /** Current hard limits of this host, so a request above them fails here, clearly. */
  hostHardLimits?: Record<string, number>;
  /** Host-dependent paths masked besides docker's fixed list (its per-CPU thermal_throttle dirs). */
  extraMaskedPaths?: string[];
  /** Path of berth's init binary for --init. */
  initPath?: string;
  /** Seccomp, when the security layer supplies one (undefined: unconfined). */
  seccomp?: Spec['linux'] extends infer L ? (L extends { seccomp?: infer S } ? S : never) : never;
}

/** args = entrypoint + cmd, with docker's override rules. */
export function processArgs(config: RunConfig, image: ImageConfigView): string[] {
  const entrypoint = config.entrypoint ?? image.Entrypoint ?? [];
  const cmd = config.cmd && config.cmd.length ? config.cmd : config.entrypoint !== undefined ? [] : (image.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new BerthError('INVALID_ARGUMENT', 'no command specified: the image has no Cmd or Entrypoint; give one after the image name');
  return args;
}

/** Env by key, later wins: defaults, then the image's, then the user's. */
export function mergeEnv(...lists: (string[] | undefined)[]): string[] {
  const env = new Map<string, string>();
  for (const list of lists) {
    for (const kv of list ?? []) {
      const eq = kv.indexOf('=');
      const key = eq < 0 ? kv : kv.slice(0, eq);
      if (!key) throw new BerthError('INVALID_ARGUMENT', `invalid environment variable ${JSON.stringify(kv)}`);
      if (eq < 0) {
        // `-e NAME` takes the value from berth's own environment, as docker does
        const v = process.env[key];
        if (v !== undefined) env.set(key, `${key}=${v}`);
        continue;
      }
      env.set(key, kv);
    }
  }
  return [...env.values()];
}

function normalizeCap(c: string): string {
  const up = c.trim().toUpperCase();
  return up === 'ALL' ? 'ALL' : up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/** Docker's capability arithmetic: defaults (or all when privileged), + add, - drop; ALL works both ways. */
export function capabilitySet(config: RunConfig): string[] {
  if (config.privileged) return [...ALL_CAPABILITIES];
  const add = (config.capAdd ?? []).map(normalizeCap);
  const drop = (config.capDrop ?? []).map(normalizeCap);
  for (const c of [...add, ...drop]) {
    if (c !== 'ALL' && !(ALL_CAPABILITIES as readonly string[]).includes(c)) {
      throw new BerthError('INVALID_ARGUMENT', `unknown capability ${JSON.stringify(c)}`);
    }
  }
  let caps = new Set<string>(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES);
  if (add.includes('ALL')) caps = new Set(ALL_CAPABILITIES);
  for (const c of add) if (c !== 'ALL') caps.add(c);
  for (const c of drop) if (c !== 'ALL') caps.delete(c);
  return ALL_CAPABILITIES.filter((c) => caps.has(c));
}

const RLIMITS: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

function rlimits(config: RunConfig, hostHard: Record<string, number> | undefined): Rlimit[] | undefined {
  if (!config.ulimits?.length) return undefined;
  return config.ulimits.map((u) => {
    const type = RLIMITS[u.name];
    if (!type) throw new BerthError('INVALID_ARGUMENT', `invalid ulimit type ${JSON.stringify(u.name)}`);
    if (u.soft > u.hard) throw new BerthError('INVALID_ARGUMENT', `ulimit ${u.name}: soft limit ${u.soft} is above hard limit ${u.hard}`);
    const max = hostHard?.[type];
    if (max !== undefined && max >= 0 && u.hard > max) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        `ulimit ${u.name}=${u.soft}:${u.hard}: the hard limit is above this host's ${max}, and raising it needs CAP_SYS_RESOURCE`,
      );
    }
    return { type, soft: u.soft, hard: u.hard };
  });
}

function resources(config: RunConfig): Resources {
  const r: Resources = { devices: config.privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES.map((d) => ({ ...d })) };
  if (config.memory !== undefined) {
    if (config.memory > 0 && config.memory < 6 * 1024 * 1024) {
      throw new BerthError('INVALID_ARGUMENT', `minimum memory limit allowed is 6MB (asked for ${config.memory} bytes)`);
    }
    r.memory = { limit: config.memory };
    // docker: --memory-swap is memory+swap; unset means twice the memory; -1 unlimited
    if (config.memorySwap !== undefined) {
      if (config.memorySwap !== -1 && config.memorySwap < config.memory) {
        throw new BerthError('INVALID_ARGUMENT', 'minimum memoryswap limit should be larger than memory limit, see usage');
      }
      r.memory.swap = config.memorySwap;
    } else if (config.memory > 0) {
      r.memory.swap = config.memory * 2;
    }
  } else if (config.memorySwap !== undefined && config.memorySwap !== -1) {
    throw new BerthError('INVALID_ARGUMENT', 'you should always set the memory limit when using the memoryswap limit');
  }
  if (config.memoryReservation !== undefined) r.memory = { ...r.memory, reservation: config.memoryReservation };
  const cpu = cpuResources(config);
  if (cpu) r.cpu = cpu;
  if (config.pidsLimit !== undefined && config.pidsLimit !== 0) r.pids = { limit: config.pidsLimit };
  return r;
}

function userMounts(config: RunConfig, volumePaths: Record<string, string>): Mount[] {
  return (config.mounts ?? []).map((m) => {
    if (!m.target.startsWith('/')) throw new BerthError('INVALID_ARGUMENT', `invalid mount target ${JSON.stringify(m.target)}: must be absolute`);
    if (m.type === 'tmpfs') {
      const opts = ['nosuid', 'nodev', 'noexec'];
      if (m.tmpfsSize) opts.push(`size=${m.tmpfsSize}`);
      opts.push(`mode=${(m.tmpfsMode ?? 0o1777).toString(8)}`);
      if (m.readOnly) opts.push('ro');
      return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: opts };
    }
    const source = m.type === 'volume' ? volumePaths[m.source ?? ''] : m.source;
    if (!source) throw new BerthError('INVALID_ARGUMENT', `mount at ${m.target}: no source`);
    return {
      destination: m.target,
      type: 'bind',
      source,
      options: ['rbind', m.readOnly ? 'ro' : 'rw', m.propagation ?? 'rprivate'],
    };
  });
}

/**
 * The OCI runtime spec for a container: image config + user flags + docker's secure defaults.
 * Pure: reads nothing, so every rule is unit-tested.
 */
export function buildSpec(input: BuildSpecInput): Spec {
  const { config, image } = input;
  const privileged = !!config.privileged;
  const caps = capabilitySet(config);
  const hostname = config.hostname ?? input.id.slice(0, 12);
  const noNewPrivileges = (config.securityOpt ?? []).some((o) => /^no-new-privileges(?:(?:=|:)true)?$/.test(o));
  const env = mergeEnv([DEFAULT_PATH_ENV], [`HOSTNAME=${hostname}`], config.tty ? ['TERM=xterm'] : [], image.Env, config.env);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${input.user.home}`);
  let args = processArgs(config, image);
  const mounts = [...defaultMounts({ privileged, shmSize: config.shmSize }), ...userMounts(config, input.volumePaths ?? {})];
  if (config.init) {
    if (!input.initPath) throw new BerthError('FAILED_PRECONDITION', '--init: berth\'s init binary is not built');
    mounts.push({ destination: '/sbin/berth-init', type: 'bind', source: input.initPath, options: ['bind', 'ro'] });
    args = ['/sbin/berth-init', '--', ...args];
  }
  // A later mount at the same destination replaces an earlier default (e.g. -v over /dev/shm).
  const byDest = new Map<string, Mount>();
  for (const m of mounts) {
    byDest.delete(m.destination);
    byDest.set(m.destination, m);
  }
  const capabilities: Capabilities = { bounding: caps, effective: caps, permitted: caps };
  const workdir = config.workdir || image.WorkingDir || '/';
  if (!workdir.startsWith('/')) throw new BerthError('INVALID_ARGUMENT', `the working directory ${JSON.stringify(workdir)} is invalid: it needs to be an absolute path`);
  const namespaces: Namespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
  if (config.networkMode !== 'host') namespaces.push({ type: 'network' });
  for (const j of input.joinNamespaces ?? []) {
    const i = namespaces.findIndex((n) => n.type === j.type);
    if (i >= 0) namespaces[i] = j;
    else namespaces.push(j);
  }
  const spec: Spec = {
    // 1.1.0: every field used here exists in it, and crun 1.8 refuses newer versions
    ociVersion: '1.1.0',
    process: {
      terminal: !!config.tty,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: input.user.additionalGids },
      args,
      env,
      cwd: workdir,
      capabilities,
      noNewPrivileges,
    },
    root: { path: input.rootfs, readonly: !!config.readOnly },
    hostname,
    mounts: [...byDest.values()],
    annotations: { 'org.opencontainers.image.ref.name': config.image },
    linux: {
      namespaces,
      resources: resources(config),
      maskedPaths: privileged ? [] : [...DEFAULT_MASKED_PATHS, ...(input.extraMaskedPaths ?? [])],
      readonlyPaths: privileged ? [] : DEFAULT_READONLY_PATHS,
    },
  };
  if (input.idRange) {
    // runtime-spec config-linux.md "User namespace mappings": the runtime writes the maps
    const r = input.idRange;
    namespaces.push({ type: 'user' });
    spec.linux!.uidMappings = [{ containerID: 0, hostID: r.uid, size: r.size }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: r.gid, size: r.size }];
  }
  if (config.domainname) spec.domainname = config.domainname;
  const rl = rlimits(config, input.hostHardLimits);
  if (rl) spec.process!.rlimits = rl;
  if (config.oomScoreAdj !== undefined) spec.process!.oomScoreAdj = config.oomScoreAdj;
  if (config.sysctls && Object.keys(config.sysctls).length) spec.linux!.sysctl = { ...config.sysctls };
  if (input.seccomp && !privileged) spec.linux!.seccomp = input.seccomp;
  for (const d of config.devices ?? []) {
    if (d.type === undefined || d.major === undefined || d.minor === undefined) {
      throw new BerthError('INVALID_ARGUMENT', `device ${JSON.stringify(d.hostPath)}: not a character or block device`);
    }
    if (!/^[rwm]+$/.test(d.permissions)) {
      throw new BerthError('INVALID_ARGUMENT', `device ${JSON.stringify(d.hostPath)}: invalid permissions ${JSON.stringify(d.permissions)}: use some of "rwm"`);
    }
    (spec.linux!.devices ??= []).push({ type: d.type, path: d.containerPath, major: d.major, minor: d.minor, fileMode: d.fileMode ?? 0o666, uid: 0, gid: 0 });
    spec.linux!.resources!.devices!.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.permissions });
  }
  return spec;
}

/** The CPU part of the resources from docker's flags (create and update alike); undefined: none asked. */
export function cpuResources(c: Pick<RunConfig, 'cpus' | 'cpuQuota' | 'cpuPeriod' | 'cpuShares' | 'cpusetCpus' | 'cpusetMems'>): Resources['cpu'] | undefined {
  const cpu: NonNullable<Resources['cpu']> = {};
  if (c.cpus !== undefined) {
    if (!(c.cpus > 0)) throw new BerthError('INVALID_ARGUMENT', `invalid --cpus ${c.cpus}: must be above 0`);
    // --cpus N: a quota of N periods of 100 ms (docker's NanoCPUs)
    cpu.period = 100_000;
    cpu.quota = Math.round(c.cpus * 100_000);
  }
  if (c.cpuQuota !== undefined) cpu.quota = c.cpuQuota;
  if (c.cpuPeriod !== undefined) cpu.period = c.cpuPeriod;
  if (c.cpuShares !== undefined) cpu.shares = c.cpuShares;
  if (c.cpusetCpus !== undefined) cpu.cpus = c.cpusetCpus;
  if (c.cpusetMems !== undefined) cpu.mems = c.cpusetMems;
  return Object.keys(cpu).length ? cpu : undefined;
}
