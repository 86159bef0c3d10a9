/**
 * What every network test file shares: a scope with its own root, state and cgroup parent, a
 * busybox image from a loopback registry, and `berth(...)` running the real bin/berth. Traffic
 * only ever goes to 127.0.0.1 and to the namespaces these tests make (issue 5's rule).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { Scope, exec, leakCheckFile, pushBusybox, repoRoot, startRegistry, type ExecOptions, type ExecResult, type Registry } from '../../harness/index.js';

export const BERTH = join(repoRoot(), 'bin/berth');

export interface NetEnv {
  scope: Scope;
  root: string;
  state: string;
  registry: Registry;
  image: string;
  env: NodeJS.ProcessEnv;
  berth(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  ok(args: string[], opts?: ExecOptions): Promise<string>;
  /** Mark a network's bridge, CNI name and subnet as the scope's, for the leak check. */
  mark(network: string): Promise<void>;
}

export function netEnv(name: string): { scope: Scope; ready: Promise<NetEnv> } {
  const scope = new Scope(`net-${name}`);
  leakCheckFile(scope);
  const ready = (async () => {
    const root = scope.mkdtemp('root');
    const state = scope.mkdtemp('st');
    // the real default network: no BERTH_BRIDGE=none here, even if the caller's environment has it
    const env: NodeJS.ProcessEnv = { ...process.env, BERTH_ROOT: root, BERTH_STATE: state, BERTH_CGROUP_PARENT: `/${scope.id}` };
    delete env.BERTH_BRIDGE;
    const berth = (args: string[], opts: ExecOptions = {}) => exec(BERTH, args, { timeoutMs: 60_000, env, ...opts });
    const ok = async (args: string[], opts: ExecOptions = {}) => {
      const r = await berth(args, opts);
      if (r.code !== 0) throw new Error(`berth ${args.join(' ')}: exit ${r.code}\n${r.stderr}${r.stdout}`);
      return r.stdout.trim();
    };
    const mark = async (network: string) => {
      const [n] = JSON.parse(await ok(['network', 'inspect', network])) as { Id: string; Options: Record<string, string>; IPAM: { Config: { Subnet: string }[] } }[];
      const subnet = n.IPAM.Config[0].Subnet;
      scope.matches.push(n.Options['com.docker.network.bridge.name'], `berth-${n.Id.slice(0, 12)}`, subnet, subnet.split('.').slice(0, 3).join('.') + '.');
    };
    scope.defer('remove cgroup parent', () => {
      for (const h of readdirSync('/sys/fs/cgroup')) {
        try {
          rmdirSync(join('/sys/fs/cgroup', h, scope.id));
        } catch {
          /* absent or not empty: the leak check reports it */
        }
      }
    });
    // containers first (their CNI DEL), then every network (bridges); then nothing of ours may be left
    scope.defer('remove networks', async () => {
      await berth(['network', 'prune', '-f']);
      const left = leftovers(root, state, { pool: true });
      if (left.length) throw new Error(`network state left: ${left.join(', ')}`);
    });
    scope.defer('remove containers', async () => {
      const ids = (await berth(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await berth(['rm', '-f', '-v', ...ids]);
    });
    const registry = await startRegistry(scope);
    scope.defer('stop registry', () => registry.stop());
    const image = await pushBusybox(scope, registry);
    await ok(['pull', '-q', image]);
    return { scope, root, state, registry, image, env, berth, ok, mark };
  })();
  ready.catch(() => {});
  return { scope, ready };
}

/**
 * Network state a root and state dir still hold: netns files, IP leases. A network's pooled
 * sandboxes (`<state>/netns-pool/<pool id>` and the lease of that id) are the network's, not
 * a container's: listed only with `pool` (after the networks are removed nothing may be left).
 */
export function leftovers(root: string, state: string, opts: { pool?: boolean } = {}): string[] {
  const out: string[] = [];
  const ns = join(state, 'netns');
  if (existsSync(ns)) for (const n of readdirSync(ns)) out.push(`netns ${n}`);
  const pool = poolIds(state);
  if (opts.pool) for (const id of pool) out.push(`pooled netns ${id}`);
  const ipam = join(root, 'network', 'ipam');
  if (existsSync(ipam)) {
    for (const net of readdirSync(ipam)) {
      for (const f of readdirSync(join(ipam, net))) {
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(f)) continue;
        const owner = readFileSync(join(ipam, net, f), 'utf8').split(/\r?\n/)[0];
        if (!opts.pool && pool.includes(owner)) continue;
        out.push(`lease ${net}/${f}`);
      }
    }
  }
  return out;
}

/** The network's idle pooled sandboxes (their pool ids). */
export function poolIds(state: string): string[] {
  const dir = join(state, 'netns-pool');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** veths on the host: name -> master (or ''). */
export function veths(): Map<string, string> {
  const out = new Map<string, string>();
  const text = execFileSync('ip', ['-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' });
  for (const line of text.split('\n')) {
    const name = line.split(':')[1]?.trim().split('@')[0];
    if (!name) continue;
    out.set(name, / master (\S+)/.exec(line)?.[1] ?? '');
  }
  return out;
}

/** iptables-save lines of the CNI plugins' shared chains (present only while containers need them). */
export function cniSharedChains(): string[] {
  const text = execFileSync('iptables-save', [], { encoding: 'utf8' });
  return text.split('\n').filter((l) => /^:(CNI-HOSTPORT-|CNI-FORWARD|CNI-ADMIN)/.test(l));
}

/** `timeout 5 wget -qO- URL` inside a container (busybox wget -T segfaults: PEERS.md). */
export function wget(url: string): string[] {
  return ['timeout', '5', 'wget', '-qO-', url];
}
