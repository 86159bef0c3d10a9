/**
 * The host's packet filter and ip_forward, recorded before any peer runs and put back after.
 * dockerd and podman's netavark add chains, jump rules, bridges, change FORWARD's policy and
 * turn on ip_forward (see PEERS.md). Other engineers' tests share this kernel, so the undo is
 * narrow: remove only chains that appeared during the run and carry a peer's name, the rules
 * that jump to them, the rules that appeared during the run and name a peer's bridge that
 * appeared too (dockerd's `-o docker0 ... ACCEPT` in FORWARD, its MASQUERADE in POSTROUTING),
 * and put back built-in chain policies and ip_forward.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { run } from './proc.js';

// Not CNI-*: those are berth's own (and the CNI plugins' shared ones), made and removed by
// berth itself, and other engineers' berth tests on this kernel make them during a run too.
const PEER_CHAIN = /^(DOCKER|NETAVARK|PODMAN)/;
const PEER_BRIDGE = /^(docker|podman|cni-podman|netavark)/;
const FORWARD_FILE = '/proc/sys/net/ipv4/ip_forward';

interface Snapshot {
  ipForward: string;
  tables: Map<string, TableState>;
  bridges: Set<string>;
  /** Every rule as `<table> -A CHAIN ...`. */
  rules: Set<string>;
}

interface TableState {
  chains: Set<string>;
  policies: Map<string, string>;
}

async function iptablesSave(): Promise<string> {
  const r = await run(['iptables-save']);
  return r.code === 0 ? r.stdout : '';
}

function parse(dump: string): Map<string, TableState> {
  const tables = new Map<string, TableState>();
  let cur: TableState | undefined;
  for (const line of dump.split('\n')) {
    if (line.startsWith('*')) {
      cur = { chains: new Set(), policies: new Map() };
      tables.set(line.slice(1).trim(), cur);
    } else if (line.startsWith(':') && cur) {
      const [name, policy] = line.slice(1).split(' ');
      cur.chains.add(name);
      if (policy !== '-') cur.policies.set(name, policy);
    }
  }
  return tables;
}

async function bridges(): Promise<Set<string>> {
  const r = await run(['ip', '-o', 'link', 'show', 'type', 'bridge']);
  const out = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m) out.add(m[1]);
  }
  return out;
}

function rules(dump: string): Set<string> {
  const out = new Set<string>();
  let table = '';
  for (const line of dump.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith('-A ')) out.add(`${table} ${line}`);
  }
  return out;
}

export async function recordHostNet(): Promise<Snapshot> {
  const dump = await iptablesSave();
  return {
    ipForward: readFileSync(FORWARD_FILE, 'utf8').trim(),
    tables: parse(dump),
    bridges: await bridges(),
    rules: rules(dump),
  };
}

/** Put back what a peer changed; returns one line per change undone (empty: nothing changed). */
export async function restoreHostNet(before: Snapshot): Promise<string[]> {
  const done: string[] = [];
  const now = parse(await iptablesSave());
  for (const [table, state] of now) {
    const old = before.tables.get(table) ?? { chains: new Set<string>(), policies: new Map<string, string>() };
    const added = [...state.chains].filter((c) => !old.chains.has(c) && PEER_CHAIN.test(c));
    if (added.length) {
      // Rules in any chain that jump to an added chain go first, then the chains themselves.
      const dump = (await run(['iptables-save', '-t', table])).stdout;
      for (const line of dump.split('\n')) {
        const m = /^-A (\S+) (.*)$/.exec(line);
        if (!m || added.includes(m[1])) continue;
        if (added.some((c) => line.includes(`-j ${c}`) || line.includes(`-g ${c}`))) {
          const args = splitRule(m[2]);
          await run(['iptables', '-t', table, '-D', m[1], ...args]);
          done.push(`iptables -t ${table}: removed rule "${line}"`);
        }
      }
      for (const c of added) await run(['iptables', '-t', table, '-F', c]);
      for (const c of added) {
        await run(['iptables', '-t', table, '-X', c]);
        done.push(`iptables -t ${table}: removed chain ${c}`);
      }
    }
    for (const [chain, policy] of old.policies) {
      if (state.policies.get(chain) !== policy && state.chains.has(chain)) {
        await run(['iptables', '-t', table, '-P', chain, policy]);
        done.push(`iptables -t ${table}: policy of ${chain} back to ${policy}`);
      }
    }
  }
  // Rules that appeared since and name a peer's new bridge (`-o docker0`, `! -o docker0`).
  const newBridges = [...(await bridges())].filter((br) => !before.bridges.has(br) && PEER_BRIDGE.test(br));
  if (newBridges.length) {
    for (const rule of rules(await iptablesSave())) {
      if (before.rules.has(rule)) continue;
      const m = /^(\S+) -A (\S+) (.*)$/.exec(rule);
      if (!m) continue;
      const args = splitRule(m[3]);
      if (!newBridges.some((br) => args.includes(br))) continue;
      await run(['iptables', '-t', m[1], '-D', m[2], ...args]);
      done.push(`iptables -t ${m[1]}: removed rule "-A ${m[2]} ${m[3]}"`);
    }
  }
  for (const br of await bridges()) {
    if (!before.bridges.has(br) && PEER_BRIDGE.test(br)) {
      await run(['ip', 'link', 'delete', br]);
      done.push(`removed bridge ${br}`);
    }
  }
  const fwd = readFileSync(FORWARD_FILE, 'utf8').trim();
  if (fwd !== before.ipForward) {
    writeFileSync(FORWARD_FILE, before.ipForward);
    done.push(`ip_forward back to ${before.ipForward}`);
  }
  return done;
}

/** iptables-save quotes arguments with spaces ("--comment \"a b\""): split like a shell would. */
export function splitRule(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? m[1].replace(/\\"/g, '"') : m[2]);
  return out;
}
