import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { BerthError, toBerthError } from '../errors/index.js';
import { MAX_MANIFEST_SIZE } from '../registry/index.js';
import type { Descriptor, Platform } from '../spec/image.js';
import { chainIds } from './chain.js';
import type { ImageDeps } from './deps.js';
import { collectGarbage } from './gc.js';
import { limiter } from './limit.js';
import { isIndexType, isManifestType, layerCompression, parseConfig, parseIndex, parseManifest } from './manifest.js';
import { formatPlatform, hostPlatform, selectPlatform } from './platform.js';
import { formatReference, parseReference, type Reference } from './reference.js';
import { decompressor, diffIdVerifier, sniffCompression } from './unpack.js';

export type LayerStatus = 'waiting' | 'downloading' | 'exists' | 'downloaded' | 'unpacking' | 'unpacked' | 'already-unpacked';

export type PullEvent =
  | { type: 'resolved'; ref: string; digest: string; mediaType: string }
  | { type: 'layer'; digest: string; size: number; status: LayerStatus }
  | { type: 'progress'; digest: string; bytes: number; size: number }
  | { type: 'done'; ref: string; digest: string; id: string };

export interface PullOptions {
  platform?: Platform;
  onEvent?: (e: PullEvent) => void;
  signal?: AbortSignal;
  /** Layers fetched at once. */
  concurrency?: number;
}

export interface PullResult {
  name: string;
  digest: string;
  id: string;
  /** Bytes fetched from the registry by this pull (0 when everything was present). */
  fetched: number;
}

/**
 * Pull an image: resolve the reference, choose the platform's manifest from an index, fetch
 * config and layers (bounded parallel, each verified while it streams into the content
 * store), unpack each layer once into the snapshot of its chain ID, in order, as soon as its
 * blob and its parent are there, and only then record the image name. A process lease keeps
 * everything this pull touches from garbage collection while it runs.
 */
