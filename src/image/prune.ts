import type { ImageDeps } from './deps.js';
import { collectGarbage, type GcResult } from './gc.js';
import { familiarString, parseReference } from './reference.js';
import { resolveTarget } from './resolve.js';

/**
 * `berth image prune`: collect garbage (blobs, snapshots and stale ingests nothing needs);
 * with `all`, first untag every image that no container uses (no "image" lease on its id).
 */
export async function pruneImages(deps: ImageDeps, opts: { all?: boolean } = {}): Promise<GcResult & { untagged: string[] }> {
  const untagged: string[] = [];
  if (opts.all) {
    for (const rec of deps.images.list()) {
      const img = await resolveTarget(deps, rec).catch(() => undefined);
      if (img && deps.content.leases.holders('image', img.id).length) continue;
      deps.images.delete(rec.name);
      untagged.push(familiarString(parseReference(rec.name)));
    }
  }
  return { ...(await collectGarbage(deps)), untagged };
}
