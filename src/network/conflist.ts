import type { ConfList } from './cni.js';
import type { NetworkRecord } from './store.js';

/**
 * The CNI 1.0 conflist of a network: bridge with host-local IPAM (leases under berth's root,
 * host-local locks that dir, so two berth processes never hand out one address), portmap for
 * `-p`, firewall so a FORWARD policy of DROP (dockerd sets it) still lets containers through
 * (only then: it costs ~70 ms of ADD and DEL),
 * and tuning for `--mac-address` (the last two only in attachments that use them; the
 * endpoint keeps the exact list its ADD used, so its DEL runs the same). An internal network gets no NAT and no default route.
 */
export function conflistFor(n: NetworkRecord, ipamDir: string, want: { ports?: boolean; mac?: boolean; firewall?: boolean } = { ports: true, mac: true, firewall: true }): ConfList {
  return {
    cniVersion: '1.0.0',
    name: cniName(n),
    plugins: [
      {
        type: 'bridge',
        bridge: n.bridge,
        isGateway: true,
        isDefaultGateway: !n.internal,
        ipMasq: !n.internal,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: n.subnet, gateway: n.gateway }]],
          dataDir: ipamDir,
        },
      },
      // each plugin exec costs 5-40 ms: portmap and tuning only where they have work
      ...(want.ports ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : []),
      ...(want.firewall ? [{ type: 'firewall', backend: 'iptables' }] : []),
      ...(want.mac ? [{ type: 'tuning', capabilities: { mac: true } }] : []),
    ],
  };
}

/** The CNI network name: stable across renames, unique per network (leases and chains are keyed by it). */
export function cniName(n: NetworkRecord): string {
  return `berth-${n.id.slice(0, 12)}`;
}
