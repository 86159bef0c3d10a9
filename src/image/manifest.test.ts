import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isBerthError } from '../errors/index.js';
import { chainIds } from './chain.js';
import { layerCompression, parseConfig, parseIndex, parseManifest } from './manifest.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const layer = (c: string, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip') => ({ mediaType, digest: D(c), size: 10 });
const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('c'), size: 5 };

test('parses manifests, docker schema 2 included, and refuses malformed ones', () => {
  const m = parseManifest(JSON.stringify({ schemaVersion: 2, config, layers: [layer('a'), layer('b', 'application/vnd.docker.image.rootfs.diff.tar.gzip')] }));
  assert.equal(m.layers.length, 2);
  const bad: unknown[] = [
    '{',
    '[]',
    { schemaVersion: 1, config, layers: [] },
    { schemaVersion: 2, layers: [] },
    { schemaVersion: 2, config, layers: {} },
    { schemaVersion: 2, config: { ...config, digest: 'sha256:xyz' }, layers: [] },
    { schemaVersion: 2, config: { ...config, size: -1 }, layers: [] },
    { schemaVersion: 2, config: { ...config, size: 1.5 }, layers: [] },
    { schemaVersion: 2, config, layers: [{ digest: D('a'), size: 1 }] },
    { schemaVersion: 2, config, layers: [layer('a', 'application/vnd.oci.image.layer.v1.tar+encrypted')] },
  ];
  for (const b of bad) assert.throws(() => parseManifest(typeof b === 'string' ? b : JSON.stringify(b)), (e: unknown) => isBerthError(e), JSON.stringify(b));
});

test('parses indexes and configs', () => {
  const idx = parseIndex(JSON.stringify({ schemaVersion: 2, manifests: [{ ...layer('a', 'application/vnd.oci.image.manifest.v1+json'), platform: { os: 'linux', architecture: 'amd64' } }] }));
  assert.equal(idx.manifests.length, 1);
  assert.throws(() => parseIndex(JSON.stringify({ schemaVersion: 2 })), (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT'));
  const cfg = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D('1'), D('2')] } };
  assert.equal(parseConfig(JSON.stringify(cfg), 2).rootfs.diff_ids.length, 2);
  assert.throws(() => parseConfig(JSON.stringify(cfg), 3), /2 diff_ids for 3 layers/);
  assert.throws(() => parseConfig(JSON.stringify({ ...cfg, rootfs: { type: 'layers', diff_ids: ['nope'] } }), 1), /invalid diff_id/);
});

test('layer compression by media type', () => {
  assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar+zstd'), 'zstd');
  assert.equal(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
  assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar'), 'none');
});

test('chain IDs follow the image-spec formula', () => {
  const d = [D('1'), D('2'), D('3')];
  const c1 = `sha256:${createHash('sha256').update(`${d[0]} ${d[1]}`).digest('hex')}`;
  const c2 = `sha256:${createHash('sha256').update(`${c1} ${d[2]}`).digest('hex')}`;
  assert.deepEqual(chainIds(d), [d[0], c1, c2]);
  assert.deepEqual(chainIds([]), []);
});
