/** Build an OCI image layout (image-spec image-layout.md) from uncompressed layer tars, for umoci. */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Chain IDs (image-spec config.md "Layer ChainID") of the layers with these diff IDs. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

export function writeOciLayout(dir: string, tag: string, layers: Buffer[]): void {
  mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
  const put = (b: Buffer | string): { digest: string; size: number } => {
    const digest = sha256(b);
    writeFileSync(`${dir}/blobs/sha256/${digest.slice(7)}`, b);
    return { digest, size: Buffer.byteLength(b) };
  };
  const layerDescs = layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(l) }));
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: layerDescs.map((l) => l.digest) },
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(config) },
    layers: layerDescs,
  });
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...put(manifest), annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  writeFileSync(`${dir}/index.json`, JSON.stringify(index));
  writeFileSync(`${dir}/oci-layout`, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}
