/**
 * What every network test file shares: the engine tests' environment (engine/_env.ts: a scope
 * with its own root, state and cgroup parent, a busybox image from a loopback registry,
 * `berth(...)` running the real bin/berth) with berth's real default network. Traffic only
 * ever goes to 127.0.0.1 and to the namespaces these tests make (issue 5's rule).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scope } from '../../harness/index.js';
import { BERTH, engineEnv, type EngineEnv } from '../engine/_env.js';

export { BERTH };

export type NetEnv = EngineEnv & {
  /** Mark a network's bridge, CNI name and subnet as the scope's, for the leak check. */
  mark(network: string): Promise<void>;
};

/** The engine tests' environment with berth's real default network; after the networks are pruned nothing of them may be left. */
export function netEnv(name: string): { scope: Scope; ready: Promise<NetEnv> } {
  const { scope, ready: base } = engineEnv(name, {
    prefix: 'net',
    defaultBridge: true,
    afterNetworkPrune: (root, state) => {
      const left = leftovers(root, state, { pool: true });
      if (left.length) throw new Error(`network state left: ${left.join(', ')}`);
    },
  });
  const ready = base.then((e) => ({
    ...e,
    async mark(network: string): Promise<void> {
      const [n] = JSON.parse(await e.ok(['network', 'inspect', network])) as { Id: string; Options: Record<string, string>; IPAM: { Config: { Subnet: string }[] } }[];
      const subnet = n.IPAM.Config[0].Subnet;
      scope.matches.push(n.Options['com.docker.network.bridge.name'], `berth-${n.Id.slice(0, 12)}`, subnet, subnet.split('.').slice(0, 3).join('.') + '.');
    },
  }));
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
