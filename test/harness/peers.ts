/**
 * The peers (runc, crun, podman, containerd) set up the way /work/shared/PEERS.md says works
 * on this machine, each with private state inside a scope so that nothing is shared with
 * other tests or left behind. Used by the interop tests and the benchmarks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, type ExecOptions, type ExecResult } from './exec.js';
import { mountsUnder, removeTree, type Scope } from './scope.js';

/** A command line: program and arguments. */
export interface Invocation {
  cmd: string;
  args: string[];
}

/** `runc --root ROOT ...args`. */
export function runcInvocation(root: string, args: string[]): Invocation {
  return { cmd: 'runc', args: ['--root', root, ...args] };
}

/**
 * crun 1.8 refuses this machine's hybrid cgroup layout, so it runs in a private mount
 * namespace where the cgroup2 mount at /sys/fs/cgroup/unified is gone (PEERS.md); the host
 * is not affected.
 */
export function crunInvocation(root: string, args: string[]): Invocation {
  return {
    cmd: 'unshare',
    args: ['-m', '--propagation', 'private', 'sh', '-c', 'umount /sys/fs/cgroup/unified; exec crun "$@"', 'crun', '--root', root, ...args],
  };
}

/** Unmounts whatever is mounted under `dir` (deepest first): only for dirs a test owns. */
export async function unmountUnder(dir: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const mps = mountsUnder(dir).sort((a, b) => b.length - a.length);
    if (!mps.length) return;
    for (const mp of mps) await exec('umount', ['-l', mp]);
  }
}

/**
 * Removes the cgroup dirs named by the scope, with everything below them (podman leaves a
 * `conmon` child under its cgroup parent), deepest first, on every v1/v2 hierarchy. Only
 * empty cgroups can go: a busy one stays for the leak check to report.
 */
export function removeScopeCgroups(scope: Scope, names: string[] = [scope.id]): void {
  const root = '/sys/fs/cgroup';
  const subdirs = (dir: string): string[] => {
    try {
      return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
    } catch {
      return [];
    }
  };
  const found: string[] = [];
  const collect = (dir: string): void => {
    found.push(dir);
    for (const d of subdirs(dir)) collect(d);
  };
  const walk = (dir: string, depth: number): void => {
    for (const p of subdirs(dir)) {
      const n = p.slice(p.lastIndexOf('/') + 1);
      if (names.some((m) => n.includes(m))) collect(p);
      else if (depth < 6) walk(p, depth + 1);
    }
  };
  for (const h of existsSync(join(root, 'cgroup.controllers')) ? [''] : readdirSync(root)) walk(join(root, h), 0);
  for (const p of found.sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(p);
    } catch {
      /* busy: the leak check will say so */
    }
  }
}

// ---------------------------------------------------------------- podman

