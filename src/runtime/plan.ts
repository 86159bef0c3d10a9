/**
 * Spec -> launch plan: a flat, fully resolved list of operations that the C helper
 * (native/berth-init.c) executes between clone() and execve(). Pure: everything the compiler
 * needs from the host (helper-independent facts such as cgroup mounts or the caller's uid) is
 * passed in. The line format is documented in docs/runtime-native.md.
 */
import { isAbsolute, posix } from 'node:path';
import { BerthError } from '../errors/index.js';
import type { Mount, Namespace, NamespaceType, Process, Spec } from '../spec/runtime.js';

/** One plan line: an op name and its arguments. */
export type PlanOp = readonly [op: string, ...args: (string | number)[]];

/** A cgroup hierarchy mounted on the host, as read from /proc/self/mountinfo. */
export interface HostCgroupMount {
  /** Mount point on the host, e.g. /sys/fs/cgroup/cpu,cpuacct */
  mountPoint: string;
  fstype: 'cgroup' | 'cgroup2';
  /** Super options without rw/ro, e.g. "cpu,cpuacct" or "xattr,name=systemd". */
  options: string;
}

export interface LaunchPlanInput {
  spec: Spec;
  bundle: string;
  /** Absolute path of the exec fifo the init blocks on until `start`. */
  fifo?: string;
  cgroupProcsFiles?: string[];
  /** Where the helper moves itself after clone when it stays (foreground): its own cgroups. */
  cgroupReturnFiles?: string[];
  consoleSocket?: string;
  preserveFds?: number;
  noPivot?: boolean;
  foreground?: boolean;
  /** Pause for the caller's hooks after mounts, before pivot_root. */
  hooks?: boolean;
  /** uid the helper runs as; not 0 means rootless (setgroups must be denied). */
  hostUid?: number;
  hostCgroups?: HostCgroupMount[];
  /** A compiled seccomp filter: struct sock_filter[] bytes. */
  seccompBpf?: Uint8Array;
  seccompFlags?: number;
  seccompListener?: SeccompListener;
}

// mount(2) flags, from <linux/mount.h>.
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  I_VERSION: 1 << 23,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

/** Mount options that are flags: [set, clear]. Everything else goes to the fs as data. */
const MOUNT_FLAGS: Record<string, readonly [set: number, clear: number]> = {
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0],
  suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0],
  dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0],
  exec: [0, MS.NOEXEC],
  sync: [MS.SYNCHRONOUS, 0],
  async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0],
  remount: [MS.REMOUNT, 0],
  mand: [MS.MANDLOCK, 0],
  nomand: [0, MS.MANDLOCK],
  atime: [0, MS.NOATIME],
  noatime: [MS.NOATIME, 0],
  diratime: [0, MS.NODIRATIME],
  nodiratime: [MS.NODIRATIME, 0],
  bind: [MS.BIND, 0],
  rbind: [MS.BIND | MS.REC, 0],
  relatime: [MS.RELATIME, 0],
  norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0],
  nostrictatime: [0, MS.STRICTATIME],
  lazytime: [MS.LAZYTIME, 0],
  nolazytime: [0, MS.LAZYTIME],
  iversion: [MS.I_VERSION, 0],
  noiversion: [0, MS.I_VERSION],
  silent: [MS.SILENT, 0],
  loud: [0, MS.SILENT],
  nosymfollow: [MS.NOSYMFOLLOW, 0],
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Options the runtime-spec lists that berth accepts and ignores (they steer other runtimes). */
const IGNORED_OPTIONS = new Set(['tmpcopyup', 'defaults']);

