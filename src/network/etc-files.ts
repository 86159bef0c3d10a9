import { readFileSync } from 'node:fs';

export interface HostsPeer {
  ip: string;
  names: string[];
}

/**
 * A container's /etc/hosts: docker's fixed lines, its own addresses with its hostname, the
 * other containers on its user networks by name and alias (berth's name resolution: the
 * files are rewritten in place whenever a container joins or leaves, so the bind mount in
 * each container sees the change), then `--add-host` lines.
 */
export function renderHosts(hostname: string, own: string[], peers: HostsPeer[], extraHosts: string[]): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const h of extraHosts) {
    const i = h.lastIndexOf(':');
    lines.push(`${h.slice(i + 1)}\t${h.slice(0, i)}`);
  }
  if (own.length) for (const a of own) lines.push(`${a}\t${hostname}`);
  else lines.push(`127.0.1.1\t${hostname}`);
  for (const p of peers) lines.push(`${p.ip}\t${[...new Set(p.names)].join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * resolv.conf: `--dns`, `--dns-search`, `--dns-option` replace the host's; the host's file
 * loses its loopback nameservers (they mean nothing in the container's namespace).
 */
export function renderResolvConf(opts: { dns: string[]; dnsSearch: string[]; dnsOptions: string[] }, hostText = readHost()): string {
  const host = hostText.split('\n');
  const ns = opts.dns.length ? opts.dns : host.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]).filter((a) => a && !a.startsWith('127.') && a !== '::1');
  const search = opts.dnsSearch.length ? opts.dnsSearch : host.filter((l) => /^\s*(search|domain)\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  const options = opts.dnsOptions.length ? opts.dnsOptions : host.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  const out = ns.map((a) => `nameserver ${a}`);
  if (search.length && !(search.length === 1 && search[0] === '.')) out.push(`search ${search.join(' ')}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return out.length ? `${out.join('\n')}\n` : '';
}

function readHost(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
