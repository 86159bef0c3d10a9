import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { BerthError } from '../errors/index.js';
import { HOST_LOCK } from './host-lock.js';

const run = promisify(execFile);

/** Every berth bridge is named with this prefix (default network `berth0`, others `berth-<id>`). */
export const BRIDGE_PREFIX = 'berth';

async function ip(args: string[], what: string): Promise<void> {
  try {
    await run('ip', args);
  } catch (err) {
    const e = err as { stderr?: string };
    throw new BerthError('INTERNAL', `${what}: ip ${args.join(' ')}: ${(e.stderr ?? String(err)).trim()}`);
  }
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/**
 * Create the bridge with its gateway address, up: done when the network is created (not at
 * the first CNI ADD) so its route shows at once in /proc/net/route and no other network,
 * of this or another berth root, can pick an overlapping subnet.
 */
export async function ensureBridge(name: string, gatewayCidr: string): Promise<void> {
  if (!linkExists(name)) await ip(['link', 'add', 'name', name, 'type', 'bridge'], `create bridge ${name}`);
  try {
    await run('ip', ['addr', 'add', gatewayCidr, 'dev', name]);
  } catch (err) {
    if (!/File exists|already assigned/.test(String((err as { stderr?: string }).stderr))) throw BerthError.wrap(err, `address bridge ${name}`);
  }
  await ip(['link', 'set', name, 'up'], `bring bridge ${name} up`);
}

export async function deleteBridge(name: string): Promise<void> {
  if (!linkExists(name)) return;
  await ip(['link', 'del', name], `delete bridge ${name}`);
}

/** The berth bridges on this host (of every berth root). */
export function berthBridges(): string[] {
  return safeReaddir('/sys/class/net').filter((l) => l.startsWith(BRIDGE_PREFIX));
}

/** The ports (veths) attached to berth bridges on this host. */
export function berthBridgePorts(): number {
  let n = 0;
  for (const link of safeReaddir('/sys/class/net')) {
    if (!link.startsWith(BRIDGE_PREFIX)) continue;
    n += safeReaddir(`/sys/class/net/${link}/brif`).length;
  }
  return n;
}

function safeReaddir(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
const FORWARD_RECORD = `${HOST_LOCK}.ip_forward`;

/**
 * Before a CNI ADD: remember the host's ip_forward (the bridge plugin turns it on for a
 * gateway) in a host-wide file, once, so that the last teardown puts back what was there.
 */
export function recordIpForward(): void {
  if (existsSync(FORWARD_RECORD)) return;
  try {
    writeFileSync(FORWARD_RECORD, readFileSync(IP_FORWARD, 'utf8').trim(), { flag: 'wx' });
  } catch {
    /* another berth wrote it first */
  }
}

const FORWARD_CACHE = `${HOST_LOCK}.forward-drops`;
const FORWARD_TTL_MS = 10_000;

/**
 * Whether forwarded packets would be dropped without per-container ACCEPT rules (a FORWARD
 * policy of DROP, as dockerd leaves it): only then does a conflist need the firewall plugin.
 * The answer is kept host-wide for 10 s (`<lock>.forward-drops`): asking iptables costs a
 * process per container start, and the policy changes rarely (dockerd starting).
 */
export async function forwardDrops(): Promise<boolean> {
  try {
    if (Date.now() - statSync(FORWARD_CACHE).mtimeMs < FORWARD_TTL_MS) return readFileSync(FORWARD_CACHE, 'utf8') === '1';
  } catch {
    /* no answer yet */
  }
  let drops: boolean;
  try {
    const { stdout } = await run('iptables', ['-w', '-t', 'filter', '-S', 'FORWARD']);
    drops = /^-P FORWARD DROP/m.test(stdout) || /^-A FORWARD .*-j (DROP|REJECT)/m.test(stdout);
  } catch {
    drops = true;
  }
  try {
    writeFileSync(FORWARD_CACHE, drops ? '1' : '0');
  } catch {
    /* a cache only */
  }
  return drops;
}

/** iptables -S of one table, one rule per line. */
async function rules(table: string): Promise<string[]> {
  try {
    const { stdout } = await run('iptables', ['-w', '-t', table, '-S']);
    return stdout.split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

async function iptables(table: string, args: string[]): Promise<void> {
  await run('iptables', ['-w', '-t', table, ...args]).catch(() => {});
}

/** Split an `iptables -S` line into argv, honouring the double quotes around comments. */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return out;
}

/**
 * The chains the CNI plugins create once per host and never remove (portmap's
 * CNI-HOSTPORT-*, firewall's CNI-FORWARD and CNI-ADMIN): removed, with the rules jumping to
 * them, once no container needs them (no per-container rule left in them).
 */
const SHARED_CHAINS: { table: string; chains: string[]; emptyWhen: (r: string[]) => boolean }[] = [
  {
    table: 'nat',
    chains: ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ'],
    emptyWhen: (r) => !r.some((l) => l.startsWith('-A CNI-HOSTPORT-DNAT ')),
  },
  {
    table: 'filter',
    chains: ['CNI-FORWARD', 'CNI-ADMIN'],
    emptyWhen: (r) => !r.some((l) => (l.startsWith('-A CNI-FORWARD ') && !l.includes('-j CNI-ADMIN')) || l.startsWith('-A CNI-ADMIN ')),
  },
];

export async function removeUnusedChains(): Promise<string[]> {
  const removed: string[] = [];
  for (const { table, chains, emptyWhen } of SHARED_CHAINS) {
    const r = await rules(table);
    if (!r.some((l) => chains.some((c) => l === `-N ${c}`)) || !emptyWhen(r)) continue;
    // jumps into the chains from elsewhere first, then flush and delete them
    for (const l of r) {
      const argv = splitRule(l);
      const j = argv.indexOf('-j');
      if (argv[0] !== '-A' || j < 0 || !chains.includes(argv[j + 1]) || chains.includes(argv[1])) continue;
      await iptables(table, ['-D', ...argv.slice(1)]);
    }
    for (const c of chains) await iptables(table, ['-F', c]);
    for (const c of chains) {
      if (r.includes(`-N ${c}`)) {
        await iptables(table, ['-X', c]);
        removed.push(`${table}/${c}`);
      }
    }
  }
  return removed;
}

/** Put ip_forward back as recorded, once no berth bridge has a port left (and drop the FORWARD-drop answer kept for 10 s). */
export function restoreIpForward(): void {
  rmSync(FORWARD_CACHE, { force: true });
  if (!existsSync(FORWARD_RECORD)) return;
  const was = readFileSync(FORWARD_RECORD, 'utf8').trim();
  if (was === '0' || was === '1') writeFileSync(IP_FORWARD, was);
  rmSync(FORWARD_RECORD, { force: true });
}

/**
 * The bridge plugin's per-container masquerade chain and the POSTROUTING jump into it, which
 * its DEL cannot find without the namespace (it learns the addresses from the interface):
 * named as the plugins name them (pkg/utils FormatChainName: "CNI-" + sha512(network name +
 * container id) in hex, 28 characters; FormatComment), removed in one iptables-restore
 * transaction (each iptables call that deletes costs an RCU grace period with nf_tables,
 * ~15 ms). When that does not match what is there, the slow sweep by comment.
 */
export async function removeMasquerade(network: string, containerId: string, addresses: string[]): Promise<void> {
  const chain = masqueradeChain(network, containerId);
  const comment = `name: "${network}" id: "${containerId}"`;
  const quoted = `"${comment.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  const lines = ['*nat', ...addresses.map((a) => `-D POSTROUTING -s ${a.split('/')[0]}/32 -j ${chain} -m comment --comment ${quoted}`), `-F ${chain}`, `-X ${chain}`, 'COMMIT', ''];
  const ok = await new Promise<boolean>((resolve) => {
    const child = spawn('iptables-restore', ['-w', '--noflush'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
    child.stdin.on('error', () => {});
    child.stdin.end(lines.join('\n'));
  });
  if (!ok) await removeContainerNat(containerId);
}

export function masqueradeChain(network: string, containerId: string): string {
  return `CNI-${createHash('sha512').update(network + containerId).digest('hex')}`.slice(0, 28);
}

/** Per-container masquerade chains the bridge plugin could not remove (its netns was gone): the sweep by comment. */
export async function removeContainerNat(containerId: string): Promise<void> {
  const r = await rules('nat');
  const chains = new Set<string>();
  for (const l of r) {
    if (!l.startsWith('-A ') || !l.includes(`id: \\"${containerId}\\"`) && !l.includes(`id: "${containerId}"`)) continue;
    const argv = splitRule(l);
    await iptables('nat', ['-D', ...argv.slice(1)]);
    const j = argv.indexOf('-j');
    if (j >= 0 && argv[j + 1].startsWith('CNI-') && !argv[j + 1].startsWith('CNI-HOSTPORT')) chains.add(argv[j + 1]);
  }
  for (const c of chains) {
    await iptables('nat', ['-F', c]);
    await iptables('nat', ['-X', c]);
  }
}