/** capabilities(7) numbers, index = bit. */
export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** getrlimit(2) resource numbers. */
export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** Devices every container gets (runtime-spec config-linux.md "Default Devices"). */
const DEFAULT_DEVICES: readonly [path: string, major: number, minor: number][] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
];
const DEFAULT_SYMLINKS: readonly [link: string, target: string][] = [
  ['/dev/fd', '/proc/self/fd'],
  ['/dev/stdin', '/proc/self/fd/0'],
  ['/dev/stdout', '/proc/self/fd/1'],
  ['/dev/stderr', '/proc/self/fd/2'],
  ['/dev/ptmx', 'pts/ptmx'],
];

export interface MountFlags {
  flags: number;
  propagation: number;
  data: string;
}

/** Split OCI mount options into mount(2) flags, a propagation change and fs data. */
export function parseMountOptions(options: readonly string[] = [], where = 'mount'): MountFlags {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = MOUNT_FLAGS[o];
    if (f) {
      flags = (flags | f[0]) & ~f[1];
    } else if (o in PROPAGATION) {
      propagation = PROPAGATION[o];
    } else if (IGNORED_OPTIONS.has(o)) {
      continue;
    } else if (o === 'idmap' || o === 'ridmap' || o.startsWith('X-mount.')) {
      throw new BerthError('NOT_IMPLEMENTED', `${where}: mount option "${o}" is not supported`);
    } else {
      data.push(o);
    }
  }
  return { flags, propagation, data: data.join(',') };
}

/** Capability names -> 64-bit mask (as a hex string for the plan). */
export function capMask(names: readonly string[] | undefined, where: string): string {
  let mask = 0n;
  for (const n of names ?? []) {
    const bit = CAPABILITIES.indexOf(n as (typeof CAPABILITIES)[number]);
    if (bit < 0) throw new BerthError('INVALID_ARGUMENT', `${where}: unknown capability "${n}"`);
    mask |= 1n << BigInt(bit);
  }
  return `0x${mask.toString(16)}`;
}

const NS_ORDER: NamespaceType[] = ['user', 'mount', 'pid', 'network', 'ipc', 'uts', 'cgroup', 'time'];

function namespaceOps(namespaces: readonly Namespace[]): PlanOp[] {
  const ops: PlanOp[] = [];
  const sorted = [...namespaces].sort((a, b) => NS_ORDER.indexOf(a.type) - NS_ORDER.indexOf(b.type));
  for (const ns of sorted) ops.push(ns.path ? ['NSJOIN', ns.type, ns.path] : ['NSNEW', ns.type]);
  return ops;
}

const IOPRIO_CLASSES: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
/** personality(2) execution domains the runtime-spec names. */
const PERSONALITIES: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

/** RLIM_INFINITY is 2^64-1, which JSON numbers round up to 2^64: map it back exactly. */
function rlimitValue(v: number): string {
  return v >= 2 ** 64 - 1 ? '18446744073709551615' : BigInt(v).toString();
}

/** Ops for the process part, shared by create and exec. */
export function processOps(proc: Process): PlanOp[] {
  const ops: PlanOp[] = [];
  if (proc.terminal) ops.push(['TERMINAL', proc.consoleSize?.height ?? 0, proc.consoleSize?.width ?? 0]);
  for (const r of proc.rlimits ?? []) {
    const res = RLIMITS[r.type];
    if (res === undefined) throw new BerthError('INVALID_ARGUMENT', `process.rlimits: unknown rlimit "${r.type}"`);
    ops.push(['RLIMIT', res, rlimitValue(r.soft), rlimitValue(r.hard), r.type]);
  }
  if (proc.oomScoreAdj !== undefined) ops.push(['OOMSCOREADJ', proc.oomScoreAdj]);
  if (proc.ioPriority) {
    // ioprio_set(2): class << 13 | level
    const cls = IOPRIO_CLASSES[proc.ioPriority.class];
    if (cls === undefined) throw new BerthError('INVALID_ARGUMENT', `process.ioPriority.class: unknown class "${proc.ioPriority.class}"`);
    ops.push(['IOPRIO', (cls << 13) | (proc.ioPriority.priority & 7)]);
  }
  if (proc.noNewPrivileges) ops.push(['NONEWPRIVS']);
  ops.push(['USER', proc.user.uid, proc.user.gid]);
  ops.push(['GROUPS', ...(proc.user.additionalGids ?? [])]);
  // runc's default when the spec has none
  ops.push(['UMASK', proc.user.umask ?? 0o022]);
  const caps = proc.capabilities;
  if (caps) {
    ops.push([
      'CAPS',
      capMask(caps.bounding, 'process.capabilities.bounding'),
      capMask(caps.effective, 'process.capabilities.effective'),
      capMask(caps.permitted, 'process.capabilities.permitted'),
      capMask(caps.inheritable, 'process.capabilities.inheritable'),
      capMask(caps.ambient, 'process.capabilities.ambient'),
    ]);
  }
  ops.push(['CWD', proc.cwd]);
  for (const e of proc.env ?? []) ops.push(['ENV', e]);
  for (const a of proc.args ?? []) ops.push(['ARG', a]);
  return ops;
}

