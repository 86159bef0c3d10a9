/**
 * What every engine test file shares: a scope with its own root, state and cgroup parent, a
 * busybox image built by the harness and served by a real docker-registry, and `berth(...)`
 * running the real bin/berth against them.
 */
import { join } from 'node:path';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import {
  Scope,
  exec,
  leakCheckFile,
  mountsUnder,
  pushBusybox,
  repoRoot,
  startRegistry,
  type ExecOptions,
  type ExecResult,
  type Registry,
} from '../../harness/index.js';

export const BERTH = join(repoRoot(), 'bin/berth');

export interface EngineEnv {
  scope: Scope;
  root: string;
  state: string;
  cgroupParent: string;
  registry: Registry;
  /** `127.0.0.1:PORT/busybox:latest`, pulled into root at setup. */
  image: string;
  env: NodeJS.ProcessEnv;
  berth(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** berth that must exit 0; returns trimmed stdout. */
  ok(args: string[], opts?: ExecOptions): Promise<string>;
}

export interface EngineEnvOptions {
  /**
   * Keep berth's real default network (docker's bridge) for containers that name none. Off:
   * `BERTH_BRIDGE=none` (dockerd's --bridge=none), so the hundreds of `berth run` of the
   * engine tests neither pay for a bridge, a veth and a lease each nor leave a bridge behind.
   */
  defaultBridge?: boolean;
  /** The scope's name is `<prefix>-<name>` (default `engine`). */
  prefix?: string;
  /** Runs after the networks are pruned at the end of the file: throw to report what is left. */
  afterNetworkPrune?: (root: string, state: string) => void;
}

/** Call at the top of a test file; `await ready` in the first test. */
export function engineEnv(name: string, opts: EngineEnvOptions = {}): { scope: Scope; ready: Promise<EngineEnv> } {
  const scope = new Scope(`${opts.prefix ?? 'engine'}-${name}`);
  leakCheckFile(scope);
  const ready = (async () => {
    const root = scope.mkdtemp('root');
    const state = scope.mkdtemp('st');
    const cgroupParent = `/${scope.id}`;
    const env: NodeJS.ProcessEnv = { ...process.env, BERTH_ROOT: root, BERTH_STATE: state, BERTH_CGROUP_PARENT: cgroupParent, BERTH_BRIDGE: 'none' };
    // the real default network: no BERTH_BRIDGE=none, even if the caller's environment has it
    if (opts.defaultBridge) delete env.BERTH_BRIDGE;
    const berth = (args: string[], opts: ExecOptions = {}) => exec(BERTH, args, { timeoutMs: 60_000, env, ...opts });
    const ok = async (args: string[], opts: ExecOptions = {}) => {
      const r = await berth(args, opts);
      if (r.code !== 0) throw new Error(`berth ${args.join(' ')}: exit ${r.code}\n${r.stderr}${r.stdout}`);
      return r.stdout.trim();
    };
    // The cgroup parent is ours to remove once empty (rmdir fails while a container's is left,
    // so the leak check still sees a leaked container cgroup).
    scope.defer('remove cgroup parent', () => {
      for (const h of readdirSync('/sys/fs/cgroup')) {
        try {
          rmdirSync(join('/sys/fs/cgroup', h, scope.id));
        } catch {
          /* absent, or not empty: reported by the leak check */
        }
      }
    });
    // After the containers: the networks they used (the default bridge, with its pooled
    // sandboxes: bridge, netns mounts, leases, rules), so nothing of them is left.
    scope.defer('remove networks', async () => {
      await berth(['network', 'prune', '-f']);
      opts.afterNetworkPrune?.(root, state);
    });
    // Remove every container left (a failed test), so its mounts, monitors and cgroups go.
    scope.defer('remove containers', async () => {
      const ids = (await berth(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await berth(['rm', '-f', '-v', ...ids]);
    });
    const registry = await startRegistry(scope);
    scope.defer('stop registry', () => registry.stop());
    const image = await pushBusybox(scope, registry);
    await ok(['pull', '-q', image]);
    return { scope, root, state, cgroupParent, registry, image, env, berth, ok };
  })();
  ready.catch(() => {});
  return { scope, ready };
}

/**
 * What a container may leave on disk: bundle dirs, log dirs, mounts under root or state. A
 * network's pooled sandboxes (`<state>/netns-pool`, docs/network.md) are the network's, not a
 * container's: they go with `network prune` at the end of the file (the leak check sees them).
 */
export function leftovers(e: EngineEnv): string[] {
  const out: string[] = [];
  for (const d of [join(e.state, 'c'), join(e.root, 'containers')]) {
    if (existsSync(d)) for (const n of readdirSync(d)) out.push(join(d, n));
  }
  const pool = join(e.state, 'netns-pool') + '/';
  out.push(...mountsUnder(e.root), ...mountsUnder(e.state).filter((m) => !m.startsWith(pool)));
  return out;
}
