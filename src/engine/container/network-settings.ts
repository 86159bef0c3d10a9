/**
 * A container's networking as docker shows it: `NetworkSettings` of `docker inspect` and
 * `Ports` of `GET /containers/json`. One place for the CLI's `berth inspect` and the Docker
 * API, from what the NetworkManager reports (its optional containerNetworks and ports).
 */
import { createHash } from 'node:crypto';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { effectiveNetworkMode } from '../network.js';

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

export interface EndpointSettings {
  IPAMConfig: null;
  Links: null;
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
  DriverOpts: null;
}

export interface NetworkSettings {
  Bridge: string;
  SandboxID: string;
  HairpinMode: boolean;
  LinkLocalIPv6Address: string;
  LinkLocalIPv6PrefixLen: number;
  Ports: Record<string, PortBinding[] | null>;
  SandboxKey: string;
  SecondaryIPAddresses: null;
  SecondaryIPv6Addresses: null;
  EndpointID: string;
  Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}

/**
 * An endpoint's id: docker's is 64 hex of a random id; berth keeps no separate one, so it is
 * derived from what identifies the endpoint (container, network, interface): stable while
 * the endpoint exists, the same in `network inspect`'s Containers.
 */
export function endpointId(containerId: string, networkId: string, ifname: string): string {
  return createHash('sha256').update(`${containerId}\0${networkId}\0${ifname}`).digest('hex');
}

function emptyEndpoint(networkId = ''): EndpointSettings {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: '',
    DriverOpts: null,
  };
}

/**
 * docker inspect's NetworkSettings. `Networks` has one entry per network the container is on
 * (the default network under docker's name `bridge`); a stopped container keeps its
 * configured networks with empty addresses, as docker shows them. The top-level IPAddress,
 * Gateway, MacAddress, EndpointID and IPPrefixLen are the default bridge's only (docker's
 * deprecated fields: empty on user networks). SandboxKey is the namespace's path: the
 * bind-mounted netns file on CNI networks, else /proc/<pid>/ns/net while it runs.
 */
export function networkSettings(engine: Engine, rec: ContainerRecord): NetworkSettings {
  const c = rec.config;
  const net = engine.network;
  const Networks: Record<string, EndpointSettings> = {};
  let top = emptyEndpoint();
  const attached = net?.containerNetworks?.(rec.id) ?? [];
  for (const { network, endpoint } of attached) {
    const key = network.isDefault ? 'bridge' : network.name;
    const ep: EndpointSettings = {
      ...emptyEndpoint(network.id),
      Aliases: endpoint.aliases.length ? endpoint.aliases : null,
      EndpointID: endpointId(rec.id, network.id, endpoint.ifname),
      Gateway: network.gateway,
      IPAddress: endpoint.ipv4,
      IPPrefixLen: endpoint.ipv4 ? Number(network.subnet.split('/')[1]) : 0,
      MacAddress: endpoint.mac,
    };
    Networks[key] = ep;
    if (network.isDefault) top = ep;
  }
  // the networks it asked for and is not on now (not started, stopped): docker keeps their entries
  const mode = effectiveNetworkMode(c);
  const configured = mode.kind === 'network' ? [mode.name, ...(c.extraNetworks ?? [])] : mode.kind === 'container' ? [] : [mode.kind];
  for (const name of configured) Networks[name === 'default' ? 'bridge' : name] ??= emptyEndpoint();

  const Ports: Record<string, PortBinding[] | null> = {};
  for (const p of c.exposedPorts ?? []) Ports[p.includes('/') ? p : `${p}/tcp`] = null;
  for (const m of net?.ports?.(rec.id) ?? []) {
    (Ports[`${m.containerPort}/${m.protocol}`] ??= []).push({ HostIp: m.hostIP || '0.0.0.0', HostPort: m.hostPort ? String(m.hostPort) : '' });
  }
  const running = rec.state.status === 'running' || rec.state.status === 'paused';
  const SandboxKey = attached.length && net?.netnsPath ? net.netnsPath(rec.id) : running && rec.state.pid ? `/proc/${rec.state.pid}/ns/net` : '';
  return {
    Bridge: '',
    SandboxID: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports,
    SandboxKey,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: top.EndpointID,
    Gateway: top.Gateway,
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: top.IPAddress,
    IPPrefixLen: top.IPPrefixLen,
    IPv6Gateway: '',
    MacAddress: top.MacAddress,
    Networks,
  };
}

/** `GET /containers/json`'s Ports: one entry per published port. */
export function portSummary(engine: Engine, rec: ContainerRecord): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] {
  return (engine.network?.ports?.(rec.id) ?? []).map((m) => ({
    IP: m.hostIP || '0.0.0.0',
    PrivatePort: m.containerPort,
    ...(m.hostPort ? { PublicPort: m.hostPort } : {}),
    Type: m.protocol,
  }));
}
