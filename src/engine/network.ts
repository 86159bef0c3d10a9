import type { RunConfig } from './run-config.js';

/**
 * Networking, as the engine sees it. The networking layer (CNI) implements NetworkManager;
 * until it is wired in, the engine handles the modes that need no plugin itself: "none" (a
 * new network namespace with only lo, the default here), "host" (the host's namespace) and
 * "container:<name|id>" (another container's namespace, /proc/<pid>/ns/net).
 */
export interface NetworkSetupOptions {
  /** The network to join (a name for NetworkManager; never none/host/container:). */
  network: string;
  /** More networks to join (several `--network`), after the first. */
  extraNetworks?: string[];
  /** The container's name: what peers on a user network resolve. */
  name?: string;
  hostname: string;
  aliases?: string[];
  /** `--ip` and `--mac-address` on the first network. */
  ip?: string;
  mac?: string;
  /** "8080:80/tcp" style publications. */
  ports?: string[];
  /** The image's (and --expose's) ports, published to random host ports with `-P`. */
  exposedPorts?: string[];
  publishAll?: boolean;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** `--add-host host:ip`. */
  extraHosts?: string[];
  /** Where the engine keeps the container's `hosts` and `resolv.conf` (bind-mounted into it); rewritten in place. */
  etcDir?: string;
}

export interface NetworkAttachment {
  /** The namespace the container joins (a bind-mounted netns file). */
  netnsPath: string;
  ips: string[];
  /** Lines for the container's /etc/hosts. */
  hostsEntries: string[];
  /** The container's /etc/resolv.conf content. */
  resolvConf?: string;
}

export interface NetworkManager {
  setup(containerId: string, opts: NetworkSetupOptions): Promise<NetworkAttachment>;
  /** Idempotent: a container with nothing set up is fine. */
  teardown(containerId: string): Promise<void>;
  /** The namespace path setup will use, known before it runs (it goes into the OCI spec at create). */
  netnsPath?(containerId: string): string;
  /** Validate a request at create, before anything is made: unknown network, bad ports, bad --ip. */
  check?(opts: NetworkSetupOptions): Promise<void>;
}

/** What the NetworkManager is asked for a container, from its run config. */
export function networkSetupOptions(config: RunConfig, name: string, hostname: string, etcDir: string): NetworkSetupOptions {
  const mode = parseNetworkMode(config.networkMode);
  return {
    network: mode.kind === 'network' ? mode.name : 'bridge',
    ...(config.extraNetworks?.length ? { extraNetworks: config.extraNetworks } : {}),
    name,
    hostname,
    ...(config.networkAliases?.length ? { aliases: config.networkAliases } : {}),
    ...(config.ip ? { ip: config.ip } : {}),
    ...(config.macAddress ? { mac: config.macAddress } : {}),
    ...(config.publish?.length ? { ports: config.publish } : {}),
    ...(config.publishAll ? { publishAll: true, exposedPorts: config.exposedPorts ?? [] } : {}),
    ...(config.dns?.length ? { dns: config.dns } : {}),
    ...(config.dnsSearch?.length ? { dnsSearch: config.dnsSearch } : {}),
    ...(config.dnsOptions?.length ? { dnsOptions: config.dnsOptions } : {}),
    ...(config.extraHosts?.length ? { extraHosts: config.extraHosts } : {}),
    etcDir,
  };
}

export type NetworkMode = { kind: 'none' } | { kind: 'host' } | { kind: 'container'; ref: string } | { kind: 'network'; name: string };

export function parseNetworkMode(mode: string | undefined): NetworkMode {
  const m = mode || 'none';
  if (m === 'none') return { kind: 'none' };
  if (m === 'host') return { kind: 'host' };
  if (m.startsWith('container:')) return { kind: 'container', ref: m.slice('container:'.length) };
  return { kind: 'network', name: m === 'default' ? 'bridge' : m };
}
