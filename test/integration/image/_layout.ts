/**
 * Test images written in TypeScript into OCI image layouts (then pushed with skopeo): layers
 * from in-memory file lists, gzip / zstd / uncompressed, single images and multi-platform
 * indexes.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export type Entry =
  | { path: string; type: 'file'; content: Buffer | string; mode?: number }
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'link'; target: string };

export type Compression = 'gzip' | 'zstd' | 'none';

export interface LayerSpec {
  entries: Entry[];
  compression?: Compression;
}

export interface BuiltImage {
  manifest: { digest: string; size: number; mediaType: string };
  config: { digest: string; size: number };
  layers: { digest: string; size: number; diffId: string; mediaType: string }[];
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => p.on('end', () => r()));
  const mtime = new Date(0);
  for (const e of entries) {
    const common = { name: e.path, mtime, uid: 0, gid: 0 };
    if (e.type === 'file') {
      const body = typeof e.content === 'string' ? Buffer.from(e.content) : e.content;
      await new Promise<void>((res, rej) => p.entry({ ...common, mode: e.mode ?? 0o644, size: body.length }, body, (err) => (err ? rej(err) : res())));
    } else if (e.type === 'dir') p.entry({ ...common, type: 'directory', mode: e.mode ?? 0o755 });
    else if (e.type === 'symlink') p.entry({ ...common, type: 'symlink', linkname: e.target, mode: 0o777 });
    else p.entry({ ...common, type: 'link', linkname: e.target });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

const LAYER_TYPES: Record<Compression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

export class Layout {
  readonly dir: string;
  readonly #index: { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; platform?: object }[] = [];

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    this.#flush();
  }

  blob(data: Buffer | string): { digest: string; size: number } {
    const digest = sha(data);
    writeFileSync(join(this.dir, 'blobs/sha256', digest.slice(7)), data);
    return { digest, size: Buffer.byteLength(data) };
  }

  /** Writes an image (config, layers, manifest); tagged in index.json when `tag` is given. */
  async image(layers: LayerSpec[], opts: { tag?: string; arch?: string; variant?: string; cmd?: string[] } = {}): Promise<BuiltImage> {
    const built: BuiltImage['layers'] = [];
    for (const l of layers) {
      const tar = await tarOf(l.entries);
      const c = l.compression ?? 'gzip';
      const data = c === 'gzip' ? gzipSync(tar) : c === 'zstd' ? execFileSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 }) : tar;
      built.push({ ...this.blob(data), diffId: sha(tar), mediaType: LAYER_TYPES[c] });
    }
    const arch = opts.arch ?? 'amd64';
    const config = this.blob(
      JSON.stringify({
        created: '2026-01-01T00:00:00Z',
        architecture: arch,
        ...(opts.variant ? { variant: opts.variant } : {}),
        os: 'linux',
        config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: opts.cmd ?? ['sh'] },
        rootfs: { type: 'layers', diff_ids: built.map((b) => b.diffId) },
        history: built.map(() => ({ created: '2026-01-01T00:00:00Z', created_by: 'berth test' })),
      }),
    );
    const mediaType = 'application/vnd.oci.image.manifest.v1+json';
    const manifest = this.blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: built.map((b) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size })),
      }),
    );
    if (opts.tag) {
      this.#index.push({
        mediaType,
        ...manifest,
        annotations: { 'org.opencontainers.image.ref.name': opts.tag },
        platform: { os: 'linux', architecture: arch, ...(opts.variant ? { variant: opts.variant } : {}) },
      });
      this.#flush();
    }
    return { manifest: { ...manifest, mediaType }, config, layers: built };
  }

  /** An image index over images already written, tagged `tag`. */
  index(images: { image: BuiltImage; arch: string; variant?: string }[], tag: string): { digest: string; size: number } {
    const mediaType = 'application/vnd.oci.image.index.v1+json';
    const idx = this.blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        manifests: images.map((i) => ({
          mediaType: i.image.manifest.mediaType,
          digest: i.image.manifest.digest,
          size: i.image.manifest.size,
          platform: { os: 'linux', architecture: i.arch, ...(i.variant ? { variant: i.variant } : {}) },
        })),
      }),
    );
    this.#index.push({ mediaType, ...idx, annotations: { 'org.opencontainers.image.ref.name': tag } });
    this.#flush();
    return idx;
  }

  #flush(): void {
    writeFileSync(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: this.#index }));
  }
}

/** busybox from Debian's busybox-static as one layer: /bin/busybox plus a few applet links. */
export function busyboxEntries(): Entry[] {
  return [
    { path: 'bin/', type: 'dir' },
    { path: 'bin/busybox', type: 'file', content: readFileSync('/bin/busybox'), mode: 0o755 },
    { path: 'bin/sh', type: 'symlink', target: 'busybox' },
    { path: 'bin/ls', type: 'link', target: 'bin/busybox' },
    { path: 'etc/', type: 'dir' },
    { path: 'etc/passwd', type: 'file', content: 'root:x:0:0:root:/root:/bin/sh\n' },
  ];
}

/** Deterministic incompressible bytes (AES-CTR over zeros), for layers of a given size. */
export function noise(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}
