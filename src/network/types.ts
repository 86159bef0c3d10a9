/**
 * The engine's view of networking (src/engine/network.ts declares the same shapes for the
 * engine): repeated here so that this module, below the engine, never imports it; the
 * engine accepts a CniNetworkManager structurally.
 */
import type { EndpointView } from './manager.js';
import type { PortMapping } from './ports.js';
import type { NetworkRecord } from './store.js';
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
  /**
   * Nothing in the container can change its network namespace (no CAP_NET_ADMIN/SYS_ADMIN,
   * no net.* sysctls): once it has exited, the namespace may go back to the network's pool
   * instead of being deleted. Absent: never.
   */
  recyclable?: boolean;
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
  /**
   * Make the container's namespace and attach it to its networks. `progress.netnsReady` is
   * called once the namespace exists at its path, before the plugins run (a runtime may join
   * it from then on, as long as the container does not start before setup resolves).
   */
  setup(containerId: string, opts: NetworkSetupOptions, progress?: { netnsReady?: () => void }): Promise<NetworkAttachment>;
  /** Idempotent: a container with nothing set up is fine. */
  teardown(containerId: string): Promise<void>;
  /** The namespace path setup will use, known before it runs (it goes into the OCI spec at create). */
  netnsPath?(containerId: string): string;
  /** Validate a request at create, before anything is made: unknown network, bad ports, bad --ip. */
  check?(opts: NetworkSetupOptions): Promise<void>;
  /** For inspect and ps: a container's endpoints with their networks, and its published ports. */
  containerNetworks?(containerId: string): { network: NetworkRecord; endpoint: EndpointView }[];
  ports?(containerId: string): PortMapping[];
  /** The container's namespace may have been changed (`exec --privileged`): never recycle it. */
  taint?(containerId: string): void;
}
