import type { ImageDeps } from './deps.js';
import { familiarName, familiarString, parseReference } from './reference.js';
import { findImage, resolveTarget } from './resolve.js';

/** Docker-shaped image details (`berth image inspect`), with the OCI descriptors beside them. */
export async function inspectImage(deps: ImageDeps, nameOrId: string): Promise<Record<string, unknown>> {
  const img = await findImage(deps, nameOrId);
  const tags: string[] = [];
  const digests = new Set<string>();
  for (const rec of deps.images.list()) {
    const r = await resolveTarget(deps, rec).catch(() => undefined);
    if (!r || r.id !== img.id) continue;
    const ref = parseReference(rec.name);
    if (ref.tag) tags.push(familiarString({ ...ref, digest: undefined }));
    digests.add(`${familiarName(ref)}@${rec.target.digest}`);
  }
  const c = img.config;
  return {
    Id: img.id,
    RepoTags: tags,
    RepoDigests: [...digests],
    Created: c.created ?? '',
    Author: c.author ?? '',
    Architecture: c.architecture,
    Os: c.os,
    ...(c.variant ? { Variant: c.variant } : {}),
    Size: img.manifest.layers.reduce((a, l) => a + l.size, 0),
    Config: c.config ?? {},
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Descriptor: img.record.target,
    Manifest: img.manifestDesc,
    ChainIDs: img.chainIds,
  };
}
