// Soak: many `run --rm` cycles, many containers started and removed at once, parallel creates
// racing for one name; then nothing may be left (leak check, bundle/log dirs, mounts) and the
// store must be consistent (no record, lease, snapshot or volume ref of a removed container).
// BERTH_SOAK=1 runs the full sizes (300 cycles, 50 at once); the default is a short version.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { engineEnv, leftovers, type EngineEnv } from './_env.js';

const LONG = process.env.BERTH_SOAK === '1';
const CYCLES = LONG ? 300 : 15;
const PARALLEL = LONG ? 50 : 10;

const { ready } = engineEnv('soak');
let e: EngineEnv;

test('setup', async () => {
  e = await ready;
});

function storeCheck(): void {
  const db = new Database(join(e.root, 'metadata.db'), { readonly: true });
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    assert.equal(count('SELECT count(*) AS n FROM containers'), 0, 'container records');
    assert.equal(count("SELECT count(*) AS n FROM leases WHERE id LIKE 'container/%'"), 0, 'container leases');
    assert.equal(count("SELECT count(*) AS n FROM snapshots WHERE key LIKE 'container-%'"), 0, 'container snapshots');
    assert.equal(count('SELECT count(*) AS n FROM volume_refs'), 0, 'volume refs');
  } finally {
    db.close();
  }
}

test(`${CYCLES} run --rm cycles`, { timeout: LONG ? 1_800_000 : 120_000 }, async () => {
  for (let i = 0; i < CYCLES; i++) {
    const r = await e.berth(['run', '--rm', e.image, 'sh', '-c', `echo ${i}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${i}\n`);
  }
  assert.deepEqual(leftovers(e), []);
  storeCheck();
});

test(`${PARALLEL} concurrent run -d, a concurrent ps, then concurrent rm -f`, { timeout: LONG ? 600_000 : 120_000 }, async () => {
  const t0 = Date.now();
  const runs = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) => e.berth(['run', '-d', '--name', `soak${i}`, e.image, 'sleep', '1000'], { timeoutMs: 300_000 })),
  );
  const startMs = Date.now() - t0;
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const ids = runs.map((r) => r.stdout.trim());
  assert.equal(new Set(ids).size, PARALLEL);
  const running = (await e.ok(['ps', '-q', '--no-trunc'])).split('\n').filter(Boolean).sort();
  assert.deepEqual(running, [...ids].sort());
  const t1 = Date.now();
  const rms = await Promise.all([
    ...ids.map((id) => e.berth(['rm', '-f', id], { timeoutMs: 300_000 })),
    e.berth(['ps', '-a']),
  ]);
  for (const r of rms) assert.equal(r.code, 0, r.stderr);
  process.stderr.write(`# ${PARALLEL} concurrent run -d: ${startMs} ms; rm -f of all: ${Date.now() - t1} ms\n`);
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e), []);
  storeCheck();
});

test('run --rm beside concurrent ps (which also removes exited --rm containers): output, exit code, nothing left', async () => {
  const runs = Array.from({ length: 5 }, (_, i) => e.berth(['run', '--rm', e.image, 'sh', '-c', `echo r${i}; exit ${i}`]));
  const pss = Array.from({ length: 5 }, () => e.berth(['ps', '-a']));
  const rs = await Promise.all(runs);
  rs.forEach((r, i) => {
    assert.equal(r.code, i, r.stderr);
    assert.equal(r.stdout, `r${i}\n`);
    assert.equal(r.stderr, '');
  });
  for (const p of await Promise.all(pss)) assert.equal(p.code, 0, p.stderr);
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e), []);
  storeCheck();
});

test('parallel creates racing for one name: exactly one wins, the others fail cleanly', async () => {
  const rs = await Promise.all(Array.from({ length: 6 }, () => e.berth(['create', '--name', 'contested', e.image, 'true'])));
  assert.equal(rs.filter((r) => r.code === 0).length, 1, rs.map((r) => r.stderr).join(''));
  for (const r of rs.filter((x) => x.code !== 0)) assert.match(r.stderr, /already in use/);
  assert.equal((await e.ok(['ps', '-aq'])).split('\n').length, 1);
  await e.ok(['rm', 'contested']);
  // two removers at once: one removes, the other finds it gone or in removal; nothing stays
  await e.ok(['run', '-d', '--name', 'tworm', e.image, 'sleep', '100']);
  const two = await Promise.all([e.berth(['rm', '-f', 'tworm']), e.berth(['rm', '-f', 'tworm'])]);
  assert.ok(two.some((r) => r.code === 0));
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e), []);
  storeCheck();
});
