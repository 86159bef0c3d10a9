/**
 * A busybox image for tests, made here without any registry: the busybox rootfs (with the
 * checker at /checker) tarred as one gzip layer, config and manifest written by hand into an
 * OCI image layout, then pushed to a test registry with skopeo.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeBusyboxRootfs } from './bundle.js';
import { execOk } from './exec.js';
import type { Registry } from './registry.js';
import type { Scope } from './scope.js';

export interface OciLayoutImage {
  /** The layout dir (`oci:DIR:TAG` for skopeo). */
  dir: string;
  tag: string;
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
  diffId: string;
}

function sha256(b: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

function writeBlob(layout: string, data: Buffer | string): { digest: string; size: number } {
  const digest = sha256(data);
  writeFileSync(join(layout, 'blobs/sha256', digest.slice(7)), data);
  return { digest, size: Buffer.byteLength(data) };
}

/**
 * Writes an OCI image layout holding busybox (+ /checker) under `tag` (default `latest`);
 * `customize` may change the rootfs before it is tarred (extra files, planted symlinks).
 */
export async function buildBusyboxLayout(scope: Scope, tag = 'latest', customize?: (rootfs: string) => void): Promise<OciLayoutImage> {
  const work = scope.mkdtemp('image');
  const rootfs = join(work, 'rootfs');
  mkdirSync(rootfs);
  writeBusyboxRootfs(rootfs);
  customize?.(rootfs);
  const tarPath = join(work, 'layer.tar');
  // Reproducible: sorted names, fixed mtime and owners.
  await execOk('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', rootfs, '-cf', tarPath, '.']);
  const tar = readFileSync(tarPath);
  const layout = join(work, 'layout');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const layer = writeBlob(layout, gzipSync(tar));
  const diffId = sha256(tar);
  const config = writeBlob(
    layout,
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'berth test harness: busybox-static + checker' }],
    }),
  );
  const manifest = writeBlob(
    layout,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    }),
  );
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': tag },
          platform: { architecture: 'amd64', os: 'linux' },
        },
      ],
    }),
  );
  return { dir: layout, tag, manifestDigest: manifest.digest, configDigest: config.digest, layerDigest: layer.digest, diffId };
}

/** Pushes a layout image to `registry` as `repo:tag`; returns the full reference. */
export async function pushLayout(image: OciLayoutImage, registry: Registry, repo = 'busybox', auth?: { username: string; password: string }): Promise<string> {
  const ref = `${registry.host}/${repo}:${image.tag}`;
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (auth) args.push('--dest-creds', `${auth.username}:${auth.password}`);
  await execOk('skopeo', [...args, `oci:${image.dir}:${image.tag}`, `docker://${ref}`], { timeoutMs: 60_000 });
  return ref;
}

/** Builds the busybox image and pushes it: the reference `127.0.0.1:PORT/busybox:TAG`. */
export async function pushBusybox(scope: Scope, registry: Registry, tag = 'latest'): Promise<string> {
  return pushLayout(await buildBusyboxLayout(scope, tag), registry);
}
