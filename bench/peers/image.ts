/**
 * Images for the pull and engine suites, built here (no public registry) into OCI image
 * layouts and cached under the bench cache dir, keyed by a recipe version: a rerun reuses
 * them. Layers are made by GNU tar from a generated tree (numeric owners, sorted names, fixed
 * mtimes) and gzipped by Node's zlib, hashing both streams on the way (diff ID and digest).
 *
 * "big": ~300 MB uncompressed in 6 layers of mixed sizes: a busybox base with thousands of
 * small text files, a few large incompressible blobs, a mixed layer, large compressible logs,
 * thousands of tiny files with hardlinks and symlinks, and an update layer with whiteouts and
 * an opaque directory. "busybox": one small layer, for `run --rm IMAGE true`.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { makeBusyboxRootfs } from './bundle.js';

const RECIPE_VERSION = 2;

export interface BuiltImage {
  /** OCI image layout directory. */
  layout: string;
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
  diffIds: string[];
  /** The tag in the layout's index.json (org.opencontainers.image.ref.name). */
  tag: string;
  layers: number;
  /** Sum of compressed layer sizes, bytes. */
  compressedBytes: number;
  /** Sum of uncompressed layer sizes, bytes. */
  uncompressedBytes: number;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

type LayerRecipe = (dir: string) => void;

// ---- content generators -------------------------------------------------------------------

/** Word-like text: compresses about 3-4x with gzip, like source files, docs and logs. */
let textPool: Buffer | undefined;
function text(bytes: number): Buffer {
  if (!textPool) {
    const words = Array.from({ length: 512 }, () => randomBytes(2 + (randomBytes(1)[0] % 8)).toString('base64url').toLowerCase());
    const parts: string[] = [];
    let n = 0;
    while (n < 4 << 20) {
      const w = words[Math.floor(Math.random() * words.length)];
      const sep = Math.random() < 0.1 ? '\n' : ' ';
      parts.push(w, sep);
      n += w.length + 1;
    }
    textPool = Buffer.from(parts.join(''));
  }
  const out = Buffer.allocUnsafe(bytes);
  let off = 0;
  while (off < bytes) {
    const start = Math.floor(Math.random() * (textPool.length - 65536));
    const len = Math.min(bytes - off, 4096 + Math.floor(Math.random() * 61440));
    textPool.copy(out, off, start, start + len);
    off += len;
  }
  return out;
}

function write(path: string, data: Buffer): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, data);
}

/** Log-uniform size between lo and hi. */
function sizeBetween(lo: number, hi: number): number {
  return Math.round(Math.exp(Math.log(lo) + Math.random() * (Math.log(hi) - Math.log(lo))));
}

const MB = 1 << 20;

const bigLayers: LayerRecipe[] = [
  // 1. base: busybox and ~2000 small text files (docs), ~34 MB.
  (dir) => {
    makeBusyboxRootfs(dir);
    for (let i = 0; i < 2000; i++) write(join(dir, `usr/share/doc/pkg${i % 100}/file${i}.txt`), text(sizeBetween(2048, 32768)));
    write(join(dir, 'etc/os-release'), Buffer.from('NAME="bench"\nID=bench\n'));
  },
  // 2. large incompressible blobs, 120 MB.
  (dir) => {
    for (const [i, mb] of [48, 32, 24, 16].entries()) write(join(dir, `opt/data/blob${i}.bin`), randomBytes(mb * MB));
  },
  // 3. mixed: 400 files from 1 KB to 1 MB, half random, half text, ~70 MB.
  (dir) => {
    for (let i = 0; i < 400; i++) {
      const n = sizeBetween(1024, 1.4 * MB);
      write(join(dir, `usr/lib/app/mod${i % 20}/part${i}.${i % 2 ? 'so' : 'js'}`), i % 2 ? randomBytes(n) : text(n));
    }
  },
  // 4. large compressible files (logs, dumps), 50 MB.
  (dir) => {
    for (let i = 0; i < 10; i++) write(join(dir, `var/lib/dump/table${i}.sql`), text(5 * MB));
  },
  // 5. many tiny files, hardlinks and symlinks, ~15 MB.
  (dir) => {
    for (let i = 0; i < 6000; i++) write(join(dir, `usr/lib/python/site${i % 60}/m${i}.py`), text(sizeBetween(1024, 4096)));
    for (let i = 0; i < 50; i++) {
      linkSync(join(dir, `usr/lib/python/site${i % 60}/m${i}.py`), join(dir, `usr/lib/python/site${i % 60}/hard${i}.py`));
      symlinkSync(`../site${(i + 1) % 60}/m${i + 1}.py`, join(dir, `usr/lib/python/site${i % 60}/link${i}.py`));
    }
  },
  // 6. an update: whiteouts of files from layers 1 and 3, an opaque directory, new files.
  (dir) => {
    for (let i = 0; i < 20; i++) write(join(dir, `usr/share/doc/pkg${i}/.wh.file${i}.txt`), Buffer.alloc(0));
    write(join(dir, 'usr/lib/app/mod1/.wh.part1.so'), Buffer.alloc(0));
    write(join(dir, 'usr/lib/python/site0/.wh..wh..opq'), Buffer.alloc(0));
    write(join(dir, 'usr/lib/python/site0/new.py'), text(4096));
    for (let i = 0; i < 20; i++) write(join(dir, `etc/app/conf${i}.json`), text(sizeBetween(512, 200_000)));
  },
];