function seccompOps(bpf: Uint8Array | undefined, flags = 0, listener?: SeccompListener): PlanOp[] {
  if (!bpf || bpf.length === 0) return [];
  if (bpf.length % 8 !== 0) throw new BerthError('INTERNAL', 'seccomp: BPF program length is not a multiple of 8');
  const ops: PlanOp[] = [['SECCOMP', flags, Buffer.from(bpf).toString('hex')]];
  // The helper connects to path before pivot_root and sends parts joined by its host pid.
  if (listener) ops.push(['SECCOMPLISTENER', listener.path, ...listener.parts]);
  return ops;
}

/** linux.seccomp.listenerPath and the state JSON split where the process's host pid goes. */
export interface SeccompListener {
  path: string;
  parts: string[];
}

function resolveSource(m: Mount, bundle: string): string {
  const src = m.source ?? m.type ?? 'none';
  return isAbsolute(src) ? src : posix.join(bundle, src);
}

/**
 * tmpfs plus one mount per host hierarchy (cgroup v1/hybrid). `fresh`: mount each hierarchy
 * anew, which in a new cgroup ns shows the container's cgroup as its root; otherwise bind the
 * container's own cgroup dirs (from cgroupProcsFiles), never a whole host hierarchy.
 */
function cgroupMountOps(m: Mount, f: MountFlags, input: LaunchPlanInput, fresh: boolean): PlanOp[] {
  const ops: PlanOp[] = [];
  const dest = m.destination;
  const ro = (f.flags & MS.RDONLY) !== 0;
  const base = f.flags & ~MS.RDONLY & ~MS.BIND & ~MS.REC;
  const hier = input.hostCgroups ?? [];
  const unified = hier.length === 1 && hier[0].fstype === 'cgroup2' && hier[0].mountPoint === '/sys/fs/cgroup';
  if (unified) {
    // cgroup v2 only: one cgroup2 fs, scoped by the cgroup ns (or bind the container's own dir)
    const own = (input.cgroupProcsFiles ?? []).find((p) => p.startsWith('/sys/fs/cgroup/'));
    if (fresh || !own) ops.push(['MOUNT', 'cgroup2', dest, 'cgroup2', base | (ro ? MS.RDONLY : 0), 0, '']);
    else ops.push(['MOUNT', posix.dirname(own), dest, '', MS.BIND | MS.REC | base | (ro ? MS.RDONLY : 0), 0, '']);
    return ops;
  }
  ops.push(['MOUNT', 'tmpfs', dest, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 0, 'mode=755']);
  for (const h of hier) {
    const name = posix.basename(h.mountPoint);
    const target = posix.join(dest, name);
    const own = (input.cgroupProcsFiles ?? []).find((p) => p.startsWith(`${h.mountPoint}/`));
    if (fresh) {
      ops.push(['MOUNT', 'cgroup', target, h.fstype, base | (ro ? MS.RDONLY : 0), 0, h.options]);
    } else if (own) {
      ops.push(['MOUNT', posix.dirname(own), target, '', MS.BIND | MS.REC | base | (ro ? MS.RDONLY : 0), 0, '']);
    } else {
      continue; // never show the host's whole hierarchy
    }
    // cpu -> cpu,cpuacct, as on the host
    if (name.includes(',')) {
      for (const part of name.split(',')) ops.push(['SYMLINK', posix.join(dest, part), name]);
    }
  }
  if (ro) ops.push(['REMOUNT', dest, MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC]);
  return ops;
}

