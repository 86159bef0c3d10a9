/**
 * Validate an OCI runtime-spec config.json (v1.x) before anything touches the system. Every
 * error names the field: `config.json: linux.namespaces[2].type: unknown namespace "foo"`.
 * Checks shapes, then the cross-field rules of config.md / config-linux.md that the runtime
 * relies on (hostname needs a uts namespace, id mappings need a user namespace, ...).
 */
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { BerthError } from '../errors/index.js';
import type { NamespaceType, Process, Spec } from './runtime.js';

const NAMESPACES: readonly NamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];
const CAPS = new Set([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]);
const RLIMITS = new Set([
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS',
  'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
]);
const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']);
const SECCOMP_ACTIONS = new Set([
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
]);
const SECCOMP_OPS = new Set([
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
]);
const UINT32_MAX = 0xffffffff;

class Checker {
  constructor(readonly file: string) {}

  fail(path: string, msg: string): never {
    throw new BerthError('INVALID_ARGUMENT', `${this.file}: ${path}: ${msg}`);
  }

  object(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `must be an object, got ${kind(v)}`);
    return v as Record<string, unknown>;
  }

  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be an array, got ${kind(v)}`);
    return v;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, got ${kind(v)}`);
    // C strings end at NUL: such a value would silently change meaning in the helper
    if (v.includes('\0')) this.fail(path, 'must not contain a NUL character');
    return v;
  }

  strings(v: unknown, path: string): string[] {
    return this.array(v, path).map((x, i) => this.string(x, `${path}[${i}]`));
  }

  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `must be a boolean, got ${kind(v)}`);
    return v;
  }

  int(v: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, `must be an integer, got ${kind(v)}`);
    if (v < min || v > max) this.fail(path, `${v} is out of range [${min}, ${max}]`);
    return v;
  }

  abs(v: unknown, path: string): string {
    const s = this.string(v, path);
    if (!isAbsolute(s)) this.fail(path, `must be an absolute path, got ${JSON.stringify(s)}`);
    return s;
  }
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

const opt = <T>(o: Record<string, unknown>, k: string, f: (v: unknown) => T): T | undefined =>
  o[k] === undefined ? undefined : f(o[k]);

/**
 * Check `spec` (parsed config.json) against the runtime-spec and berth's requirements.
 * `bundle` locates root.path. Returns the spec typed; throws INVALID_ARGUMENT naming the field.
 */
