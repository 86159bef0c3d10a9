import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { BerthError } from '../../errors/index.js';
import { findImage, formatReference, parseReference, unpackImage, type LocalImage } from '../../image/index.js';
import { MEDIA_TYPES, type Descriptor, type ImageConfig } from '../../spec/image.js';
import type { Spec } from '../../spec/runtime.js';
import type { Engine } from '../engine.js';
import { commitIdRange } from '../userns.js';
import { refreshContainer } from './status.js';
import { upperLayerTar } from './upper-diff.js';

export interface CommitOptions {
  /** REPOSITORY[:TAG] for the new image; without it the image is stored under its digest only. */
  reference?: string;
  /** `-m`: the history entry's comment. */
  message?: string;
  /** `-a`: the author. */
  author?: string;
  /** `--pause` (default true): freeze a running container while its layer is read. */
  pause?: boolean;
}

function hashing(h: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
}

/**
 * docker commit: the container's writable layer (the overlay upperdir of its snapshot) as a
 * new gzip'd layer on top of its image, with a config that adds its diff_id and a history
 * entry and takes the container's command, env, user and workdir; stored as content (blob,
 * config, manifest), unpacked into a snapshot so it runs at once, and tagged.
 */
export async function commitContainer(engine: Engine, ref: string, opts: CommitOptions = {}): Promise<{ id: string; name: string }> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  const what = `commit container ${JSON.stringify(rec.name)}`;
  const deps = engine.images;
  let base: LocalImage;
  try {
    base = await findImage(deps, rec.imageId);
  } catch (err) {
    throw BerthError.wrap(err, `${what}: find its image ${rec.imageId}`);
  }
  const tmpRoot = join(engine.root, 'tmp');
  mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(tmpRoot, 'commit-'));
  const lease = deps.content.leases.createProcessLease('commit');
  const driver = engine.runtime(rec.config.runtime);
  const pause = opts.pause !== false && rec.state.status === 'running';
  try {
    // the layer, gzip'd to a temp file; digests of both forms on the way
    const diffHash = createHash('sha256');
    const blobHash = createHash('sha256');
    const blobPath = join(tmp, 'layer.tar.gz');
    if (pause) await driver.pause(rec.id);
    try {
      const tar = await upperLayerTar(await engine.snapshotter.mounts(rec.snapshotKey), commitIdRange(engine, rec));
      await pipeline(tar, hashing(diffHash), createGzip(), hashing(blobHash), createWriteStream(blobPath));
    } finally {
      if (pause) await driver.resume(rec.id);
    }
    const layerGz = base.manifest.mediaType === MEDIA_TYPES.dockerManifest ? MEDIA_TYPES.dockerLayerGzip : MEDIA_TYPES.ociLayerGzip;
    const layer: Descriptor = { mediaType: layerGz, digest: `sha256:${blobHash.digest('hex')}`, size: statSync(blobPath).size };
    lease.add({ kind: 'content', key: layer.digest });
    await deps.content.ingest(layer, async (w) => {
      if (w.offset > 0) await w.reset();
      for await (const chunk of createReadStream(blobPath, { highWaterMark: 1 << 20 })) await w.write(chunk as Buffer);
    });
    const config = newConfig(base.config, readSpec(engine, rec.id), rec.config, `sha256:${diffHash.digest('hex')}`, opts);
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDesc: Descriptor = {
      mediaType: base.manifest.mediaType === MEDIA_TYPES.dockerManifest ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig,
      digest: `sha256:${createHash('sha256').update(configBytes).digest('hex')}`,
      size: configBytes.length,
    };
    lease.add({ kind: 'content', key: configDesc.digest });
    await deps.content.put(configBytes, configDesc);
    const manifest = {
      schemaVersion: 2 as const,
      mediaType: base.manifest.mediaType ?? MEDIA_TYPES.ociManifest,
      config: configDesc,
      layers: [...base.manifest.layers, layer],
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDesc: Descriptor = {
      mediaType: manifest.mediaType,
      digest: `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`,
      size: manifestBytes.length,
    };
    lease.add({ kind: 'content', key: manifestDesc.digest });
    await deps.content.put(manifestBytes, manifestDesc);
    await unpackImage(deps, manifest as never, config);
    const name = opts.reference ? formatReference(parseReference(opts.reference)) : formatReference(parseReference(`localhost/image@${manifestDesc.digest}`));
    deps.images.put(name, manifestDesc);
    return { id: configDesc.digest, name };
  } catch (err) {
    throw BerthError.wrap(err, what);
  } finally {
    lease.release();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function readSpec(engine: Engine, id: string): Spec | undefined {
  try {
    return JSON.parse(readFileSync(engine.paths(id).config, 'utf8')) as Spec;
  } catch {
    return undefined;
  }
}

/** The base config plus the new layer, a history entry, and the container's process settings. */
function newConfig(base: ImageConfig, spec: Spec | undefined, rc: { cmd?: string[]; entrypoint?: string[] }, diffId: string, opts: CommitOptions): ImageConfig {
  const created = new Date().toISOString();
  const c = { ...(base.config ?? {}) };
  if (spec?.process?.env) c.Env = spec.process.env;
  if (rc.entrypoint) c.Entrypoint = rc.entrypoint;
  if (rc.cmd?.length) c.Cmd = rc.cmd;
  return {
    ...base,
    created,
    ...(opts.author ? { author: opts.author } : {}),
    config: c,
    rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids, diffId] },
    history: [
      ...(base.history ?? []),
      { created, created_by: `berth commit ${[...(rc.entrypoint ?? []), ...(rc.cmd ?? [])].join(' ')}`.trim(), ...(opts.author ? { author: opts.author } : {}), ...(opts.message ? { comment: opts.message } : {}) },
    ],
  };
}
