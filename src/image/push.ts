import { createReadStream } from 'node:fs';
import { BerthError } from '../errors/index.js';
import type { Descriptor } from '../spec/image.js';
import type { ImageDeps } from './deps.js';
import { limiter } from './limit.js';
import { isIndexType, parseIndex } from './manifest.js';
import { sourceLabel } from './pull.js';
import { formatReference, parseReference } from './reference.js';
import { findImage } from './resolve.js';

export type PushEvent =
  | { type: 'layer'; digest: string; size: number; status: 'pushing' | 'pushed' | 'exists' | 'mounted' }
  | { type: 'done'; ref: string; digest: string };

export interface PushOptions {
  onEvent?: (e: PushEvent) => void;
  /** Upload blobs in PATCH chunks of this many bytes (0: one monolithic PUT). */
  chunkSize?: number;
  concurrency?: number;
}

/**
 * Push a local image to the registry its name points at: blobs first (skipped when the
 * repository has them, mounted when a repository on the same registry is known to have
 * them, uploaded otherwise), then the manifest, then the index when every manifest it lists
 * is stored here (else the platform's manifest alone goes under the tag).
 */
export async function push(deps: ImageDeps, input: string, opts: PushOptions = {}): Promise<{ name: string; digest: string }> {
  const what = `push ${JSON.stringify(input)}`;
  try {
    const ref = parseReference(input);
    const img = await findImage(deps, formatReference(ref));
    const emit = opts.onEvent ?? (() => {});
    const label = sourceLabel(ref.domain);
    const limit = limiter(opts.concurrency ?? 4);
    const chunkSize = opts.chunkSize ?? Number(process.env.BERTH_PUSH_CHUNK_SIZE ?? 0);

    const pushBlob = async (d: Descriptor) => {
      if (!deps.content.has(d.digest)) throw new BerthError('NOT_FOUND', `blob ${d.digest} is not stored here`);
      emit({ type: 'layer', digest: d.digest, size: d.size, status: 'pushing' });
      const from = deps.content.labels(d.digest)[label];
      const how = await deps.registry.pushBlob(ref.domain, ref.path, d, (start, end) => createReadStream(deps.content.path(d.digest), { start, end, highWaterMark: 1 << 20 }), {
        ...(from && from !== ref.path ? { mountFrom: from } : {}),
        chunkSize,
      });
      deps.content.setLabel(d.digest, label, ref.path);
      emit({ type: 'layer', digest: d.digest, size: d.size, status: how === 'uploaded' ? 'pushed' : how });
    };
    const pushManifest = async (desc: Descriptor, reference: string) => {
      const data = await deps.content.read(desc.digest);
      await deps.registry.putManifest(ref.domain, ref.path, reference, desc.mediaType, data);
      deps.content.setLabel(desc.digest, label, ref.path);
    };

    let manifests: Descriptor[] = [img.manifestDesc];
    let top: Descriptor = img.manifestDesc;
    if (isIndexType(img.record.target.mediaType)) {
      const index = parseIndex(await deps.content.read(img.record.target.digest));
      if (index.manifests.every((m) => deps.content.has(m.digest))) {
        manifests = index.manifests;
        top = img.record.target;
      }
    }
    for (const m of manifests) {
      const man = JSON.parse((await deps.content.read(m.digest)).toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
      await Promise.all([man.config, ...man.layers].map((d) => limit(() => pushBlob(d))));
      if (top !== m) await pushManifest(m, m.digest);
    }
    await pushManifest(top, ref.tag ?? top.digest);
    emit({ type: 'done', ref: formatReference(ref), digest: top.digest });
    deps.onEvent?.('push', formatReference(ref), { name: formatReference(ref) });
    return { name: formatReference(ref), digest: top.digest };
  } catch (err) {
    throw BerthError.wrap(err, what);
  }
}
