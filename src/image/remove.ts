import { BerthError } from '../errors/index.js';
import type { ImageDeps } from './deps.js';
import { collectGarbage } from './gc.js';
import { familiarString, formatReference, parseReference } from './reference.js';
import { findImages, resolveTarget } from './resolve.js';

export interface RemoveResult {
  untagged: string[];
  /** Image ids no name refers to any more. */
  deleted: string[];
  reclaimed: number;
}

/**
 * Remove an image by name or id (`berth rmi`). By name it untags that name; by id it removes
 * every name of the image (refused when there are several, unless forced). An image that a
 * container uses (a lease of kind "image" on its id, taken by the engine) is refused unless
 * forced; forcing untags it and GC keeps its content while the lease holds it.
 */
export async function removeImage(deps: ImageDeps, nameOrId: string, opts: { force?: boolean; prune?: boolean } = {}): Promise<RemoveResult> {
  const what = `remove image ${JSON.stringify(nameOrId)}`;
  const matches = await findImages(deps, nameOrId).catch((err) => {
    throw BerthError.wrap(err, what);
  });
  const img = matches[0];
  let byName = false;
  try {
    byName = deps.images.get(formatReference(parseReference(nameOrId))) !== undefined;
  } catch {
    byName = false; // not a name: an id
  }
  const users = deps.content.leases.holders('image', img.id);
  if (users.length && !opts.force) {
    throw new BerthError('CONFLICT', `${what}: image ${img.id.slice(7, 19)} is in use by ${users.join(', ')} (use --force)`);
  }
  // Every name that points at this image id.
  const all = [];
  for (const rec of deps.images.list()) {
    const r = await resolveTarget(deps, rec).catch(() => undefined);
    if (r && r.id === img.id) all.push(rec.name);
  }
  let names: string[];
  if (byName) names = [img.record.name];
  else {
    if (all.length > 1 && !opts.force) {
      throw new BerthError('CONFLICT', `${what}: image is referenced by ${all.length} names (${all.join(', ')}); remove them by name or use --force`);
    }
    names = all;
  }
  for (const n of names) deps.images.delete(n);
  const result: RemoveResult = { untagged: names.map((n) => familiarString(parseReference(n))), deleted: [], reclaimed: 0 };
  if (all.every((n) => names.includes(n))) result.deleted.push(img.id);
  for (const n of names) deps.onEvent?.('untag', img.id, { name: n });
  for (const d of result.deleted) deps.onEvent?.('delete', d, { name: d });
  if (opts.prune !== false) result.reclaimed = (await collectGarbage(deps)).reclaimed;
  return result;
}
