/**
 * Networking, as the engine sees it. The networking layer (CNI) implements NetworkManager;
 * until it is wired in, the engine handles the modes that need no plugin itself: "none" (a
 * new network namespace with only lo, the default here), "host" (the host's namespace) and
 * "container:<name|id>" (another container's namespace, /proc/<pid>/ns/net).
 */
export interface NetworkSetupOptions {
  /** The network to join (a name for NetworkManager; never none/host/container:). */
  network: string;
  hostname: string;
  aliases?: string[];
  /** "8080:80/tcp" style publications. */
  ports?: string[];
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
}

export type NetworkMode = { kind: 'none' } | { kind: 'host' } | { kind: 'container'; ref: string } | { kind: 'network'; name: string };

export function parseNetworkMode(mode: string | undefined): NetworkMode {
  const m = mode || 'none';
  if (m === 'none') return { kind: 'none' };
  if (m === 'host') return { kind: 'host' };
  if (m.startsWith('container:')) return { kind: 'container', ref: m.slice('container:'.length) };
  return { kind: 'network', name: m === 'default' ? 'bridge' : m };
}
