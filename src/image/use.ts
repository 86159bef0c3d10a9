import type { Lease, LeaseResource } from '../content/index.js';
import type { ImageDeps } from './deps.js';
import type { LocalImage } from './resolve.js';

/**
 * What a container holds of its image, so that `rmi` refuses to remove the image (kind
 * "image", key = image id) and GC never frees its manifest, config, layers or snapshots even
 * after a forced `rmi`.
 */
export function imageUseResources(img: LocalImage): LeaseResource[] {
  return [
    { kind: 'image', key: img.id },
    { kind: 'content', key: img.manifestDesc.digest },
    ...img.chainIds.map((c) => ({ kind: 'snapshot' as const, key: c })),
  ];
}

/** The engine's hook: mark an image in use by `user` (e.g. `container/<id>`) until released. */
export function useImage(deps: ImageDeps, user: string, img: LocalImage): Lease {
  return deps.content.leases.createPersistent(user, imageUseResources(img));
}

export function releaseImage(deps: ImageDeps, user: string): void {
  deps.content.leases.delete(user);
}
