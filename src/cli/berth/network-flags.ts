/**
 * The networking flags of `run` and `create`, as docker spells them, and their place in a
 * RunConfig. Checked further (networks exist, ports parse, --ip fits) by the engine's
 * NetworkManager at create.
 */
import { Option, type Command } from 'commander';
import { BerthError } from '../../errors/index.js';
import type { RunConfig } from '../../engine/index.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export interface NetworkFlags {
  /** Arrays from the command line; a single string from callers that build flags by hand. */
  network?: string | string[];
  net?: string | string[];
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  ip?: string;
  macAddress?: string;
  networkAlias?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function addNetworkFlags(cmd: Command): Command {
  return cmd
    .option('--network <mode>', 'bridge (default), none, host, container:<name|id> or a network name (repeatable)', collect, [])
    .addOption(new Option('--net <mode>', 'alias of --network').hideHelp().argParser(collect).default([]))
    .option('-p, --publish <[ip:][hostPort:]containerPort[/proto]>', "publish a container's port to the host (repeatable)", collect, [])
    .option('-P, --publish-all', 'publish all exposed ports to random host ports')
    .option('--expose <port[/proto]>', 'expose a port (repeatable)', collect, [])
    .option('--ip <address>', 'IPv4 address on the (first) network')
    .option('--mac-address <mac>', 'MAC address on the (first) network')
    .option('--network-alias <name>', 'add a network-scoped alias (repeatable)', collect, [])
    .option('--dns <ip>', 'set custom DNS servers (repeatable)', collect, [])
    .option('--dns-search <domain>', 'set custom DNS search domains (repeatable)', collect, [])
    .option('--dns-option <opt>', 'set DNS options (repeatable)', collect, [])
    .option('--add-host <host:ip>', 'add a custom host-to-IP mapping (repeatable)', collect, []);
}

export function applyNetworkFlags(c: RunConfig, f: NetworkFlags): void {
  const [first, ...rest] = [...list(f.network), ...list(f.net)];
  // no --network: docker's default bridge, as the docker CLI sends it ("default"); the engine
  // gives lo only when the bridge is turned off (BERTH_BRIDGE=none, dockerd's --bridge=none)
  c.networkMode = first || 'default';
  if (rest.length) {
    if ([first, ...rest].some((n) => n === 'none' || n === 'host' || n.startsWith('container:'))) {
      throw new BerthError('INVALID_ARGUMENT', 'conflicting options: none, host and container: networks cannot be combined with others');
    }
    c.extraNetworks = rest;
  }
  const publish = list(f.publish);
  if (publish.length) c.publish = publish;
  if (f.publishAll) c.publishAll = true;
  const expose = list(f.expose);
  if (expose.length) c.exposedPorts = expose.map((p) => (p.includes('/') ? p : `${p}/tcp`));
  if (f.ip) c.ip = f.ip;
  if (f.macAddress) c.macAddress = f.macAddress;
  const aliases = list(f.networkAlias);
  if (aliases.length) c.networkAliases = aliases;
  if (list(f.dns).length) c.dns = list(f.dns);
  if (list(f.dnsSearch).length) c.dnsSearch = list(f.dnsSearch);
  if (list(f.dnsOption).length) c.dnsOptions = list(f.dnsOption);
  const hosts = list(f.addHost);
  for (const h of hosts) {
    const i = h.lastIndexOf(':');
    if (i <= 0 || i === h.length - 1) throw new BerthError('INVALID_ARGUMENT', `invalid argument ${JSON.stringify(h)} for "--add-host" flag: use host:ip`);
  }
  if (hosts.length) c.extraHosts = hosts;
}
