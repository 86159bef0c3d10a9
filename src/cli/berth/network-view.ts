import type { CniNetworkManager, NetworkRecord } from '../../network/index.js';

/** A network as docker's `network inspect` shows it (the fields clients read). */
export function networkView(net: CniNetworkManager, n: NetworkRecord): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const e of net.endpointViews(n)) {
    containers[e.containerId] = { Name: e.name, EndpointID: '', MacAddress: e.mac, IPv4Address: e.ipv4 ? `${e.ipv4}/${n.subnet.split('/')[1]}` : '', IPv6Address: '', Aliases: e.aliases };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    Containers: containers,
    Options: { 'com.docker.network.bridge.name': n.bridge },
    Labels: n.labels,
  };
}