export async function pull(deps: ImageDeps, input: string, opts: PullOptions = {}): Promise<PullResult> {
  const what = `pull ${JSON.stringify(input)}`;
  const ref = parseReference(input);
  const emit = opts.onEvent ?? (() => {});
  const platform = opts.platform ?? hostPlatform();
  const lease = deps.content.leases.createProcessLease('pull');
  const committed: string[] = [];
  const unpacked: string[] = [];
  let fetched = 0;
  try {
    const top = await deps.registry.getManifest(ref.domain, ref.path, ref.digest ?? ref.tag!, opts.signal);
    emit({ type: 'resolved', ref: formatReference(ref), digest: top.descriptor.digest, mediaType: top.descriptor.mediaType });
    let manifestDesc: Descriptor = top.descriptor;
    let manifestData = top.data;
    if (isIndexType(top.descriptor.mediaType)) {
      const index = parseIndex(top.data, 'parse index');
      const chosen = selectPlatform(index.manifests, platform);
      if (!chosen) {
        const have = index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(', ');
        throw new BerthError('NOT_FOUND', `no manifest for platform ${formatPlatform(platform)} (the index has: ${have || 'none'})`);
      }
      if (!isManifestType(chosen.mediaType)) throw new BerthError('NOT_IMPLEMENTED', `manifest ${chosen.digest}: media type ${chosen.mediaType} is not supported`);
      if (chosen.size > MAX_MANIFEST_SIZE) throw new BerthError('RESOURCE_EXHAUSTED', `manifest ${chosen.digest}: ${chosen.size} bytes is over the limit`);
      const m = await deps.registry.getManifest(ref.domain, ref.path, chosen.digest, opts.signal);
      if (m.data.length !== chosen.size) throw new BerthError('INVALID_ARGUMENT', `manifest ${chosen.digest}: ${m.data.length} bytes, the index says ${chosen.size}`);
      manifestDesc = { ...chosen, mediaType: chosen.mediaType };
      manifestData = m.data;
    } else if (!isManifestType(top.descriptor.mediaType)) {
      throw new BerthError('NOT_IMPLEMENTED', `media type ${top.descriptor.mediaType} is not supported`);
    }
    const manifest = parseManifest(manifestData, `parse manifest ${manifestDesc.digest}`);
    if (manifest.config.size > MAX_MANIFEST_SIZE) {
      throw new BerthError('RESOURCE_EXHAUSTED', `config ${manifest.config.digest}: ${manifest.config.size} bytes is over the ${MAX_MANIFEST_SIZE}-byte limit`);
    }

    // Hold everything before it is written, so a concurrent GC never takes it.
    for (const d of [top.descriptor, manifestDesc, manifest.config, ...manifest.layers]) lease.add({ kind: 'content', key: d.digest });

    const source = (digest: string) => deps.content.setLabel(digest, sourceLabel(ref.domain), ref.path);
    const fetchOne = async (desc: Descriptor, progress: boolean): Promise<void> => {
      let bytes = 0;
      const r = await deps.content.ingest(
        desc,
        async (w) => {
          bytes = w.offset;
          if (progress) emit({ type: 'layer', digest: desc.digest, size: desc.size, status: 'downloading' });
          await deps.registry.fetchBlob(ref.domain, ref.path, desc, w, {
            signal: opts.signal,
            onBytes: (n) => {
              bytes += n;
              fetched += n;
              if (progress) emit({ type: 'progress', digest: desc.digest, bytes, size: desc.size });
            },
          });
        },
        opts.signal,
      );
      if (r === 'committed') committed.push(desc.digest);
      source(desc.digest);
      if (progress) emit({ type: 'layer', digest: desc.digest, size: desc.size, status: r === 'committed' ? 'downloaded' : 'exists' });
    };

    await deps.content.put(top.data, top.descriptor).then(() => committed.push(top.descriptor.digest));
    if (manifestDesc !== top.descriptor) await deps.content.put(manifestData, manifestDesc);
    await fetchOne(manifest.config, false);
    const config = parseConfig(await deps.content.read(manifest.config.digest), manifest.layers.length, `parse config ${manifest.config.digest}`);
    const chains = chainIds(config.rootfs.diff_ids);
    for (const l of manifest.layers) emit({ type: 'layer', digest: l.digest, size: l.size, status: 'waiting' });

    const limit = limiter(opts.concurrency ?? 4);
    const downloads = manifest.layers.map((l) => limit(() => fetchOne(l, true)));
    // Settle every download even when one fails, so none is left writing after we return.
    const settled = Promise.allSettled(downloads);
    try {
      if (deps.unpacker) {
        for (let i = 0; i < manifest.layers.length; i++) {
          await downloads[i];
          const layer = manifest.layers[i];
          lease.add({ kind: 'snapshot', key: chains[i] });
          if (await deps.unpacker.has(chains[i])) {
            emit({ type: 'layer', digest: layer.digest, size: layer.size, status: 'already-unpacked' });
            continue;
          }
          emit({ type: 'layer', digest: layer.digest, size: layer.size, status: 'unpacking' });
          await unpackFromStore(deps, layer, config.rootfs.diff_ids[i], chains[i], chains[i - 1]);
          unpacked.push(chains[i]);
          emit({ type: 'layer', digest: layer.digest, size: layer.size, status: 'unpacked' });
        }
      }
      await Promise.all(downloads);
    } finally {
      await settled;
    }
    const name = formatReference(ref);
    deps.images.put(name, top.descriptor);
    emit({ type: 'done', ref: name, digest: top.descriptor.digest, id: manifest.config.digest });
    return { name, digest: top.descriptor.digest, id: manifest.config.digest, fetched };
  } catch (err) {
    const e = BerthError.wrap(err, what);
    lease.release();
    // Hostile input leaves nothing stored; a transient failure keeps what verified (and any
    // partial ingest) so the next pull resumes.
    const code = toBerthError(err).code;
    if (code !== 'UNAVAILABLE' && code !== 'CANCELED' && code !== 'DEADLINE_EXCEEDED') {
      try {
        await collectGarbage(deps, { only: new Set(committed), onlySnapshots: new Set(unpacked.reverse()) });
      } catch (cleanupErr) {
        e.cleanupErrors.push(cleanupErr);
      }
    }
    throw e;
  } finally {
    lease.release();
  }
}

/** The content label naming the repository a blob came from on one registry (for mounts). */
export function sourceLabel(domain: string): string {
  return `berth.io/distribution.source.${domain}`;
}

/** Stream a stored layer blob through decompression and diffID verification into the unpacker. */
export async function unpackFromStore(deps: ImageDeps, layer: Descriptor, diffId: string, chainId: string, parent: string | undefined): Promise<void> {
  const unpacker = deps.unpacker;
  if (!unpacker) throw new BerthError('FAILED_PRECONDITION', 'unpack: no snapshotter configured');
  const fh = await open(deps.content.path(layer.digest), 'r');
  const head = Buffer.alloc(4);
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  const kind = sniffCompression(head, layerCompression(layer.mediaType));
  const src = deps.content.createReadStream(layer.digest);
  const verify = diffIdVerifier(diffId, `unpack layer ${layer.digest}`);
  pipeline(src, decompressor(kind), verify, () => {
    // errors reach the unpacker through `verify`
  });
  try {
    await unpacker.unpack(chainId, parent, verify);
  } catch (err) {
    verify.destroy();
    throw BerthError.wrap(err, `unpack layer ${layer.digest} (chain ${chainId})`);
  }
}

export type { Reference };
