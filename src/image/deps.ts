import { join } from 'node:path';
import { ContentStore } from '../content/index.js';
import { RegistryClient, registryMirrors, type RegistryOptions } from '../registry/index.js';
import { DEFAULT_DOMAIN } from './reference.js';
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
  /** Hears what changed the local images (docker's image events: pull, tag, untag, delete, push, load, save). */
  onEvent?: (action: string, id: string, attributes: Record<string, string>) => void;
}

export function openImageDeps(root: string, opts: { registry?: RegistryOptions; unpacker?: LayerUnpacker; onEvent?: ImageDeps['onEvent'] } = {}): ImageDeps {
  const db = openDatabase(join(root, 'metadata.db'));
  const deps: ImageDeps = {
    root,
    content: new ContentStore(root, db),
    images: new ImageStore(db),
    // docker's `registry-mirrors` stand in for the default registry only.
    registry: new RegistryClient({ root, endpoints: mirrorEndpoints(root), ...opts.registry }),
  };
  if (opts.unpacker) deps.unpacker = opts.unpacker;
  if (opts.onEvent) deps.onEvent = opts.onEvent;
  return deps;
}

function mirrorEndpoints(root: string): Record<string, string> {
  const [first] = registryMirrors(root);
  return first ? { [DEFAULT_DOMAIN]: first } : {};
}