export interface PodmanSetup {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** `podman ...args` with the private config (root and runroot in the scope). */
  run(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Removes all containers and images of this setup and unmounts its storage. */
  cleanup(): Promise<void>;
}

export interface PodmanOptions {
  /** Registries (`host:port`) to mark insecure (plain http). */
  insecureRegistries?: string[];
  /** containers/storage driver; vfs mounts nothing (default), overlay is what people use. */
  driver?: 'vfs' | 'overlay';
  /** Default OCI runtime name or path (default runc). */
  runtime?: string;
}

/**
 * A root podman with private storage (graphroot, runroot), tmp dir and config, using the
 * cgroupfs manager (no systemd here), the file events logger, runc, no network by default and
 * ulimits within this machine's hard limits. Containers go under the cgroup parent
 * `/<scope id>` so the leak check sees them. Never touches `num_locks` or /dev/shm/libpod_lock.
 */
export function podmanSetup(scope: Scope, opts: PodmanOptions = {}): PodmanSetup {
  // A short path: with a long runroot, podman 4.3 run --rm waits out its 20 s conmon timeout
  // before returning (seen here with /tmp/berth-<id>-<name>-XXXXXX/podman-XXXXXX).
  const dir = mkdtempSync(join(tmpdir(), `${scope.id}-`));
  scope.defer('remove podman dir', () => removeTree(dir));
  for (const d of ['graphroot', 'runroot', 'tmp', 'volumes']) mkdirSync(join(dir, d));
  const containersConf = join(dir, 'containers.conf');
  writeFileSync(
    containersConf,
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      'netns = "none"',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${join(dir, 'events.log')}"`,
      `runtime = "${opts.runtime ?? 'runc'}"`,
      `tmp_dir = "${join(dir, 'tmp')}"`,
      `volume_path = "${join(dir, 'volumes')}"`,
      '',
    ].join('\n'),
  );
  const storageConf = join(dir, 'storage.conf');
  writeFileSync(
    storageConf,
    ['[storage]', `driver = "${opts.driver ?? 'vfs'}"`, `graphroot = "${join(dir, 'graphroot')}"`, `runroot = "${join(dir, 'runroot')}"`, ''].join('\n'),
  );
  const registriesConf = join(dir, 'registries.conf');
  writeFileSync(
    registriesConf,
    ['unqualified-search-registries = []', ...(opts.insecureRegistries ?? []).flatMap((r) => ['[[registry]]', `location = "${r}"`, 'insecure = true'])].join('\n') + '\n',
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: containersConf,
    CONTAINERS_STORAGE_CONF: storageConf,
    CONTAINERS_REGISTRIES_CONF: registriesConf,
  };
  const run = (args: string[], o: ExecOptions = {}): Promise<ExecResult> =>
    exec('podman', ['--cgroup-manager', 'cgroupfs', ...args], { timeoutMs: 60_000, ...o, env: { ...env, ...o.env } });
  const cleanup = async (): Promise<void> => {
    await run(['rm', '--all', '--force', '--time', '0']);
    await run(['rmi', '--all', '--force']);
    await unmountUnder(dir);
    removeScopeCgroups(scope);
  };
  scope.defer('podman cleanup', cleanup);
  return { dir, env, run, cleanup };
}

// ---------------------------------------------------------------- containerd

export interface ContainerdInstance {
  dir: string;
  address: string;
  /** The namespace tests should use (the scope id: cgroups land at /<ns>/<id>). */
  namespace: string;
  /** `ctr --address SOCK --namespace NS ...args`. */
  ctr(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  stop(): Promise<void>;
}

/**
 * A private containerd (own root, state, sockets; CRI plugin off). Shim sockets still go to
 * /run/containerd/s/ (containerd 1.6 hard-codes it). Stopped by the scope's cleanup, after
 * every container in its namespace is gone.
 */
export async function startContainerd(scope: Scope): Promise<ContainerdInstance> {
  const dir = scope.mkdtemp('containerd');
  const address = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${address}"`,
      '[ttrpc]',
      `  address = "${address}.ttrpc"`,
      '[debug]',
      `  address = "${address}.debug"`,
      '  level = "warn"',
      '[metrics]',
      '  address = ""',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('containerd', ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const namespace = scope.id;
  const ctr = (args: string[], o: ExecOptions = {}): Promise<ExecResult> =>
    exec('ctr', ['--address', address, '--namespace', namespace, ...args], { timeoutMs: 60_000, ...o });
  const stop = async (): Promise<void> => {
    // Containers first (their shims outlive containerd otherwise), then the daemon.
    if (child.exitCode === null) {
      const tasks = await ctr(['tasks', 'list', '--quiet']);
      for (const id of tasks.stdout.split('\n').filter(Boolean)) await ctr(['tasks', 'kill', '--signal', 'SIGKILL', id]);
      for (const id of tasks.stdout.split('\n').filter(Boolean)) await ctr(['tasks', 'delete', '--force', id]);
      const cs = await ctr(['containers', 'list', '--quiet']);
      for (const id of cs.stdout.split('\n').filter(Boolean)) await ctr(['containers', 'delete', id]);
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await unmountUnder(dir);
    removeScopeCgroups(scope);
  };
  scope.defer('stop containerd', stop);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`containerd exited ${child.exitCode}: ${log}`);
    if (existsSync(address) && (await exec('ctr', ['--address', address, 'version'], { timeoutMs: 3000 })).code === 0) break;
    if (Date.now() > deadline) throw new Error(`containerd at ${address}: not answering after 15 s: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { dir, address, namespace, ctr, stop };
}

