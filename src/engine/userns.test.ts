import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../util/sqlite.js';
import { parseUsernsMode, POOL_START, RANGE_SIZE, UsernsRanges } from './userns.js';

test('parseUsernsMode: host, auto, a range; host root and junk refused', () => {
  assert.deepEqual(parseUsernsMode(undefined), { kind: 'host' });
  assert.deepEqual(parseUsernsMode('host'), { kind: 'host' });
  assert.deepEqual(parseUsernsMode('auto'), { kind: 'auto' });
  assert.deepEqual(parseUsernsMode('200000:300000:1000'), { kind: 'range', uid: 200000, gid: 300000, size: 1000 });
  for (const bad of ['0:1:10', '1:0:10', '1:1:0', 'auto:1', '4294967290:1:100']) assert.throws(() => parseUsernsMode(bad), /invalid --userns/, bad);
});

test('UsernsRanges: lowest free range, one per container, released ranges reused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-userns-'));
  try {
    const r = new UsernsRanges(openDatabase(join(dir, 'm.db')));
    assert.equal(r.allocate('a').uid, POOL_START);
    assert.equal(r.allocate('b').uid, POOL_START + RANGE_SIZE);
    assert.throws(() => r.allocate('a'), /UNIQUE/);
    r.release('a');
    assert.equal(r.allocate('c').uid, POOL_START);
    assert.deepEqual(r.list().map((x) => x.container), ['c', 'b']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
