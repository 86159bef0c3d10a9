import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { BerthError } from '../errors/index.js';
import { type Descriptor, MEDIA_TYPES } from '../spec/image.js';
import type { ImageDeps } from './deps.js';
import { isIndexType, isManifestType, parseConfig, parseIndex, parseManifest } from './manifest.js';
import { formatReference, parseReference } from './reference.js';
import { sniffCompression } from './unpack.js';
import { unpackImage } from './unpack-image.js';
import { collectGarbage } from './gc.js';
import { sha256 } from '../content/index.js';
import { MAX_MANIFEST_SIZE } from '../registry/index.js';

/**
 * Load images from a tar: an OCI image layout (index.json + oci-layout + blobs/, as skopeo,
 * umoci and docker 25+ write) or a docker-archive (manifest.json, as `docker save` writes).
 * Every blob is verified by the content store on its way in; the image names are recorded
 * only after all blobs and snapshots exist. The tar is extracted into a temp dir under the
 * root (same file system) that is removed whatever happens.
 */
export async function loadImages(deps: ImageDeps, input: Readable): Promise<string[]> {
  const what = 'load images';
  const tmpRoot = join(deps.root, 'tmp');
  mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(tmpRoot, 'load-'));
  const lease = deps.content.leases.createProcessLease('load');
  const made: Made = { blobs: new Set(), snapshots: new Set() };
  try {
    await extractTo(input, tmp);
    if (existsSync(join(tmp, 'index.json')) && existsSync(join(tmp, 'oci-layout'))) return await loadOci(deps, tmp, lease.add, made);
    if (existsSync(join(tmp, 'manifest.json'))) return await loadDocker(deps, tmp, lease.add, made);
    throw new BerthError('INVALID_ARGUMENT', 'the archive is neither an OCI image layout (index.json, oci-layout) nor a docker archive (manifest.json)');
  } catch (err) {
    const e = BerthError.wrap(err, what);
    // Nothing stays of a failed load that nothing else references.
    lease.release();
    try {
      await collectGarbage(deps, { only: made.blobs, onlySnapshots: made.snapshots });
    } catch (cleanupErr) {
      e.cleanupErrors.push(cleanupErr);
    }
    throw e;
  } finally {
    lease.release();
    rmSync(tmp, { recursive: true, force: true });
  }
}

type Hold = (r: { kind: 'content'; key: string }) => void;
/** What a load wrote, to remove again if it fails. */
interface Made {
  blobs: Set<string>;
  snapshots: Set<string>;
}

/** Regular files and dirs only, inside `dir`: an archive is input, not a file system to trust. */
async function extractTo(input: Readable, dir: string): Promise<void> {
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const name = normalize(header.name).replace(/^(\.\/)+/, '');
      if (name.startsWith('/') || name === '..' || name.startsWith('../')) {
        stream.resume();
        return reject(new BerthError('INVALID_ARGUMENT', `archive entry ${JSON.stringify(header.name)} points outside the archive`));
      }
      const target = join(dir, name);
      if (header.type === 'directory') {
        mkdirSync(target, { recursive: true });
        stream.resume();
        return next();
      }
      if (header.type !== 'file') {
        stream.resume();
        return next();
      }
      mkdirSync(dirname(target), { recursive: true });
      pipeline(stream, createWriteStream(target)).then(() => next(), reject);
    });
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  input.on('error', (err) => ex.destroy(err));
  input.pipe(ex);
  await done;
}

function safePath(dir: string, rel: string): string {
  const n = normalize(rel);
  if (n.startsWith('/') || n === '..' || n.startsWith('../')) throw new BerthError('INVALID_ARGUMENT', `archive path ${JSON.stringify(rel)} points outside the archive`);
  return join(dir, n);
}

async function ingestFile(deps: ImageDeps, path: string, desc: { digest: string; size: number }, made: Made): Promise<void> {
  if (!existsSync(path)) throw new BerthError('NOT_FOUND', `blob ${desc.digest} is not in the archive`);
  const r = await deps.content.ingest(desc, async (w) => {
    if (w.offset > 0) await w.reset();
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) await w.write(chunk as Buffer);
  });
  if (r === 'committed') made.blobs.add(desc.digest);
}

