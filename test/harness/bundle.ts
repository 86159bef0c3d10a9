/**
 * OCI bundles for tests: a busybox rootfs (Debian's busybox-static at /bin/busybox with a
 * symlink per applet in /bin), the checker at /checker, and a config.json equal to what
 * `runc spec` writes, then adjusted by the tweak methods. The rootfs template is built once
 * per process and hardlinked into each bundle.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  Capabilities,
  Hook,
  Hooks,
  Mount,
  NamespaceType,
  Resources,
  Spec,
  User,
} from '../../src/spec/runtime.js';
import { fixture } from './fixtures.js';
import { removeTree, type Scope } from './scope.js';

export const BUSYBOX = '/bin/busybox';

/**
 * The default spec of `runc spec` (runc 1.1.x, spec 1.0.2-dev), field for field, except that
 * nothing is relative to a cwd. Note it has `terminal: true` and `args: ["sh"]`: Bundle.create
 * replaces both with test-friendly values unless told otherwise.
 */
export function defaultSpec(): Spec {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps], ambient: [...caps] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

let template: string | undefined;

/** Applet names of the busybox binary (`busybox --list`). */
export function busyboxApplets(): string[] {
  return execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
}

/**
 * Writes a minimal busybox root filesystem into `dir` (which must exist): /bin/busybox plus
 * applet symlinks, /checker (unless `checker: false`), empty mount points, /etc/passwd+group.
 */
export function writeBusyboxRootfs(dir: string, opts: { checker?: boolean } = {}): void {
  // mkdtemp makes 0700 dirs: a non-root container user must be able to walk "/".
  chmodSync(dir, 0o755);
  for (const d of ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root', 'home', 'var', 'run', 'mnt']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const a of busyboxApplets()) symlinkSync('busybox', join(dir, 'bin', a));
  if (opts.checker !== false) {
    copyFileSync(fixture('checker'), join(dir, 'checker'));
    chmodSync(join(dir, 'checker'), 0o755);
  }
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
}

/** The per-process rootfs template (built on first use, removed at process exit). */
export function rootfsTemplate(): string {
  if (template) return template;
  const dir = mkdtempSync(join(tmpdir(), `berth-rootfs-tpl-${process.pid}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeBusyboxRootfs(dir);
  template = dir;
  return dir;
}

/** Copies a tree: hardlinks for files, new dirs and symlinks (falls back to copying files). */
function cloneTree(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  chmodSync(dst, lstatSync(src).mode & 0o7777);
  for (const name of readdirSync(src)) {
    const s = join(src, name);
    const d = join(dst, name);
    const st = lstatSync(s);
    if (st.isDirectory()) cloneTree(s, d);
    else if (st.isSymbolicLink()) symlinkSync(readlinkSync(s), d);
    else {
      try {
        linkSync(s, d);
      } catch {
        copyFileSync(s, d);
        chmodSync(d, st.mode & 0o7777);
      }
    }
  }
}

export type HookKind = keyof Hooks;

export interface BundleOptions {
  /** process.args (default: `["/checker"]`). */
  args?: string[];
  /** process.terminal (default: false). */
  terminal?: boolean;
  /** Keep root.readonly as `runc spec` has it (default true). */
  readonlyRoot?: boolean;
}

/** A bundle dir inside a scope. Every tweak rewrites config.json at once. */
export class Bundle {
  readonly dir: string;
  readonly rootfs: string;
  readonly configPath: string;
  spec: Spec;

  private constructor(dir: string, spec: Spec) {
    this.dir = dir;
    this.rootfs = join(dir, 'rootfs');
    this.configPath = join(dir, 'config.json');
    this.spec = spec;
  }

  /** A new bundle in a fresh dir of `scope` (removed by the scope's cleanup). */
  static create(scope: Scope, opts: BundleOptions = {}): Bundle {
    const dir = scope.mkdtemp('bundle');
    cloneTree(rootfsTemplate(), join(dir, 'rootfs'));
    const spec = defaultSpec();
    spec.process!.terminal = opts.terminal ?? false;
    spec.process!.args = opts.args ?? ['/checker'];
    spec.root!.readonly = opts.readonlyRoot ?? true;
    const b = new Bundle(dir, spec);
    b.save();
    return b;
  }

  save(): this {
    writeFileSync(this.configPath, JSON.stringify(this.spec, null, 2));
    return this;
  }

  /** Any change to the spec, then save. */
  update(fn: (spec: Spec) => void): this {
    fn(this.spec);
    return this.save();
  }

  args(...args: string[]): this {
    return this.update((s) => void (s.process!.args = args));
  }

  /** Sets env entries `K=V`, replacing an existing K. */
  env(...entries: string[]): this {
    return this.update((s) => {
      const env = s.process!.env ?? [];
      for (const e of entries) {
        const k = e.split('=')[0];
        const i = env.findIndex((x) => x.split('=')[0] === k);
        if (i >= 0) env[i] = e;
        else env.push(e);
      }
      s.process!.env = env;
    });
  }

  terminal(on: boolean): this {
    return this.update((s) => void (s.process!.terminal = on));
  }

  user(user: Partial<User>): this {
    return this.update((s) => void (s.process!.user = { ...s.process!.user, ...user }));
  }

  cwd(cwd: string): this {
    return this.update((s) => void (s.process!.cwd = cwd));
  }

  hostname(name: string | undefined): this {
    return this.update((s) => void (s.hostname = name));
  }

  readonlyRoot(on: boolean): this {
    return this.update((s) => void (s.root!.readonly = on));
  }

  capabilities(caps: Capabilities): this {
    return this.update((s) => void (s.process!.capabilities = caps));
  }

  /** Sets one rlimit, replacing an existing one of that type. */
  rlimit(type: string, soft: number, hard: number): this {
    return this.update((s) => {
      const rl = (s.process!.rlimits ?? []).filter((r) => r.type !== type);
      rl.push({ type, soft, hard });
      s.process!.rlimits = rl;
    });
  }

  /** Adds a namespace (or sets its path, to join an existing one). */
  namespace(type: NamespaceType, path?: string): this {
    return this.update((s) => {
      const ns = (s.linux!.namespaces ??= []);
      const existing = ns.find((n) => n.type === type);
      if (existing) {
        if (path) existing.path = path;
        else delete existing.path;
      } else ns.push(path ? { type, path } : { type });
    });
  }

  withoutNamespace(type: NamespaceType): this {
    return this.update((s) => void (s.linux!.namespaces = (s.linux!.namespaces ?? []).filter((n) => n.type !== type)));
  }

  mount(m: Mount): this {
    return this.update((s) => void (s.mounts ??= []).push(m));
  }

  /** Merges into linux.resources (one level deep). */
  resources(r: Resources): this {
    return this.update((s) => {
      const cur = (s.linux!.resources ??= {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(r)) {
        const old = cur[k];
        cur[k] = old && typeof old === 'object' && !Array.isArray(old) && v && typeof v === 'object' && !Array.isArray(v) ? { ...old, ...v } : v;
      }
    });
  }

  hook(kind: HookKind, hook: Hook): this {
    return this.update((s) => void ((s.hooks ??= {})[kind] ??= []).push(hook));
  }

  cgroupsPath(path: string): this {
    return this.update((s) => void (s.linux!.cgroupsPath = path));
  }

  /** Removes the bundle dir (refuses while something is mounted under it). */
  remove(): void {
    removeTree(this.dir);
  }
}
