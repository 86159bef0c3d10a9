import type { RunConfig } from './run-config.js';

/**
 * Networking, as the engine sees it. The networking layer (CNI) implements NetworkManager;
 * the engine handles the modes that need no plugin itself: "none" (a new network namespace
 * with only lo; what an absent networkMode means), "host" (the host's namespace) and
 * "container:<name|id>" (another container's namespace, /proc/<pid>/ns/net). "default" is
 * docker's default bridge ("bridge"), the CLI's and the Docker API's default.
 */
// The seam is declared once, by the networking module (src/network/types.ts).
import type { NetworkSetupOptions } from '../network/index.js';
export type { NetworkAttachment, NetworkManager, NetworkSetupOptions } from '../network/index.js';

/** What the NetworkManager is asked for a container, from its run config. */
export function networkSetupOptions(config: RunConfig, name: string, hostname: string, etcDir: string): NetworkSetupOptions {
  const mode = effectiveNetworkMode(config);
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
    recyclable: netnsRecyclable(config),
  };
}

/**
 * Whether nothing in the container can change its network namespace, so that the namespace
 * may serve the next container (docs/network.md, the sandbox pool): no CAP_NET_ADMIN or
 * CAP_SYS_ADMIN (not privileged, not added), no net.* sysctls. /proc/sys stays read-only
 * (DEFAULT_READONLY_PATHS) and the pid namespace is the container's own, so its processes are
 * all gone when its init is.
 */
export function netnsRecyclable(config: RunConfig): boolean {
  if (config.privileged) return false;
  const caps = (config.capAdd ?? []).map((c) => c.toUpperCase().replace(/^CAP_/, ''));
  if (caps.some((c) => c === 'ALL' || c === 'NET_ADMIN' || c === 'SYS_ADMIN')) return false;
  return !Object.keys(config.sysctls ?? {}).some((k) => k.startsWith('net.') || k.startsWith('net/'));
}

export type NetworkMode = { kind: 'none' } | { kind: 'host' } | { kind: 'container'; ref: string } | { kind: 'network'; name: string };

/** The mode a container's config gives: its networkMode, or none when the bridge was disabled for it. */
export function effectiveNetworkMode(config: Pick<RunConfig, 'networkMode' | 'networkDisabled'>): NetworkMode {
  return config.networkDisabled ? { kind: 'none' } : parseNetworkMode(config.networkMode);
}

/** Whether a mode names docker's default bridge ("default" or "bridge"), which BERTH_BRIDGE=none turns off. */
export function isDefaultBridge(mode: string | undefined): boolean {
  return mode === 'default' || mode === 'bridge';
}

export function parseNetworkMode(mode: string | undefined): NetworkMode {
  const m = mode || 'none';
  if (m === 'none') return { kind: 'none' };
  if (m === 'host') return { kind: 'host' };
  if (m.startsWith('container:')) return { kind: 'container', ref: m.slice('container:'.length) };
  return { kind: 'network', name: m === 'default' ? 'bridge' : m };
}