/** Compile a validated spec into the plan that creates the container's init. */
export function compileLaunchPlan(input: LaunchPlanInput): PlanOp[] {
  const { spec, bundle } = input;
  const proc = spec.process;
  if (!proc) throw new BerthError('INVALID_ARGUMENT', 'config.json: process: required to create a container');
  if (!spec.root) throw new BerthError('INVALID_ARGUMENT', 'config.json: root: required');
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const has = (t: NamespaceType) => namespaces.find((n) => n.type === t);
  const ops: PlanOp[] = [['MODE', 'create']];

  for (const f of input.cgroupProcsFiles ?? []) ops.push(['CGROUP', f]);
  for (const f of input.cgroupReturnFiles ?? []) ops.push(['CGROUPLEAVE', f]);
  ops.push(...namespaceOps(namespaces));
  const user = has('user');
  if (user && !user.path) {
    for (const m of linux.uidMappings ?? []) ops.push(['UIDMAP', m.containerID, m.hostID, m.size]);
    if ((input.hostUid ?? 0) !== 0) ops.push(['SETGROUPS', 'deny']);
    for (const m of linux.gidMappings ?? []) ops.push(['GIDMAP', m.containerID, m.hostID, m.size]);
  }
  const time = has('time');
  if (time && !time.path) {
    for (const [clock, off] of Object.entries(linux.timeOffsets ?? {})) {
      ops.push(['TIMEOFF', clock, off.secs ?? 0, off.nanosecs ?? 0]);
    }
  }

  const rootfs = isAbsolute(spec.root.path) ? spec.root.path : posix.join(bundle, spec.root.path);
  ops.push(['ROOTFS', rootfs]);
  if (spec.root.readonly) ops.push(['ROOTRO']);
  if (linux.rootfsPropagation) ops.push(['ROOTPROP', PROPAGATION[linux.rootfsPropagation]]);
  if (input.noPivot) ops.push(['NOPIVOT']);
  if (linux.personality) {
    const p = PERSONALITIES[linux.personality.domain];
    if (p === undefined) throw new BerthError('INVALID_ARGUMENT', `linux.personality.domain: unknown domain "${linux.personality.domain}" (LINUX or LINUX32)`);
    if (linux.personality.flags?.length) throw new BerthError('NOT_IMPLEMENTED', 'linux.personality.flags: not supported');
    ops.push(['PERSONALITY', p]);
  }
  if (spec.hostname !== undefined) ops.push(['HOSTNAME', spec.hostname]);
  if (spec.domainname !== undefined) ops.push(['DOMAINNAME', spec.domainname]);

  let devIsBind = false;
  // cgroup v1 cannot be mounted from a non-initial user ns: bind our own cgroup dirs there
  const freshCgroups = !!has('cgroup') && !has('cgroup')?.path && !user;
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    const f = parseMountOptions(m.options, `mounts[${i}]`);
    if (m.type === 'bind' && !(f.flags & MS.BIND)) f.flags |= MS.BIND;
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      ops.push(...cgroupMountOps(m, f, input, freshCgroups));
      continue;
    }
    const bind = (f.flags & MS.BIND) !== 0;
    if (m.destination === '/dev' && bind) devIsBind = true;
    const source = bind ? resolveSource(m, bundle) : (m.source ?? m.type ?? 'none');
    ops.push(['MOUNT', source, m.destination, bind ? '' : (m.type ?? ''), f.flags, f.propagation, f.data]);
  }

  // Default devices unless /dev comes from the host (runc does the same).
  const devices = linux.devices ?? [];
  if (!devIsBind) {
    for (const [path, major, minor] of DEFAULT_DEVICES) {
      if (devices.some((d) => d.path === path)) continue;
      ops.push(['MKDEV', path, 'c', major, minor, 0o666, 0, 0]);
    }
  }
  for (const d of devices) {
    ops.push(['MKDEV', d.path, d.type === 'u' ? 'c' : d.type, d.major ?? 0, d.minor ?? 0, d.fileMode ?? 0o666, d.uid ?? 0, d.gid ?? 0]);
  }
  if (!devIsBind) for (const [link, target] of DEFAULT_SYMLINKS) ops.push(['SYMLINK', link, target]);

  for (const [k, v] of Object.entries(linux.sysctl ?? {})) ops.push(['SYSCTL', k, v]);
  for (const p of linux.readonlyPaths ?? []) ops.push(['ROPATH', p]);
  for (const p of linux.maskedPaths ?? []) ops.push(['MASK', p]);

  if (input.fifo) ops.push(['FIFO', input.fifo]);
  if (input.consoleSocket) ops.push(['CONSOLESOCKET', input.consoleSocket]);
  ops.push(['PRESERVEFDS', input.preserveFds ?? 0]);
  if (input.foreground) ops.push(['FOREGROUND']);
  if (input.hooks) ops.push(['HOOKS']);
  ops.push(...processOps(proc));
  ops.push(...seccompOps(input.seccompBpf, input.seccompFlags, input.seccompListener));
  return ops;
}