const busyboxLayers: LayerRecipe[] = [(dir) => makeBusyboxRootfs(dir)];

// ---- building -----------------------------------------------------------------------------

class Hasher extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

async function buildLayer(tree: string, blobs: string): Promise<{ desc: Descriptor; diffId: string; rawBytes: number }> {
  // GNU tar(1): reproducible-ish archive of the tree's contents, numeric root owners.
  const tar = spawn('tar', ['-C', tree, '--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@1700000000', '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  tar.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => tar.on('close', r));
  const raw = new Hasher();
  const gz = new Hasher();
  const tmp = join(blobs, `.ingest-${randomBytes(6).toString('hex')}`);
  await pipeline(tar.stdout, raw, createGzip({ level: 6 }), gz, createWriteStream(tmp));
  const code = await exited;
  if (code !== 0) throw new Error(`tar of ${tree}: ${err.trim() || `exit status ${code}`}`);
  const hex = gz.hash.digest('hex');
  renameSync(tmp, join(blobs, hex));
  return {
    desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${hex}`, size: gz.bytes },
    diffId: `sha256:${raw.hash.digest('hex')}`,
    rawBytes: raw.bytes,
  };
}

function putJson(blobs: string, mediaType: string, value: unknown): Descriptor {
  const data = Buffer.from(JSON.stringify(value));
  const hex = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(blobs, hex), data);
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

async function buildImage(dest: string, tag: string, recipes: LayerRecipe[], log: (m: string) => void): Promise<void> {
  const work = `${dest}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    const blobs = join(work, 'blobs/sha256');
    mkdirSync(blobs, { recursive: true });
    const built = [];
    for (const [i, recipe] of recipes.entries()) {
      const tree = join(work, `tree${i}`);
      mkdirSync(tree);
      recipe(tree);
      const layer = await buildLayer(tree, blobs);
      rmSync(tree, { recursive: true, force: true });
      log(`image ${tag}: layer ${i + 1}/${recipes.length}: ${(layer.rawBytes / MB).toFixed(1)} MB -> ${(layer.desc.size / MB).toFixed(1)} MB gzip`);
      built.push(layer);
    }
    const config = putJson(blobs, 'application/vnd.oci.image.config.v1+json', {
      created: '2023-11-14T22:13:20Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: built.map((l) => l.diffId) },
      history: built.map(() => ({ created: '2023-11-14T22:13:20Z', created_by: 'berth bench' })),
    });
    const manifest = putJson(blobs, 'application/vnd.oci.image.manifest.v1+json', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: built.map((l) => l.desc),
    });
    writeFileSync(join(work, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(work, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
      }),
    );
    writeFileSync(
      join(work, 'bench-info.json'),
      JSON.stringify({
        manifestDigest: manifest.digest,
        configDigest: config.digest,
        layerDigests: built.map((l) => l.desc.digest),
        diffIds: built.map((l) => l.diffId),
        layers: built.length,
        compressedBytes: built.reduce((a, l) => a + l.desc.size, 0),
        uncompressedBytes: built.reduce((a, l) => a + l.rawBytes, 0),
      }),
    );
    rmSync(dest, { recursive: true, force: true });
    renameSync(work, dest);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function cached(cache: string, name: string, recipes: LayerRecipe[], log: (m: string) => void): Promise<BuiltImage> {
  const dest = join(cache, `${name}-v${RECIPE_VERSION}`);
  const tag = 'latest';
  if (!existsSync(join(dest, 'bench-info.json'))) {
    log(`image ${name}: building into ${dest} (cached for later runs)`);
    mkdirSync(cache, { recursive: true });
    await buildImage(dest, tag, recipes, log);
  }
  const info = JSON.parse(readFileSync(join(dest, 'bench-info.json'), 'utf8')) as Omit<BuiltImage, 'layout' | 'tag'>;
  return { layout: dest, tag, ...info };
}

export function bigImage(cache: string, log: (m: string) => void): Promise<BuiltImage> {
  return cached(cache, 'big', bigLayers, log);
}

export function busyboxImage(cache: string, log: (m: string) => void): Promise<BuiltImage> {
  return cached(cache, 'busybox', busyboxLayers, log);
}
