import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';
import { immediate, migrate, openDatabase, type Db } from '../util/sqlite.js';
import type { CniResult, ConfList } from './cni.js';
import type { PortMapping } from './ports.js';

/** A network: a Linux bridge with a subnet, written out as a CNI conflist per ADD. */
export interface NetworkRecord {
  id: string;
  name: string;
  driver: 'bridge';
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  labels: Record<string, string>;
  created: string;
  /** The default network (docker's `bridge`), created on first use. */
  isDefault: boolean;
}

/** A container's place on one network: its interface, addresses and the cached CNI result. */
export interface EndpointRecord {
  containerId: string;
  networkId: string;
  ifname: string;
  aliases: string[];
  ip?: string;
  mac?: string;
  /** "adding" is written before CNI ADD, so a crash mid-ADD still gets its DEL. */
  state: 'adding' | 'ready';
  conflist: ConfList;
  /** CNI_ARGS and runtimeConfig of the ADD: a DEL must get the same (SPEC.md, DEL). */
  args?: Record<string, string>;
  runtimeConfig?: Record<string, unknown>;
  result?: CniResult;
  /**
   * CNI_CONTAINERID of the ADD (and so of the DEL, the lease, the masquerade chain): a pool
   * id (`sb-<hex>`) for a namespace that may be recycled, else the container's id (absent).
   */
  cniId?: string;
}

/** A container's network namespace and what its /etc files are made of. */
export interface SandboxRecord {
  containerId: string;
  name: string;
  hostname: string;
  netns: string;
  etcDir?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
  ports: PortMapping[];
  /** The berth process setting it up; a dead owner with a dead container means stale. */
  ownerPid: number;
  /** Its namespace may go back to the network's pool at teardown (NetworkSetupOptions.recyclable). */
  recyclable?: boolean;
  /** The pool path the namespace was claimed from: removed too at teardown, in case a crash left it. */
  claimedFrom?: string;
}

/**
 * A prepared sandbox owned by a network, not by a container: a namespace at `netns` with lo
 * up and the network's CNI ADD done under the pool id `id` (its endpoint, as a container's
 * would be). "busy" while a berth process (ownerPid) moves or drains it; "idle" to be claimed.
 */
export interface PoolEntry {
  id: string;
  networkId: string;
  netns: string;
  state: 'idle' | 'busy';
  ownerPid: number;
  /** The container path it is being moved from (a return in progress). */
  from?: string;
  endpoint: EndpointRecord;
}

const MIGRATIONS = [
  `CREATE TABLE networks (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
   CREATE TABLE sandboxes (container_id TEXT PRIMARY KEY, data TEXT NOT NULL);
   CREATE TABLE endpoints (container_id TEXT NOT NULL, network_id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (container_id, network_id));
   CREATE TABLE ports (host_ip TEXT NOT NULL, host_port INTEGER NOT NULL, protocol TEXT NOT NULL, container_id TEXT NOT NULL, PRIMARY KEY (host_ip, host_port, protocol));`,
  `CREATE TABLE pool (id TEXT PRIMARY KEY, network_id TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL);
   CREATE INDEX pool_network ON pool (network_id, state);`,
];

/**
 * Network metadata in `<root>/network.db` (SQLite, WAL): networks, sandboxes, endpoints and
 * the published ports. Every check-then-write runs in one IMMEDIATE transaction, so two
 * berth processes never both get a name, a subnet or a host port.
 */
export class NetworkStore {
  readonly db: Db;

  constructor(root: string) {
    this.db = openDatabase(join(root, 'network.db'));
    migrate(this.db, 'network', MIGRATIONS);
  }

  tx<T>(fn: () => T): T {
    return immediate(this.db, fn);
  }

  networks(): NetworkRecord[] {
    return (this.db.prepare('SELECT data FROM networks ORDER BY name').all() as { data: string }[]).map((r) => JSON.parse(r.data) as NetworkRecord);
  }

  /** By name, full id or a unique id prefix (docker's rules). */
  findNetwork(ref: string): NetworkRecord | undefined {
    const all = this.networks();
    const byName = all.find((n) => n.name === ref || n.id === ref);
    if (byName) return byName;
    const prefix = ref.length >= 1 ? all.filter((n) => n.id.startsWith(ref)) : [];
    if (prefix.length > 1) throw new BerthError('CONFLICT', `network ${JSON.stringify(ref)} is ambiguous (${prefix.length} matches found on id prefix)`);
    return prefix[0];
  }