export interface ExecPlanInput {
  pid: number;
  process: Process;
  /** Namespaces of the container that differ from the caller's, as /proc/PID/ns/* paths. */
  namespaces: readonly Namespace[];
  cgroupProcsFiles?: string[];
  /** Where the helper moves itself after fork when it waits (not detached). */
  cgroupReturnFiles?: string[];
  consoleSocket?: string;
  preserveFds?: number;
  detach: boolean;
  seccompBpf?: Uint8Array;
  seccompFlags?: number;
  seccompListener?: SeccompListener;
}

/** Compile the plan that runs one more process inside a running container. */
export function compileExecPlan(input: ExecPlanInput): PlanOp[] {
  const ops: PlanOp[] = [['MODE', 'exec']];
  for (const f of input.cgroupProcsFiles ?? []) ops.push(['CGROUP', f]);
  for (const f of input.cgroupReturnFiles ?? []) ops.push(['CGROUPLEAVE', f]);
  ops.push(...namespaceOps(input.namespaces));
  ops.push(['ROOTDIR', `/proc/${input.pid}/root`]);
  if (input.consoleSocket) ops.push(['CONSOLESOCKET', input.consoleSocket]);
  ops.push(['PRESERVEFDS', input.preserveFds ?? 0]);
  if (input.detach) ops.push(['DETACH']);
  ops.push(...processOps(input.process));
  ops.push(...seccompOps(input.seccompBpf, input.seccompFlags, input.seccompListener));
  return ops;
}

/** Percent-encode one argument: bytes outside [A-Za-z0-9._/:,=@+-] become %XX; "" is "~". */
export function encodeArg(v: string | number): string {
  const s = String(v);
  if (s === '') return '~';
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9._/:,=@+-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decode one argument (the inverse of encodeArg). */
export function decodeArg(s: string): string {
  if (s === '~') return '';
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(s.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The plan as the helper reads it: a version line, one op per line, END. */
export function encodePlan(ops: readonly PlanOp[]): string {
  let out = 'BERTH-PLAN 1\n';
  for (const [op, ...args] of ops) out += [op, ...args.map(encodeArg)].join(' ') + '\n';
  return out + 'END\n';
}
