import { BerthError } from '../errors/index.js';
import { type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MEDIA_TYPES } from '../spec/image.js';
import { validateDigest } from './reference.js';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

const LAYER_TYPES: Record<string, LayerCompression> = {
  [MEDIA_TYPES.ociLayer]: 'none',
  [MEDIA_TYPES.ociLayerGzip]: 'gzip',
  [MEDIA_TYPES.ociLayerZstd]: 'zstd',
  [MEDIA_TYPES.ociLayerNondist]: 'none',
  [MEDIA_TYPES.ociLayerNondistGzip]: 'gzip',
  [MEDIA_TYPES.ociLayerNondistZstd]: 'zstd',
  [MEDIA_TYPES.dockerLayer]: 'none',
  [MEDIA_TYPES.dockerLayerGzip]: 'gzip',
  [MEDIA_TYPES.dockerLayerForeignGzip]: 'gzip',
  [MEDIA_TYPES.dockerLayerZstd]: 'zstd',
};

export function layerCompression(mediaType: string): LayerCompression {
  const c = LAYER_TYPES[mediaType];
  if (c === undefined) throw new BerthError('NOT_IMPLEMENTED', `layer media type ${JSON.stringify(mediaType)} is not supported`);
  return c;
}

export function isIndexType(mediaType: string): boolean {
  return INDEX_MEDIA_TYPES.includes(mediaType);
}

export function isManifestType(mediaType: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(mediaType);
}

function parseJson(data: Buffer | string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch (err) {
    throw new BerthError('INVALID_ARGUMENT', `${what}: malformed JSON: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new BerthError('INVALID_ARGUMENT', `${what}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** Check a descriptor's required fields (image-spec descriptor.md). */
export function checkDescriptor(d: unknown, what: string): Descriptor {
  if (!d || typeof d !== 'object') throw new BerthError('INVALID_ARGUMENT', `${what}: descriptor is not an object`);
  const x = d as Record<string, unknown>;
  if (typeof x.mediaType !== 'string' || !x.mediaType) throw new BerthError('INVALID_ARGUMENT', `${what}: descriptor without mediaType`);
  if (typeof x.digest !== 'string') throw new BerthError('INVALID_ARGUMENT', `${what}: descriptor without digest`);
  try {
    validateDigest(x.digest);
  } catch (err) {
    throw BerthError.wrap(err, what, 'INVALID_ARGUMENT');
  }
  if (typeof x.size !== 'number' || !Number.isSafeInteger(x.size) || x.size < 0) {
    throw new BerthError('INVALID_ARGUMENT', `${what}: descriptor ${x.digest} has invalid size ${JSON.stringify(x.size)}`);
  }
  return x as unknown as Descriptor;
}

export function parseIndex(data: Buffer | string, what = 'parse index'): ImageIndex {
  const j = parseJson(data, what);
  if (j.schemaVersion !== 2) throw new BerthError('INVALID_ARGUMENT', `${what}: schemaVersion is not 2`);
  if (!Array.isArray(j.manifests)) throw new BerthError('INVALID_ARGUMENT', `${what}: no manifests list`);
  j.manifests.forEach((m, i) => checkDescriptor(m, `${what}: manifests[${i}]`));
  return j as unknown as ImageIndex;
}

export function parseManifest(data: Buffer | string, what = 'parse manifest'): ImageManifest {
  const j = parseJson(data, what);
  if (j.schemaVersion !== 2) throw new BerthError('INVALID_ARGUMENT', `${what}: schemaVersion is not 2`);
  checkDescriptor(j.config, `${what}: config`);
  if (!Array.isArray(j.layers)) throw new BerthError('INVALID_ARGUMENT', `${what}: no layers list`);
  j.layers.forEach((l, i) => {
    const d = checkDescriptor(l, `${what}: layers[${i}]`);
    layerCompression(d.mediaType);
  });
  return j as unknown as ImageManifest;
}

export function parseConfig(data: Buffer | string, layerCount: number, what = 'parse image config'): ImageConfig {
  const j = parseJson(data, what);
  const rootfs = j.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (!rootfs || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) {
    throw new BerthError('INVALID_ARGUMENT', `${what}: no rootfs.diff_ids`);
  }
  for (const d of rootfs.diff_ids) {
    if (typeof d !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d)) throw new BerthError('INVALID_ARGUMENT', `${what}: invalid diff_id ${JSON.stringify(d)}`);
  }
  if (rootfs.diff_ids.length !== layerCount) {
    throw new BerthError('INVALID_ARGUMENT', `${what}: ${rootfs.diff_ids.length} diff_ids for ${layerCount} layers`);
  }
  if (typeof j.architecture !== 'string' || typeof j.os !== 'string') throw new BerthError('INVALID_ARGUMENT', `${what}: no os or architecture`);
  return j as unknown as ImageConfig;
}
