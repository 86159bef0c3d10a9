import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack, type Pack } from 'tar-stream';
import { BerthError } from '../errors/index.js';
import { MEDIA_TYPES } from '../spec/image.js';
import type { ImageDeps } from './deps.js';
import { layerCompression } from './manifest.js';
import { familiarName, familiarString, parseReference } from './reference.js';
import { findImage, type LocalImage } from './resolve.js';
import { decompressor, sniffCompression } from './unpack.js';

export type ArchiveFormat = 'docker' | 'oci';

function addBuffer(p: Pack, name: string, data: Buffer | string): Promise<void> {
  return new Promise((res, rej) => p.entry({ name, mode: 0o644, mtime: new Date(0) }, typeof data === 'string' ? Buffer.from(data) : data, (err) => (err ? rej(err) : res())));
}

async function addFile(p: Pack, name: string, path: string): Promise<void> {
  const size = statSync(path).size;
  const entry = p.entry({ name, size, mode: 0o644, mtime: new Date(0) });
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), entry);
}

/**
 * Write images as one tar: `docker` is the archive `docker save` writes (manifest.json,
 * `<config>.json`, one uncompressed `<diffID>.tar` per layer, `repositories`), which docker,
 * podman and skopeo load; `oci` is an OCI image layout (oci-layout, index.json, blobs/)
 * with each image named by `io.containerd.image.name` and `org.opencontainers.image.ref.name`.
 */
export async function saveImages(deps: ImageDeps, names: string[], out: Writable, opts: { format?: ArchiveFormat } = {}): Promise<void> {
  const format = opts.format ?? 'docker';
  const what = `save ${names.map((n) => JSON.stringify(n)).join(' ')}`;
  const images: { name: string; img: LocalImage }[] = [];
  try {
    for (const n of names) images.push({ name: n, img: await findImage(deps, n) });
  } catch (err) {
    throw BerthError.wrap(err, what);
  }
  const tmpRoot = join(deps.root, 'tmp');
  mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(tmpRoot, 'save-'));
  const p = pack();
  const written = pipeline(p as unknown as Readable, out);
  try {
    const seen = new Set<string>();
    if (format === 'oci') {
      await addBuffer(p, 'oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      const manifests = [];
      for (const { name, img } of images) {
        const ref = parseReference(img.record.name === name ? name : img.record.name);
        for (const d of [img.manifestDesc, img.configDesc, ...img.manifest.layers]) {
          if (seen.has(d.digest)) continue;
          seen.add(d.digest);
          await addFile(p, `blobs/sha256/${d.digest.slice(7)}`, deps.content.path(d.digest));
        }
        const annotations: Record<string, string> = { 'io.containerd.image.name': img.record.name };
        if (ref.tag) annotations['org.opencontainers.image.ref.name'] = ref.tag;
        manifests.push({ mediaType: img.manifestDesc.mediaType, digest: img.manifestDesc.digest, size: img.manifestDesc.size, annotations });
      }
      await addBuffer(p, 'index.json', JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }));
    } else {
      const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
      const repositories: Record<string, Record<string, string>> = {};
      for (const { img } of images) {
        const config = `${img.id.slice(7)}.json`;
        if (!seen.has(config)) {
          seen.add(config);
          await addFile(p, config, deps.content.path(img.configDesc.digest));
        }
        const layers: string[] = [];
        for (let i = 0; i < img.manifest.layers.length; i++) {
          const l = img.manifest.layers[i];
          const file = `${img.config.rootfs.diff_ids[i].slice(7)}.tar`;
          layers.push(file);
          if (seen.has(file)) continue;
          seen.add(file);
          await addFile(p, file, await uncompressed(deps, l.digest, l.mediaType, tmp));
        }
        const ref = parseReference(img.record.name);
        const tags = ref.tag ? [familiarString({ ...ref, digest: undefined })] : [];
        manifest.push({ Config: config, RepoTags: tags, Layers: layers });
        if (ref.tag && layers.length) repositories[familiarName(ref)] = { ...repositories[familiarName(ref)], [ref.tag]: layers[layers.length - 1].slice(0, -4) };
      }
      await addBuffer(p, 'manifest.json', JSON.stringify(manifest));
      await addBuffer(p, 'repositories', JSON.stringify(repositories));
    }
    p.finalize();
    await written;
    for (const { name, img } of images) deps.onEvent?.('save', img.id, { name });
  } catch (err) {
    p.destroy();
    throw BerthError.wrap(err, what);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The path of a layer's uncompressed tar: the blob itself, or a temp file decompressed from it. */
async function uncompressed(deps: ImageDeps, digest: string, mediaType: string, tmp: string): Promise<string> {
  const path = deps.content.path(digest);
  const fh = await open(path, 'r');
  const head = Buffer.alloc(4);
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  const kind = sniffCompression(head, layerCompression(mediaType));
  if (kind === 'none') return path;
  const out = join(tmp, digest.slice(7));
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), decompressor(kind), createWriteStream(out));
  return out;
}