  getNetwork(ref: string): NetworkRecord {
    const n = this.findNetwork(ref);
    if (!n) throw new BerthError('NOT_FOUND', `network ${ref} not found`);
    return n;
  }

  insertNetwork(n: NetworkRecord): void {
    this.db.prepare('INSERT INTO networks (id, name, data) VALUES (?, ?, ?)').run(n.id, n.name, JSON.stringify(n));
  }

  deleteNetwork(id: string): void {
    this.db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }

  sandbox(containerId: string): SandboxRecord | undefined {
    const r = this.db.prepare('SELECT data FROM sandboxes WHERE container_id = ?').get(containerId) as { data: string } | undefined;
    return r ? (JSON.parse(r.data) as SandboxRecord) : undefined;
  }

  sandboxes(): SandboxRecord[] {
    return (this.db.prepare('SELECT data FROM sandboxes').all() as { data: string }[]).map((r) => JSON.parse(r.data) as SandboxRecord);
  }

  putSandbox(s: SandboxRecord): void {
    this.db.prepare('INSERT OR REPLACE INTO sandboxes (container_id, data) VALUES (?, ?)').run(s.containerId, JSON.stringify(s));
  }

  deleteSandbox(containerId: string): void {
    this.db.prepare('DELETE FROM sandboxes WHERE container_id = ?').run(containerId);
    this.db.prepare('DELETE FROM ports WHERE container_id = ?').run(containerId);
  }

  endpoints(filter: { containerId?: string; networkId?: string } = {}): EndpointRecord[] {
    let rows: { data: string }[];
    if (filter.containerId) rows = this.db.prepare('SELECT data FROM endpoints WHERE container_id = ? ORDER BY rowid').all(filter.containerId) as { data: string }[];
    else if (filter.networkId) rows = this.db.prepare('SELECT data FROM endpoints WHERE network_id = ? ORDER BY rowid').all(filter.networkId) as { data: string }[];
    else rows = this.db.prepare('SELECT data FROM endpoints ORDER BY rowid').all() as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as EndpointRecord);
  }

  putEndpoint(e: EndpointRecord): void {
    this.db.prepare('INSERT OR REPLACE INTO endpoints (container_id, network_id, data) VALUES (?, ?, ?)').run(e.containerId, e.networkId, JSON.stringify(e));
  }

  deleteEndpoint(containerId: string, networkId: string): void {
    this.db.prepare('DELETE FROM endpoints WHERE container_id = ? AND network_id = ?').run(containerId, networkId);
  }

  /** The network's pool (every network's without a filter). */
  poolEntries(networkId?: string): PoolEntry[] {
    const rows = (networkId
      ? this.db.prepare('SELECT data FROM pool WHERE network_id = ? ORDER BY rowid').all(networkId)
      : this.db.prepare('SELECT data FROM pool ORDER BY rowid').all()) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as PoolEntry);
  }

  putPoolEntry(p: PoolEntry): void {
    this.db.prepare('INSERT OR REPLACE INTO pool (id, network_id, state, data) VALUES (?, ?, ?, ?)').run(p.id, p.networkId, p.state, JSON.stringify(p));
  }

  deletePoolEntry(id: string): void {
    this.db.prepare('DELETE FROM pool WHERE id = ?').run(id);
  }

  /** Host ports taken by other containers of this root. */
  takenPorts(): { hostIP: string; hostPort: number; protocol: string; containerId: string }[] {
    return this.db.prepare('SELECT host_ip AS hostIP, host_port AS hostPort, protocol, container_id AS containerId FROM ports').all() as {
      hostIP: string;
      hostPort: number;
      protocol: string;
      containerId: string;
    }[];
  }

  reservePort(m: PortMapping, containerId: string): void {
    this.db.prepare('INSERT INTO ports (host_ip, host_port, protocol, container_id) VALUES (?, ?, ?, ?)').run(m.hostIP, m.hostPort, m.protocol, containerId);
  }
}

/** A pool id: CNI_CONTAINERID of a recyclable namespace's ADD (it outlives the first container). */
export function newPoolId(): string {
  return `sb-${randomBytes(12).toString('hex')}`;
}

export function newNetworkId(): string {
  return randomBytes(32).toString('hex');
}
