import { join } from 'node:path';
import { ContentStore } from '../content/index.js';
import { RegistryClient, type RegistryOptions } from '../registry/index.js';
import { openDatabase } from '../util/sqlite.js';
import { ImageStore } from './store.js';
import type { LayerUnpacker } from './unpack.js';

/** What the image operations work on; built once per process by a composition root. */
export interface ImageDeps {
  root: string;
  content: ContentStore;
  images: ImageStore;
  registry: RegistryClient;
  /** Absent until a snapshotter is wired in: pulls then fetch and store only. */
  unpacker?: LayerUnpacker;
}

export function openImageDeps(root: string, opts: { registry?: RegistryOptions; unpacker?: LayerUnpacker } = {}): ImageDeps {
  const db = openDatabase(join(root, 'metadata.db'));
  const deps: ImageDeps = {
    root,
    content: new ContentStore(root, db),
    images: new ImageStore(db),
    registry: new RegistryClient({ root, ...opts.registry }),
  };
  if (opts.unpacker) deps.unpacker = opts.unpacker;
  return deps;
}
