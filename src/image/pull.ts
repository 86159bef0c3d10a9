import { PassThrough, pipeline, type Readable } from 'node:stream';
import { BerthError, toBerthError } from '../errors/index.js';
import { MAX_MANIFEST_SIZE } from '../registry/index.js';
import type { Descriptor, Platform } from '../spec/image.js';
import { chainIds } from './chain.js';
import type { ImageDeps } from './deps.js';
import { collectGarbage } from './gc.js';
import { limiter } from './limit.js';
import { isIndexType, isManifestType, layerCompression, parseConfig, parseIndex, parseManifest } from './manifest.js';
import { formatPlatform, hostPlatform, platformMatches, selectPlatform } from './platform.js';
import { formatReference, parseReference, type Reference } from './reference.js';
import { decompressor, diffIdVerifier, sniffStream } from './unpack.js';
import type { IngestResult } from '../content/index.js';
import type { BlobSink } from '../registry/index.js';

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
  // Stops the other downloads when one part fails, so the error comes back at once.
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const committed: string[] = [];
  const unpacked: string[] = [];
  let layerDigests: string[] = [];
  let fetched = 0;
  try {
    const top = await deps.registry.getManifest(ref.domain, ref.path, ref.digest ?? ref.tag!, signal);
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
      const m = await deps.registry.getManifest(ref.domain, ref.path, chosen.digest, signal);
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

    layerDigests = manifest.layers.map((l) => l.digest);
    // Hold everything before it is written, so a concurrent GC never takes it.
    for (const d of [top.descriptor, manifestDesc, manifest.config, ...manifest.layers]) lease.add({ kind: 'content', key: d.digest });

    const source = (digest: string) => deps.content.setLabel(digest, sourceLabel(ref.domain), ref.path);
    // Streaming unpack: the layer next in line to unpack tees its bytes from the network into
    // the unpacker while they land in the ingest (replaying any bytes kept from an earlier
    // attempt first); its tar stream ends only after the blob's digest verified. Other layers
    // unpack from the stored blob once their parent is unpacked.
    let nextUnpack = 0;
    let chains: string[] = [];
    const live: (PassThrough | undefined)[] = [];
    const liveStarted = manifest.layers.map(() => deferred());
    const fetchOne = async (desc: Descriptor, progress: boolean, index?: number): Promise<void> => {
      let bytes = 0;
      let r: IngestResult;
      try {
        r = await deps.content.ingest(
          desc,
          async (w) => {
            bytes = w.offset;
            if (progress) emit({ type: 'layer', digest: desc.digest, size: desc.size, status: 'downloading' });
            let tee: PassThrough | undefined;
            if (index !== undefined && deps.unpacker && index === nextUnpack && !(await deps.unpacker.has(chains[index]))) {
              tee = live[index] = new PassThrough({ highWaterMark: 1 << 20 });
              liveStarted[index].resolve();
              for await (const c of w.readExisting()) if (!(await feed(tee, c as Buffer))) break;
            }
            const sink: BlobSink = {
              get written() {
                return w.written;
              },
              write: async (c) => {
                await w.write(c);
                if (tee && !(await feed(tee, c))) tee = undefined;
              },
              reset: async () => {
                await w.reset();
                // The bytes already teed are not the start of the blob any more.
                tee?.destroy(new BerthError('UNAVAILABLE', 'the registry restarted the blob'));
                tee = undefined;
              },
            };
            await deps.registry.fetchBlob(ref.domain, ref.path, desc, sink, {
              signal,
              onBytes: (n) => {
                bytes += n;
                fetched += n;
                if (progress) emit({ type: 'progress', digest: desc.digest, bytes, size: desc.size });
              },
            });
          },
          signal,
        );
      } catch (err) {
        if (index !== undefined) live[index]?.destroy(toBerthError(err));
        throw err;
      }
      // Verified and committed: now the teed tar may end.
      if (index !== undefined && live[index] && !live[index]!.destroyed) live[index]!.end();
      if (r === 'committed') committed.push(desc.digest);
      source(desc.digest);
      if (progress) emit({ type: 'layer', digest: desc.digest, size: desc.size, status: r === 'committed' ? 'downloaded' : 'exists' });
    };

    await deps.content.put(top.data, top.descriptor).then(() => committed.push(top.descriptor.digest));
    if (manifestDesc !== top.descriptor) await deps.content.put(manifestData, manifestDesc);
    await fetchOne(manifest.config, false);
    const config = parseConfig(await deps.content.read(manifest.config.digest), manifest.layers.length, `parse config ${manifest.config.digest}`);
    // A single-platform image asked for with an explicit --platform must be that platform.
    if (opts.platform && manifestDesc === top.descriptor) {
      const have = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
      if (!platformMatches(opts.platform, have)) {
        throw new BerthError('NOT_FOUND', `the image is for ${formatPlatform(have)}, not the requested ${formatPlatform(opts.platform)}`);
      }
    }
    chains = chainIds(config.rootfs.diff_ids);
    for (const l of manifest.layers) emit({ type: 'layer', digest: l.digest, size: l.size, status: 'waiting' });

    const limit = limiter(opts.concurrency ?? 4);
    const downloads = manifest.layers.map((l, i) => limit(() => fetchOne(l, true, i)));
    // Settle every download even when one fails, so none is left writing after we return.
    const settled = Promise.allSettled(downloads);
    try {
      if (deps.unpacker) {
        for (let i = 0; i < manifest.layers.length; i++) {
          nextUnpack = i;
          const layer = manifest.layers[i];
          const diffId = config.rootfs.diff_ids[i];
          lease.add({ kind: 'snapshot', key: chains[i] });
          await Promise.race([downloads[i], liveStarted[i].promise]);
          if (await deps.unpacker.has(chains[i])) {
            emit({ type: 'layer', digest: layer.digest, size: layer.size, status: 'already-unpacked' });
            continue;
          }
          emit({ type: 'layer', digest: layer.digest, size: layer.size, status: 'unpacking' });
          let done = false;
          const tee = live[i];
          if (tee) {
            try {
              await unpackFromStream(deps, layer, diffId, chains[i], chains[i - 1], tee);
              done = true;
            } catch {
              // A restarted or failed stream: once the blob is stored (or its error is known),
              // unpack from the store; a real problem with the layer fails there again.
              await downloads[i];
            }
          }
          if (!done) {
            await downloads[i];
            await unpackFromStore(deps, layer, diffId, chains[i], chains[i - 1]);
          }
          unpacked.push(chains[i]);
          emit({ type: 'layer', digest: layer.digest, size: layer.size, status: 'unpacked' });
        }
      }
      await Promise.all(downloads);
    } catch (err) {
      stop.abort();
      throw err;
    } finally {
      await settled;
    }
    // As docker does, `name:tag@digest` is recorded by its digest alone.
    const name = formatReference(ref.digest ? { domain: ref.domain, path: ref.path, digest: ref.digest } : ref);
    deps.images.put(name, top.descriptor);
    emit({ type: 'done', ref: name, digest: top.descriptor.digest, id: manifest.config.digest });
    deps.onEvent?.('pull', name, { name });
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
        // Partial ingests of this pull (downloads stopped by the failure) go too.
        const mine = new Set(layerDigests.map((d) => `sha256-${d.slice(7)}`));
        for (const ing of deps.content.staleIngests()) if (mine.has(ing.ref)) deps.content.removeIngest(ing.ref);
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

/** Unpack a stored layer blob (see unpackFromStream). */
export async function unpackFromStore(deps: ImageDeps, layer: Descriptor, diffId: string, chainId: string, parent: string | undefined): Promise<void> {
  await unpackFromStream(deps, layer, diffId, chainId, parent, deps.content.createReadStream(layer.digest));
}

/**
 * Stream a layer blob through decompression (sniffed from its first bytes) and diffID
 * verification into the unpacker, which commits the snapshot only when the stream ends.
 */
export async function unpackFromStream(deps: ImageDeps, layer: Descriptor, diffId: string, chainId: string, parent: string | undefined, src: Readable): Promise<void> {
  const unpacker = deps.unpacker;
  if (!unpacker) throw new BerthError('FAILED_PRECONDITION', 'unpack: no snapshotter configured');
  const what = `unpack layer ${layer.digest} (chain ${chainId})`;
  let sniffed;
  try {
    sniffed = await sniffStream(src, layerCompression(layer.mediaType));
  } catch (err) {
    throw BerthError.wrap(err, what);
  }
  const verify = diffIdVerifier(diffId, `unpack layer ${layer.digest}`);
  pipeline(sniffed.stream, decompressor(sniffed.kind), verify, () => {
    // errors reach the unpacker through `verify`
  });
  try {
    await unpacker.unpack(chainId, parent, verify);
  } catch (err) {
    verify.destroy();
    src.destroy();
    throw BerthError.wrap(err, what);
  }
}

/** Write to a stream, waiting for room; false once the reader is gone. */
async function feed(s: PassThrough, chunk: Buffer | Uint8Array): Promise<boolean> {
  if (s.destroyed) return false;
  if (s.write(chunk)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.once('drain', done);
    s.once('close', done);
  });
  return !s.destroyed;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