async function loadOci(deps: ImageDeps, dir: string, hold: Hold, made: Made): Promise<string[]> {
  const index = parseIndex(readFileSync(join(dir, 'index.json')), 'parse index.json');
  const blob = (d: string) => join(dir, 'blobs', 'sha256', d.slice(7));
  const names: string[] = [];
  const records: [string, Descriptor][] = [];
  const loadManifest = async (desc: Descriptor): Promise<void> => {
    hold({ kind: 'content', key: desc.digest });
    if (desc.size > MAX_MANIFEST_SIZE) throw new BerthError('RESOURCE_EXHAUSTED', `manifest ${desc.digest} is over the size limit`);
    await ingestFile(deps, blob(desc.digest), desc, made);
    const data = await deps.content.read(desc.digest);
    if (isIndexType(desc.mediaType)) {
      const idx = parseIndex(data, `parse index ${desc.digest}`);
      for (const m of idx.manifests) if (existsSync(blob(m.digest))) await loadManifest(m);
      return;
    }
    const m = parseManifest(data, `parse manifest ${desc.digest}`);
    for (const d of [m.config, ...m.layers]) {
      hold({ kind: 'content', key: d.digest });
      await ingestFile(deps, blob(d.digest), d, made);
    }
    const config = parseConfig(await deps.content.read(m.config.digest), m.layers.length);
    await unpackImage(deps, m, config, made.snapshots);
  };
  for (const desc of index.manifests) {
    if (!isIndexType(desc.mediaType) && !isManifestType(desc.mediaType)) continue;
    await loadManifest(desc);
    records.push([imageName(desc), desc]);
  }
  for (const [name, desc] of records) {
    deps.images.put(name, { mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
    names.push(name);
  }
  return names;
}

/**
 * The name of an image in a layout: containerd's full-name annotation, else the ref.name
 * annotation when it is a whole reference, else `localhost/image:<ref.name>` (skopeo and umoci
 * write a bare tag there), else the digest under `localhost/image`.
 */
function imageName(desc: Descriptor): string {
  const a = desc.annotations ?? {};
  const full = a['io.containerd.image.name'];
  if (full) return formatReference(parseReference(full));
  const ref = a['org.opencontainers.image.ref.name'];
  if (ref && (ref.includes('/') || ref.includes(':'))) return formatReference(parseReference(ref));
  if (ref) return formatReference(parseReference(`localhost/image:${ref}`));
  return formatReference(parseReference(`localhost/image@${desc.digest}`));
}

async function fileDigest(path: string): Promise<{ digest: string; size: number }> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return { digest: `sha256:${h.digest('hex')}`, size: statSync(path).size };
}

async function loadDocker(deps: ImageDeps, dir: string, hold: Hold, made: Made): Promise<string[]> {
  let entries: { Config?: unknown; RepoTags?: unknown; Layers?: unknown }[];
  try {
    entries = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch (err) {
    throw new BerthError('INVALID_ARGUMENT', `parse manifest.json: ${(err as Error).message}`);
  }
  if (!Array.isArray(entries)) throw new BerthError('INVALID_ARGUMENT', 'parse manifest.json: not a list');
  const records: [string, Descriptor][] = [];
  for (const e of entries) {
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers) || e.Layers.some((l) => typeof l !== 'string')) {
      throw new BerthError('INVALID_ARGUMENT', 'parse manifest.json: an entry without Config or Layers');
    }
    const configPath = safePath(dir, e.Config);
    const configDesc = { mediaType: MEDIA_TYPES.dockerConfig, ...(await fileDigest(configPath)) };
    if (configDesc.size > MAX_MANIFEST_SIZE) throw new BerthError('RESOURCE_EXHAUSTED', `config ${e.Config} is over the size limit`);
    hold({ kind: 'content', key: configDesc.digest });
    await ingestFile(deps, configPath, configDesc, made);
    const config = parseConfig(await deps.content.read(configDesc.digest), e.Layers.length, `parse config ${e.Config}`);
    const layers: Descriptor[] = [];
    for (const l of e.Layers as string[]) {
      const path = safePath(dir, l);
      if (!existsSync(path)) throw new BerthError('NOT_FOUND', `layer ${JSON.stringify(l)} is not in the archive`);
      const fh = await open(path, 'r');
      const head = Buffer.alloc(4);
      try {
        await fh.read(head, 0, 4, 0);
      } finally {
        await fh.close();
      }
      const kind = sniffCompression(head, 'none');
      const mediaType = kind === 'gzip' ? MEDIA_TYPES.dockerLayerGzip : kind === 'zstd' ? MEDIA_TYPES.dockerLayerZstd : MEDIA_TYPES.dockerLayer;
      const desc = { mediaType, ...(await fileDigest(path)) };
      hold({ kind: 'content', key: desc.digest });
      await ingestFile(deps, path, desc, made);
      layers.push(desc);
    }
    const manifest = {
      schemaVersion: 2 as const,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: configDesc,
      layers,
    };
    const data = Buffer.from(JSON.stringify(manifest));
    const digest = sha256(data);
    hold({ kind: 'content', key: digest });
    if (!deps.content.has(digest)) made.blobs.add(digest);
    await deps.content.put(data, { digest, size: data.length });
    await unpackImage(deps, manifest, config, made.snapshots);
    const desc: Descriptor = { mediaType: MEDIA_TYPES.dockerManifest, digest, size: data.length };
    const tags = Array.isArray(e.RepoTags) ? (e.RepoTags as unknown[]).filter((t): t is string => typeof t === 'string') : [];
    if (tags.length === 0) records.push([formatReference(parseReference(`localhost/image@${digest}`)), desc]);
    for (const t of tags) records.push([formatReference(parseReference(t)), desc]);
  }
  for (const [name, desc] of records) deps.images.put(name, desc);
  for (const [name] of records) deps.onEvent?.('load', name, { name });
  return records.map(([n]) => n);
}
