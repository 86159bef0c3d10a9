import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerState } from '../containers/store.js';
import { applyHealthResult, effectiveHealthcheck } from './health.js';

test('image HEALTHCHECK under the flags; NONE and --no-healthcheck disable it', () => {
  const image = { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 4 };
  assert.deepEqual(effectiveHealthcheck(undefined, image), { test: ['CMD-SHELL', 'true'], interval: 5e9, retries: 4 });
  assert.deepEqual(effectiveHealthcheck({ interval: 1e9 }, image), { test: ['CMD-SHELL', 'true'], interval: 1e9, retries: 4 });
  assert.equal(effectiveHealthcheck({ test: ['NONE'] }, image), undefined);
  assert.equal(effectiveHealthcheck(undefined, { Test: ['NONE'] }), undefined);
  assert.equal(effectiveHealthcheck(undefined, undefined), undefined);
});

test('results: healthy at once, unhealthy after retries, start period failures do not count', () => {
  const hc = { test: ['CMD', 'x'], retries: 2 };
  const r = (exitCode: number) => ({ start: 's', end: 'e', exitCode, output: '' });
  let s = { health: { status: 'starting', failingStreak: 0, log: [] } } as unknown as ContainerState;
  s = applyHealthResult(s, r(1), hc, true);
  assert.equal(s.health!.status, 'starting');
  assert.equal(s.health!.failingStreak, 0);
  s = applyHealthResult(s, r(0), hc, true);
  assert.equal(s.health!.status, 'healthy');
  s = applyHealthResult(s, r(1), hc, false);
  assert.equal(s.health!.status, 'healthy');
  s = applyHealthResult(s, r(1), hc, false);
  assert.equal(s.health!.status, 'unhealthy');
  for (let i = 0; i < 6; i++) s = applyHealthResult(s, r(1), hc, false);
  assert.equal(s.health!.log.length, 5);
});
