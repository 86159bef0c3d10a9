import { BerthError } from '../errors/index.js';
import type { Descriptor, ImageConfig, ImageManifest, Platform } from '../spec/image.js';
import { chainIds } from './chain.js';
import type { ImageDeps } from './deps.js';
import { isIndexType, isManifestType, parseConfig, parseIndex, parseManifest } from './manifest.js';
import { hostPlatform, selectPlatform } from './platform.js';
import { formatReference, looksLikeImageId, parseReference } from './reference.js';
import type { ImageRecord } from './store.js';

/** An image as stored locally, resolved to one platform's manifest and config. */
export interface LocalImage {
  record: ImageRecord;
  manifestDesc: Descriptor;
  manifest: ImageManifest;
  configDesc: Descriptor;
  config: ImageConfig;
  /** The image id: the config's digest, as docker names images. */
  id: string;
  chainIds: string[];
}

/** Resolve a record's target to one platform's manifest among the manifests present. */
export async function resolveTarget(deps: ImageDeps, record: ImageRecord, platform: Platform = hostPlatform()): Promise<LocalImage> {
  const what = `resolve image ${record.name}`;
  let desc = record.target;
  if (isIndexType(desc.mediaType)) {
    const index = parseIndex(await deps.content.read(desc.digest), what);
    const present = index.manifests.filter((m) => isManifestType(m.mediaType) && deps.content.has(m.digest));
    const chosen = selectPlatform(present, platform) ?? present[0];
    if (!chosen) throw new BerthError('NOT_FOUND', `${what}: no manifest of its index is stored`);
    desc = chosen;
  }
  if (!isManifestType(desc.mediaType)) throw new BerthError('NOT_IMPLEMENTED', `${what}: media type ${desc.mediaType} is not supported`);
  const manifest = parseManifest(await deps.content.read(desc.digest), what);
  const config = parseConfig(await deps.content.read(manifest.config.digest), manifest.layers.length, what);
  return {
    record,
    manifestDesc: desc,
    manifest,
    configDesc: manifest.config,
    config,
    id: manifest.config.digest,
    chainIds: chainIds(config.rootfs.diff_ids),
  };
}

/**
 * Find local images by a name (`busybox`, `host/x:1`, `x@sha256:...`) or an image id or id
 * prefix (12+ hex digits), as docker does: a name first, then an id.
 */
export async function findImages(deps: ImageDeps, nameOrId: string): Promise<LocalImage[]> {
  let ref;
  try {
    ref = parseReference(nameOrId);
  } catch (err) {
    if (!looksLikeImageId(nameOrId)) throw err;
  }
  if (ref) {
    const rec = deps.images.get(formatReference(ref));
    if (rec) return [await resolveTarget(deps, rec)];
  }
  if (looksLikeImageId(nameOrId)) {
    const prefix = nameOrId.startsWith('sha256:') ? nameOrId : `sha256:${nameOrId}`;
    const out: LocalImage[] = [];
    for (const rec of deps.images.list()) {
      const img = await resolveTarget(deps, rec).catch(() => undefined);
      if (img && img.id.startsWith(prefix)) out.push(img);
    }
    if (out.length) {
      const ids = new Set(out.map((i) => i.id));
      if (ids.size > 1) throw new BerthError('INVALID_ARGUMENT', `image id prefix ${JSON.stringify(nameOrId)} is ambiguous: ${ids.size} images match`);
      return out;
    }
  }
  throw new BerthError('NOT_FOUND', `image ${JSON.stringify(nameOrId)}: no such image`);
}

export async function findImage(deps: ImageDeps, nameOrId: string): Promise<LocalImage> {
  return (await findImages(deps, nameOrId))[0];
}
