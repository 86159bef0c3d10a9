import type { ImageDeps } from './deps.js';
import { familiarName, parseReference } from './reference.js';
import { resolveTarget } from './resolve.js';

export interface ImageSummary {
  /** Fully qualified name. */
  name: string;
  repository: string;
  tag: string;
  /** The record's target digest (index or manifest). */
  digest: string;
  id: string;
  created: string | undefined;
  /** Compressed size of the chosen platform's blobs (manifest, config, layers). */
  size: number;
}

/** Every image name with its platform-resolved id and size (`berth images`). */
export async function listImages(deps: ImageDeps): Promise<ImageSummary[]> {
  const out: ImageSummary[] = [];
  for (const rec of deps.images.list()) {
    const img = await resolveTarget(deps, rec).catch(() => undefined);
    const ref = parseReference(rec.name);
    out.push({
      name: rec.name,
      repository: familiarName(ref),
      tag: ref.tag ?? '<none>',
      digest: rec.target.digest,
      id: img?.id ?? '<missing>',
      created: img?.config.created,
      size: img ? img.manifestDesc.size + img.configDesc.size + img.manifest.layers.reduce((a, l) => a + l.size, 0) : 0,
    });
  }
  return out;
}
