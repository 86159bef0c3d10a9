import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/index.js';
import type { Descriptor } from '../spec/image.js';
import { parsePlatform, selectPlatform } from './platform.js';

const d = (arch: string, variant?: string, os = 'linux'): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${(arch + (variant ?? '')).padEnd(64, '0').replace(/[^a-f0-9]/g, '0')}`,
  size: 1,
  platform: { os, architecture: arch, ...(variant ? { variant } : {}) },
});

test('parses --platform values and normalizes aliases', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/arm/7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  for (const bad of ['linux', 'linux/', 'a/b/c/d', 'linux/am d64']) assert.throws(() => parsePlatform(bad), (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT'), bad);
});

test('selects the platform manifest from an index', () => {
  const list = [d('arm', 'v6'), d('arm', 'v7'), d('arm64', 'v8'), d('amd64'), d('amd64', undefined, 'windows')];
  assert.equal(selectPlatform(list, parsePlatform('linux/amd64')), list[3]);
  assert.equal(selectPlatform(list, parsePlatform('linux/arm64')), list[2]);
  assert.equal(selectPlatform(list, parsePlatform('linux/arm64/v8')), list[2]);
  assert.equal(selectPlatform(list, parsePlatform('linux/arm/v7')), list[1]);
  assert.equal(selectPlatform(list, parsePlatform('windows/amd64')), list[4]);
  assert.equal(selectPlatform(list, parsePlatform('linux/s390x')), undefined);
  // arm64 without a variant in the index is v8.
  assert.equal(selectPlatform([d('arm64')], parsePlatform('linux/arm64/v8'))?.platform?.architecture, 'arm64');
  assert.equal(selectPlatform([d('arm', 'v6')], parsePlatform('linux/arm/v7')), undefined);
});
