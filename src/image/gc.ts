import type { ImageDeps } from './deps.js';
import { chainIds } from './chain.js';
import { extractChainId } from './snapshots.js';
import { isIndexType, isManifestType } from './manifest.js';

export interface GcResult {
  blobs: string[];
  snapshots: string[];
  ingests: string[];
  reclaimed: number;
}

/**
 * Mark and sweep (containerd's GC model): roots are the image records' targets and everything
 * a live lease holds (pulls in flight, containers using an image). From each root, indexes lead
 * to manifests, manifests to their config and layers, configs to the snapshots of their chain
 * IDs. Blobs and snapshots nothing reaches are removed, and so are ingests no live process
 * holds. `only` and `onlySnapshots` limit the sweep to some blobs and snapshots (cleanup
 * after a failed pull).
 */
export async function collectGarbage(deps: ImageDeps, opts: { only?: Set<string>; onlySnapshots?: Set<string> } = {}): Promise<GcResult> {
  const leased = deps.content.leases.resources();
  const blobs = new Set<string>();
  const snapshots = new Set<string>(leased.get('snapshot') ?? []);

  const walk = async (digest: string, mediaType: string | undefined): Promise<void> => {
    if (blobs.has(digest)) return;
    blobs.add(digest);
    const size = deps.content.size(digest);
    if (size === undefined) return;
    if (mediaType !== undefined && !isIndexType(mediaType) && !isManifestType(mediaType)) return;
    if (size > 4 << 20) return;
    let j: { manifests?: { digest: string; mediaType: string }[]; config?: { digest: string }; layers?: { digest: string }[] };
    try {
      j = JSON.parse((await deps.content.read(digest)).toString('utf8'));
    } catch {
      return; // not JSON: a leaf
    }
    if (!j || typeof j !== 'object') return;
    if (Array.isArray(j.manifests)) {
      for (const m of j.manifests) if (typeof m?.digest === 'string') await walk(m.digest, m.mediaType);
    } else if (j.config && typeof j.config.digest === 'string' && Array.isArray(j.layers)) {
      blobs.add(j.config.digest);
      for (const l of j.layers) if (typeof l?.digest === 'string') blobs.add(l.digest);
      try {
        const cfg = JSON.parse((await deps.content.read(j.config.digest)).toString('utf8')) as { rootfs?: { diff_ids?: string[] } };
        for (const c of chainIds(cfg.rootfs?.diff_ids ?? [])) snapshots.add(c);
      } catch {
        // config missing or unreadable: its snapshots are not reachable through it
      }
    }
  };

  for (const rec of deps.images.list()) await walk(rec.target.digest, rec.target.mediaType);
  for (const d of leased.get('content') ?? []) await walk(d, undefined);
  for (const d of leased.get('image') ?? []) await walk(d, undefined);

  const result: GcResult = { blobs: [], snapshots: [], ingests: [], reclaimed: 0 };
  for (const d of deps.content.list()) {
    if (blobs.has(d) || (opts.only && !opts.only.has(d))) continue;
    const size = deps.content.size(d) ?? 0;
    // Re-checked under the blob's lock: a pull that leased it after the mark keeps it.
    if (await deps.content.deleteUnused(d, () => deps.content.leases.holders('content', d).length === 0 && deps.images.byDigest(d).length === 0)) {
      result.reclaimed += size;
      result.blobs.push(d);
    }
  }
  const unpacker = deps.unpacker;
  if (unpacker?.list && unpacker.remove && (!opts.only || opts.onlySnapshots)) {
    // An unpack leftover is live while a lease holds its chain ID (a pull in flight).
    let pending = (await unpacker.list()).filter((c) => !snapshots.has(extractChainId(c) ?? c) && (!opts.onlySnapshots || opts.onlySnapshots.has(c)));
    // A snapshot with children cannot go before them: sweep until no progress.
    for (let pass = 0; pending.length && pass < 64; pass++) {
      const next: string[] = [];
      for (const c of pending) {
        try {
          await unpacker.remove(c);
          result.snapshots.push(c);
        } catch {
          next.push(c);
        }
      }
      // What still has children (e.g. a container's snapshot on top) stays for a later GC.
      if (next.length === pending.length) break;
      pending = next;
    }
  }
  if (opts.only) return result;
  for (const ing of deps.content.staleIngests()) {
    deps.content.removeIngest(ing.ref);
    result.reclaimed += ing.size;
    result.ingests.push(ing.ref);
  }
  return result;
}