export function validateSpec(spec: unknown, bundle: string): Spec {
  const c = new Checker('config.json');
  const s = c.object(spec, '(document)');
  const version = c.string(s.ociVersion, 'ociVersion');
  if (!/^1\.\d+\.\d+/.test(version)) c.fail('ociVersion', `unsupported version ${JSON.stringify(version)} (berth supports 1.x)`);

  // root
  const root = c.object(s.root, 'root');
  const rootPath = c.string(root.path, 'root.path');
  if (!rootPath) c.fail('root.path', 'must not be empty');
  opt(root, 'readonly', (v) => c.bool(v, 'root.readonly'));
  const abs = isAbsolute(rootPath) ? rootPath : join(bundle, rootPath);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    c.fail('root.path', `${JSON.stringify(abs)} does not exist`);
  }
  if (!isDir) c.fail('root.path', `${JSON.stringify(abs)} is not a directory`);

  opt(s, 'hostname', (v) => c.string(v, 'hostname'));
  opt(s, 'domainname', (v) => c.string(v, 'domainname'));
  opt(s, 'annotations', (v) => {
    const a = c.object(v, 'annotations');
    for (const [k, x] of Object.entries(a)) c.string(x, `annotations.${k}`);
  });

  // linux
  const linux = s.linux === undefined ? {} : c.object(s.linux, 'linux');
  const nsTypes = new Map<string, boolean>(); // type -> joins an existing one
  opt(linux, 'namespaces', (v) =>
    c.array(v, 'linux.namespaces').forEach((n, i) => {
      const p = `linux.namespaces[${i}]`;
      const ns = c.object(n, p);
      const t = c.string(ns.type, `${p}.type`);
      if (!NAMESPACES.includes(t as NamespaceType)) c.fail(`${p}.type`, `unknown namespace ${JSON.stringify(t)}`);
      if (nsTypes.has(t)) c.fail(`${p}.type`, `namespace ${JSON.stringify(t)} is listed twice`);
      const path = opt(ns, 'path', (x) => c.abs(x, `${p}.path`));
      nsTypes.set(t, !!path);
    }),
  );
  if (!nsTypes.has('mount')) c.fail('linux.namespaces', 'a mount namespace is required (berth pivots the root inside it)');
  const newNs = (t: string) => nsTypes.get(t) === false;
  // runc's rule: the namespace must be the container's own, new or joined by path
  const hasNs = (t: string) => nsTypes.has(t);

  if (s.hostname !== undefined && s.hostname !== '' && !hasNs('uts')) {
    c.fail('hostname', 'setting the hostname requires a uts namespace');
  }
  if (s.domainname !== undefined && s.domainname !== '' && !hasNs('uts')) {
    c.fail('domainname', 'setting the domainname requires a uts namespace');
  }

  for (const k of ['uidMappings', 'gidMappings'] as const) {
    opt(linux, k, (v) => {
      const maps = c.array(v, `linux.${k}`);
      if (maps.length && !newNs('user')) c.fail(`linux.${k}`, 'id mappings require a new user namespace');
      maps.forEach((m, i) => {
        const p = `linux.${k}[${i}]`;
        const o = c.object(m, p);
        c.int(o.containerID, `${p}.containerID`, 0, UINT32_MAX);
        c.int(o.hostID, `${p}.hostID`, 0, UINT32_MAX);
        c.int(o.size, `${p}.size`, 1, UINT32_MAX);
      });
    });
  }
  if (newNs('user')) {
    for (const k of ['uidMappings', 'gidMappings'] as const) {
      if (!Array.isArray(linux[k]) || !(linux[k] as unknown[]).length) {
        c.fail(`linux.${k}`, 'a new user namespace needs id mappings');
      }
    }
  }
  opt(linux, 'timeOffsets', (v) => {
    const o = c.object(v, 'linux.timeOffsets');
    if (Object.keys(o).length && !newNs('time')) c.fail('linux.timeOffsets', 'time offsets require a new time namespace');
    for (const [clock, off] of Object.entries(o)) {
      const p = `linux.timeOffsets.${clock}`;
      if (clock !== 'monotonic' && clock !== 'boottime') c.fail(p, `unknown clock ${JSON.stringify(clock)} (monotonic or boottime)`);
      const x = c.object(off, p);
      opt(x, 'secs', (n) => c.int(n, `${p}.secs`, Number.MIN_SAFE_INTEGER));
      opt(x, 'nanosecs', (n) => c.int(n, `${p}.nanosecs`, 0, 999_999_999));
    }
  });
  opt(linux, 'devices', (v) =>
    c.array(v, 'linux.devices').forEach((d, i) => {
      const p = `linux.devices[${i}]`;
      const o = c.object(d, p);
      const t = c.string(o.type, `${p}.type`);
      if (!['c', 'b', 'u', 'p'].includes(t)) c.fail(`${p}.type`, `unknown device type ${JSON.stringify(t)} (c, b, u or p)`);
      const path = c.abs(o.path, `${p}.path`);
      if (!path.startsWith('/dev/')) c.fail(`${p}.path`, `devices must live under /dev, got ${JSON.stringify(path)}`);
      if (t !== 'p') {
        c.int(o.major, `${p}.major`);
        c.int(o.minor, `${p}.minor`);
      }
      opt(o, 'fileMode', (x) => c.int(x, `${p}.fileMode`, 0, 0o7777));
      opt(o, 'uid', (x) => c.int(x, `${p}.uid`, 0, UINT32_MAX));
      opt(o, 'gid', (x) => c.int(x, `${p}.gid`, 0, UINT32_MAX));
    }),
  );
  opt(linux, 'rootfsPropagation', (v) => {
    const r = c.string(v, 'linux.rootfsPropagation');
    if (!PROPAGATIONS.has(r)) c.fail('linux.rootfsPropagation', `unknown propagation ${JSON.stringify(r)}`);
  });
  opt(linux, 'sysctl', (v) => {
    for (const [k, x] of Object.entries(c.object(v, 'linux.sysctl'))) {
      const p = `linux.sysctl.${k}`;
      c.string(x, p);
      checkSysctl(c, p, k, hasNs);
    }
  });
  for (const k of ['maskedPaths', 'readonlyPaths'] as const) {
    opt(linux, k, (v) => c.array(v, `linux.${k}`).forEach((x, i) => c.abs(x, `linux.${k}[${i}]`)));
  }
  opt(linux, 'cgroupsPath', (v) => c.string(v, 'linux.cgroupsPath'));
  opt(linux, 'resources', (v) => c.object(v, 'linux.resources'));
  opt(linux, 'seccomp', (v) => checkSeccomp(c, v));
  opt(linux, 'personality', (v) => {
    const o = c.object(v, 'linux.personality');
    const d = c.string(o.domain, 'linux.personality.domain');
    if (d !== 'LINUX' && d !== 'LINUX32') c.fail('linux.personality.domain', `unknown domain ${JSON.stringify(d)} (LINUX or LINUX32)`);
    opt(o, 'flags', (f) => c.strings(f, 'linux.personality.flags'));
  });

  // mounts
  opt(s, 'mounts', (v) =>
    c.array(v, 'mounts').forEach((m, i) => {
      const p = `mounts[${i}]`;
      const o = c.object(m, p);
      c.abs(o.destination, `${p}.destination`);
      opt(o, 'source', (x) => c.string(x, `${p}.source`));
      opt(o, 'type', (x) => c.string(x, `${p}.type`));
      const options = opt(o, 'options', (x) => c.strings(x, `${p}.options`)) ?? [];
      const bind = o.type === 'bind' || options.includes('bind') || options.includes('rbind');
      if (bind && (typeof o.source !== 'string' || !o.source)) c.fail(`${p}.source`, 'a bind mount needs a source');
      if (!bind && o.type === undefined) c.fail(`${p}.type`, 'required unless the mount is a bind mount');
      for (const [j, x] of options.entries()) {
        if (x === 'idmap' || x === 'ridmap') c.fail(`${p}.options[${j}]`, `mount option "${x}" is not supported`);
      }
      if (o.uidMappings !== undefined || o.gidMappings !== undefined) c.fail(p, 'idmapped mounts are not supported');
    }),
  );

  // process
  opt(s, 'process', (v) => checkProcess(c, v, 'process'));
  if (s.process !== undefined) {
    const proc = s.process as Record<string, unknown>;
    if (!Array.isArray(proc.args) || proc.args.length === 0) c.fail('process.args', 'must name the program to run');
  }
  opt(s, 'hooks', (v) => {
    const h = c.object(v, 'hooks');
    for (const [k, list] of Object.entries(h)) {
      if (!['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].includes(k)) {
        c.fail(`hooks.${k}`, 'unknown hook point');
      }
      c.array(list, `hooks.${k}`).forEach((x, i) => {
        const p = `hooks.${k}[${i}]`;
        const o = c.object(x, p);
        c.abs(o.path, `${p}.path`);
        opt(o, 'args', (a) => c.strings(a, `${p}.args`));
        opt(o, 'env', (a) => c.strings(a, `${p}.env`));
        opt(o, 'timeout', (a) => c.int(a, `${p}.timeout`, 1));
      });
    }
  });
  return spec as Spec;
}

