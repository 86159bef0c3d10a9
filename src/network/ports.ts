import { BerthError } from '../errors/index.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** One published port, CNI's portMappings capability words (CONVENTIONS.md). */
export interface PortMapping {
  hostIP: string;
  /** 0 until a random host port is chosen (`-p 80`, `-P`). */
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

function port(s: string, what: string, spec: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) {
    throw new BerthError('INVALID_ARGUMENT', `invalid port specification ${JSON.stringify(spec)}: ${what} ${JSON.stringify(s)} is not a port number (1-65535)`);
  }
  return Number(s);
}

/**
 * docker's `-p`: `[hostip:][hostport:]containerport[/tcp|udp|sctp]`; an empty or absent host
 * port means a random one. Ranges are not supported.
 */
export function parsePublish(spec: string): PortMapping {
  let rest = spec.trim();
  let protocol: Protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw new BerthError('INVALID_ARGUMENT', `invalid port specification ${JSON.stringify(spec)}: unknown protocol ${JSON.stringify(p)}`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  if (rest.includes('-')) throw new BerthError('INVALID_ARGUMENT', `invalid port specification ${JSON.stringify(spec)}: port ranges are not supported`);
  const parts = rest.split(':');
  let hostIP = '';
  let host = '';
  let container: string;
  if (parts.length === 1) container = parts[0];
  else if (parts.length === 2) [host, container] = parts;
  else if (parts.length === 3) [hostIP, host, container] = parts;
  else throw new BerthError('INVALID_ARGUMENT', `invalid port specification ${JSON.stringify(spec)}`);
  if (hostIP && !/^\d{1,3}(\.\d{1,3}){3}$/.test(hostIP)) {
    throw new BerthError('INVALID_ARGUMENT', `invalid port specification ${JSON.stringify(spec)}: host IP ${JSON.stringify(hostIP)} is not an IPv4 address`);
  }
  return {
    hostIP: hostIP === '0.0.0.0' ? '' : hostIP,
    hostPort: host ? port(host, 'host port', spec) : 0,
    containerPort: port(container, 'container port', spec),
    protocol,
  };
}

/** An image's ExposedPorts key ("80/tcp") as a mapping to a random host port (`-P`). */
export function exposedToMapping(key: string): PortMapping {
  return parsePublish(key.includes('/') ? key : `${key}/tcp`);
}

/** docker port's line: "80/tcp -> 0.0.0.0:32768". */
export function formatMapping(m: PortMapping): string {
  return `${m.containerPort}/${m.protocol} -> ${m.hostIP || '0.0.0.0'}:${m.hostPort}`;
}
