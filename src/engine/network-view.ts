import type { CniNetworkManager, NetworkRecord } from '../network/index.js';
import { endpointId } from './container/network-settings.js';

/** A network as docker's `network inspect` shows it (the fields clients read): the CLI's and the Docker API's. */
export function networkView(net: CniNetworkManager, n: NetworkRecord): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const e of net.endpointViews(n)) {
    containers[e.containerId] = { Name: e.name, EndpointID: endpointId(e.containerId, n.id, e.ifname), MacAddress: e.mac, IPv4Address: e.ipv4 ? `${e.ipv4}/${n.subnet.split('/')[1]}` : '', IPv6Address: '', Aliases: e.aliases };
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
