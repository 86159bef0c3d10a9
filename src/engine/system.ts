/**
 * docker system df and prune over the engine: what images, containers, volumes and the build
 * cache take on disk, and removing what nothing uses, including what crashed containers and
 * crashed berth processes left (records stuck in removal, bundle and log dirs without a record,
 * snapshot dirs without a record, stale ingests).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { listImages, pruneImages } from '../image/index.js';
import { isMounted } from '../sys/mount.js';
import { detachUnder, unmountAll } from '../sys/mount.js';
import type { Engine } from './engine.js';
import { monitorPid } from './monitor/index.js';
import { refreshContainer } from './container/status.js';
import { removeContainer } from './container/remove.js';
import { pidAlive } from '../util/process.js';

export interface DfRow {
  type: 'Images' | 'Containers' | 'Local Volumes' | 'Build Cache';
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/** docker system df's four rows. */
export async function systemDf(engine: Engine): Promise<DfRow[]> {
  const containers = engine.containers.list().map((c) => refreshContainer(engine, c));
  const images = await listImages(engine.images);
  const usedIds = new Set(containers.map((c) => c.imageId));
  // an image id counts once however many names it has (docker counts images, not tags)
  const byId = new Map<string, number>();
  for (const i of images) byId.set(i.id, Math.max(byId.get(i.id) ?? 0, i.size));
  let imgSize = 0;
  let imgReclaim = 0;
  for (const [id, size] of byId) {
    imgSize += size;
    if (!usedIds.has(id)) imgReclaim += size;
  }
  let cSize = 0;
  let cReclaim = 0;
  for (const c of containers) {
    let size = 0;
    try {
      size = (await engine.snapshotter.usage(c.snapshotKey)).size;
    } catch {
      /* no snapshot (being removed) */
    }
    cSize += size;
    if (c.state.status !== 'running' && c.state.status !== 'paused' && c.state.status !== 'restarting') cReclaim += size;
  }
  const vols = engine.volumes.list();
  let vSize = 0;
  let vReclaim = 0;
  let vActive = 0;
  for (const v of vols) {
    const size = engine.volumes.size(v.name);
    vSize += size;
    if (engine.volumes.usedBy(v.name).length) vActive++;
    else vReclaim += size;
  }
  return [
    { type: 'Images', total: byId.size, active: [...byId.keys()].filter((id) => usedIds.has(id)).length, size: imgSize, reclaimable: imgReclaim },
    { type: 'Containers', total: containers.length, active: containers.filter((c) => c.state.status === 'running' || c.state.status === 'paused').length, size: cSize, reclaimable: cReclaim },
    { type: 'Local Volumes', total: vols.length, active: vActive, size: vSize, reclaimable: vReclaim },
    { type: 'Build Cache', total: 0, active: 0, size: 0, reclaimable: 0 },
  ];
}

export interface PruneResult {
  containers: string[];
  networks: string[];
  volumes: string[];
  images: string[];
  /** Leftovers of crashed containers or processes: paths and records removed. */
  leftovers: string[];
  reclaimed: number;
}

/**
 * docker system prune: stopped containers, unused networks, dangling images (all unused with
 * `all`), unused volumes with `volumes` (anonymous ones; every unused one with `all`), and the
 * leftovers of crashes.
 */
export async function systemPrune(engine: Engine, opts: { all?: boolean; volumes?: boolean } = {}): Promise<PruneResult> {
  const r: PruneResult = { containers: [], networks: [], volumes: [], images: [], leftovers: [], reclaimed: 0 };
  for (const c0 of engine.containers.list()) {
    const c = refreshContainer(engine, c0);
    if (c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting') continue;
    // "removing" by a dead process and "dead" are crash leftovers: rm finishes them
    if (c.state.status === 'removing' && c.state.removingBy && pidAlive(c.state.removingBy)) continue;
    try {
      r.reclaimed += (await engine.snapshotter.usage(c.snapshotKey)).size;
    } catch {
      /* no snapshot */
    }
    await removeContainer(engine, c.id, { force: true, volumes: false });
    r.containers.push(c.id);
  }
  r.leftovers.push(...(await removeOrphanDirs(engine)));
  const net = engine.network as { prune?: () => Promise<string[]> } | undefined;
  if (net?.prune) r.networks = await net.prune();
  if (opts.volumes) {
    const v = engine.volumes.prune(!!opts.all);
    r.volumes = v.removed;
    r.reclaimed += v.reclaimed;
  }
  await engine.snapshotter.cleanup();
  const img = await pruneImages(engine.images, { all: !!opts.all });
  r.images = [...img.untagged, ...img.blobs];
  r.reclaimed += img.reclaimed;
  return r;
}

/** Bundle dirs (state) and log dirs (root) whose container has no record, and no live monitor. */
async function removeOrphanDirs(engine: Engine): Promise<string[]> {
  const ids = engine.containers.list().map((c) => c.id);
  const out: string[] = [];
  const bundles = join(engine.state, 'c');
  if (existsSync(bundles)) {
    for (const n of readdirSync(bundles)) {
      if (ids.some((id) => id.startsWith(n))) continue;
      const dir = join(bundles, n);
      if (monitorPid(dir) !== undefined) continue;
      const rootfs = join(dir, 'rootfs');
      if (isMounted(rootfs)) await unmountAll(rootfs);
      detachUnder(dir);
      rmSync(dir, { recursive: true, force: true });
      out.push(dir);
    }
  }
  const logs = join(engine.root, 'containers');
  if (existsSync(logs)) {
    for (const n of readdirSync(logs)) {
      if (ids.includes(n)) continue;
      rmSync(join(logs, n), { recursive: true, force: true });
      out.push(join(logs, n));
    }
  }
  return out;
}
