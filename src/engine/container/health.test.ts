import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectiveHealthcheck } from './health.js';

test('image HEALTHCHECK under the flags; NONE and --no-healthcheck disable it', () => {
  const image = { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 4 };
  assert.deepEqual(effectiveHealthcheck(undefined, image), { test: ['CMD-SHELL', 'true'], interval: 5e9, retries: 4 });
  assert.deepEqual(effectiveHealthcheck({ interval: 1e9 }, image), { test: ['CMD-SHELL', 'true'], interval: 1e9, retries: 4 });
  assert.equal(effectiveHealthcheck({ test: ['NONE'] }, image), undefined);
  assert.equal(effectiveHealthcheck(undefined, { Test: ['NONE'] }), undefined);
  assert.equal(effectiveHealthcheck(undefined, undefined), undefined);
});