/** Validate a process object alone (`exec --process process.json`). */
export function validateProcess(proc: unknown, file = 'process.json'): Process {
  const c = new Checker(file);
  checkProcess(c, proc, 'process');
  if (!Array.isArray((proc as Record<string, unknown>).args) || !(proc as { args: unknown[] }).args.length) {
    c.fail('process.args', 'must name the program to run');
  }
  return proc as Process;
}

function checkProcess(c: Checker, v: unknown, p: string): void {
  const o = c.object(v, p);
  const terminal = opt(o, 'terminal', (x) => c.bool(x, `${p}.terminal`));
  opt(o, 'consoleSize', (x) => {
    const cs = c.object(x, `${p}.consoleSize`);
    c.int(cs.height, `${p}.consoleSize.height`, 0, 65535);
    c.int(cs.width, `${p}.consoleSize.width`, 0, 65535);
    if (!terminal) c.fail(`${p}.consoleSize`, 'only valid with terminal: true');
  });
  const user = c.object(o.user, `${p}.user`);
  c.int(user.uid, `${p}.user.uid`, 0, UINT32_MAX);
  c.int(user.gid, `${p}.user.gid`, 0, UINT32_MAX);
  opt(user, 'umask', (x) => c.int(x, `${p}.user.umask`, 0, 0o777));
  opt(user, 'additionalGids', (x) =>
    c.array(x, `${p}.user.additionalGids`).forEach((g, i) => c.int(g, `${p}.user.additionalGids[${i}]`, 0, UINT32_MAX)),
  );
  opt(o, 'args', (x) => c.strings(x, `${p}.args`));
  opt(o, 'env', (x) =>
    c.strings(x, `${p}.env`).forEach((e, i) => {
      if (!e.includes('=')) c.fail(`${p}.env[${i}]`, `must be KEY=value, got ${JSON.stringify(e)}`);
    }),
  );
  const cwd = c.string(o.cwd, `${p}.cwd`);
  if (!isAbsolute(cwd)) c.fail(`${p}.cwd`, `must be an absolute path, got ${JSON.stringify(cwd)}`);
  opt(o, 'capabilities', (x) => {
    const caps = c.object(x, `${p}.capabilities`);
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) {
      opt(caps, set, (list) =>
        c.strings(list, `${p}.capabilities.${set}`).forEach((n, i) => {
          if (!CAPS.has(n)) c.fail(`${p}.capabilities.${set}[${i}]`, `unknown capability ${JSON.stringify(n)}`);
        }),
      );
    }
  });
  opt(o, 'rlimits', (x) => {
    const seen = new Set<string>();
    c.array(x, `${p}.rlimits`).forEach((r, i) => {
      const q = `${p}.rlimits[${i}]`;
      const rl = c.object(r, q);
      const t = c.string(rl.type, `${q}.type`);
      if (!RLIMITS.has(t)) c.fail(`${q}.type`, `unknown rlimit ${JSON.stringify(t)}`);
      if (seen.has(t)) c.fail(`${q}.type`, `rlimit ${t} is listed twice`);
      seen.add(t);
      // RLIM_INFINITY is 2^64-1; JSON numbers lose precision there, so accept any non-negative
      const hard = typeof rl.hard === 'number' && rl.hard >= 2 ** 53 ? rl.hard : c.int(rl.hard, `${q}.hard`);
      const soft = typeof rl.soft === 'number' && rl.soft >= 2 ** 53 ? rl.soft : c.int(rl.soft, `${q}.soft`);
      if (soft > hard) c.fail(q, `soft limit ${soft} is above the hard limit ${hard}`);
    });
  });
  opt(o, 'noNewPrivileges', (x) => c.bool(x, `${p}.noNewPrivileges`));
  opt(o, 'oomScoreAdj', (x) => c.int(x, `${p}.oomScoreAdj`, -1000, 1000));
  opt(o, 'ioPriority', (x) => {
    const io = c.object(x, `${p}.ioPriority`);
    const cls = c.string(io.class, `${p}.ioPriority.class`);
    if (!['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'].includes(cls)) c.fail(`${p}.ioPriority.class`, `unknown class ${JSON.stringify(cls)}`);
    c.int(io.priority, `${p}.ioPriority.priority`, 0, 7);
  });
  opt(o, 'apparmorProfile', (x) => c.string(x, `${p}.apparmorProfile`));
  opt(o, 'selinuxLabel', (x) => c.string(x, `${p}.selinuxLabel`));
}

