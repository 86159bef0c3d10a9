import type { ImageConfig, ImageManifest } from '../spec/image.js';
import { chainIds } from './chain.js';
import type { ImageDeps } from './deps.js';
import { unpackFromStore } from './pull.js';

/** Unpack every layer of a stored image that has no snapshot yet, in order (load, repair); each one made is also added to `made` as it is. */
export async function unpackImage(deps: ImageDeps, manifest: ImageManifest, config: ImageConfig, made?: Set<string>): Promise<string[]> {
  const unpacker = deps.unpacker;
  if (!unpacker) return [];
  const chains = chainIds(config.rootfs.diff_ids);
  const done: string[] = [];
  for (let i = 0; i < manifest.layers.length; i++) {
    if (await unpacker.has(chains[i])) continue;
    await unpackFromStore(deps, manifest.layers[i], config.rootfs.diff_ids[i], chains[i], chains[i - 1]);
    done.push(chains[i]);
    made?.add(chains[i]);
  }
  return done;
}
