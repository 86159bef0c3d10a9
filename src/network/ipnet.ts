import { readFileSync } from 'node:fs';
import { BerthError } from '../errors/index.js';

/** An IPv4 network: `net` is the masked address as an unsigned 32-bit number. */
export interface Ipv4Net {
  net: number;
  prefix: number;
}

/** "10.1.2.3" -> number; throws INVALID_ARGUMENT on anything else. */
export function parseIp(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new BerthError('INVALID_ARGUMENT', `invalid IPv4 address ${JSON.stringify(s)}`);
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.1.0.0/16" -> network; the host bits must be zero (docker refuses them too). */
export function parseCidr(s: string): Ipv4Net {
  const [a, p, extra] = s.trim().split('/');
  if (extra !== undefined || p === undefined || !/^\d{1,2}$/.test(p) || Number(p) > 32) {
    throw new BerthError('INVALID_ARGUMENT', `invalid subnet ${JSON.stringify(s)}: use an IPv4 CIDR like 10.1.0.0/24`);
  }
  const prefix = Number(p);
  const ip = parseIp(a);
  const net = (ip & maskOf(prefix)) >>> 0;
  if (net !== ip) throw new BerthError('INVALID_ARGUMENT', `invalid subnet ${JSON.stringify(s)}: host bits are set (did you mean ${formatCidr({ net, prefix })}?)`);
  if (prefix > 30) throw new BerthError('INVALID_ARGUMENT', `invalid subnet ${JSON.stringify(s)}: a network needs at least a /30`);
  return { net, prefix };
}

export function formatCidr(n: Ipv4Net): string {
  return `${formatIp(n.net)}/${n.prefix}`;
}

export function contains(n: Ipv4Net, ip: number): boolean {
  return ((ip & maskOf(n.prefix)) >>> 0) === n.net;
}

export function overlaps(a: Ipv4Net, b: Ipv4Net): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.net & maskOf(p)) >>> 0) === ((b.net & maskOf(p)) >>> 0);
}

/** The first usable address (docker's and podman's default gateway). */
export function firstHost(n: Ipv4Net): number {
  return n.net + 1;
}

export function broadcast(n: Ipv4Net): number {
  return (n.net | ~maskOf(n.prefix)) >>> 0;
}

/**
 * The host's IPv4 routes (proc(5) /proc/net/route: destination and mask in host byte order
 * hex, little-endian here), without the default route: what a new subnet must not overlap.
 */
export function hostRoutes(text = readRouteTable()): Ipv4Net[] {
  const out: Ipv4Net[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = leHex(f[1]);
    const mask = leHex(f[7]);
    if (mask === 0) continue;
    let prefix = 0;
    while (prefix < 32 && (mask & (0x80000000 >>> prefix)) !== 0) prefix++;
    out.push({ net: dest, prefix });
  }
  return out;
}

function leHex(h: string): number {
  const n = parseInt(h, 16) >>> 0;
  return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | (n >>> 24)) >>> 0;
}

function readRouteTable(): string {
  try {
    return readFileSync('/proc/net/route', 'utf8');
  } catch {
    return '';
  }
}

/**
 * The first /24 of berth's pool (10.123.0.0/16) that overlaps nothing taken: berth's own
 * pool, away from docker's 172.17/16.. and podman's 10.88/16 and 10.89/16 defaults.
 */
export function pickSubnet(taken: Ipv4Net[]): Ipv4Net {
  const base = parseIp('10.123.0.0');
  for (let i = 0; i < 256; i++) {
    const cand = { net: (base + (i << 8)) >>> 0, prefix: 24 };
    if (!taken.some((t) => overlaps(t, cand))) return cand;
  }
  throw new BerthError('RESOURCE_EXHAUSTED', 'no free subnet left in 10.123.0.0/16: remove unused networks or pass --subnet');
}