/** config-linux.md "Sysctl": only namespaced keys, and only with their namespace. */
function checkSysctl(c: Checker, p: string, key: string, hasNs: (t: string) => boolean): void {
  const ipc =
    ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'].includes(key) ||
    key.startsWith('fs.mqueue.');
  if (ipc) {
    if (!hasNs('ipc')) c.fail(p, 'this sysctl requires an ipc namespace');
    return;
  }
  if (key.startsWith('net.')) {
    if (!hasNs('network')) c.fail(p, 'this sysctl requires a network namespace');
    return;
  }
  if (key === 'kernel.hostname' || key === 'kernel.domainname') {
    if (!hasNs('uts')) c.fail(p, 'this sysctl requires a uts namespace');
    return;
  }
  c.fail(p, 'not a namespaced sysctl: it would change the host');
}

function checkSeccomp(c: Checker, v: unknown): void {
  const p = 'linux.seccomp';
  const o = c.object(v, p);
  const def = c.string(o.defaultAction, `${p}.defaultAction`);
  if (!SECCOMP_ACTIONS.has(def)) c.fail(`${p}.defaultAction`, `unknown action ${JSON.stringify(def)}`);
  opt(o, 'defaultErrnoRet', (x) => c.int(x, `${p}.defaultErrnoRet`, 0, 4095));
  opt(o, 'architectures', (x) => c.strings(x, `${p}.architectures`));
  opt(o, 'flags', (x) => c.strings(x, `${p}.flags`));
  opt(o, 'syscalls', (x) =>
    c.array(x, `${p}.syscalls`).forEach((sc, i) => {
      const q = `${p}.syscalls[${i}]`;
      const so = c.object(sc, q);
      c.strings(so.names, `${q}.names`);
      const act = c.string(so.action, `${q}.action`);
      if (!SECCOMP_ACTIONS.has(act)) c.fail(`${q}.action`, `unknown action ${JSON.stringify(act)}`);
      opt(so, 'errnoRet', (e) => c.int(e, `${q}.errnoRet`, 0, 4095));
      opt(so, 'args', (a) =>
        c.array(a, `${q}.args`).forEach((arg, j) => {
          const r = `${q}.args[${j}]`;
          const ao = c.object(arg, r);
          c.int(ao.index, `${r}.index`, 0, 5);
          const op = c.string(ao.op, `${r}.op`);
          if (!SECCOMP_OPS.has(op)) c.fail(`${r}.op`, `unknown operator ${JSON.stringify(op)}`);
        }),
      );
    }),
  );
}
