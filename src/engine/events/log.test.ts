import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from './log.js';
import type { EngineEvent } from './types.js';

/** A child process appending `n` events of ~`pad` bytes each, as fast as it can. */
function writer(path: string, tag: string, n: number, pad: number): Promise<void> {
  const mod = new URL('./log.js', import.meta.url).href;
  const code = `const { EventLog } = await import(${JSON.stringify(mod)});
    const l = new EventLog(${JSON.stringify(path)}, { maxBytes: 1e12, onError: (e) => { console.error(e); process.exit(2); } });
    for (let i = 0; i < ${n}; i++) l.append('container', 'start', ${JSON.stringify(tag)} + '-' + i, { pad: 'x'.repeat(${pad}) });`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve, reject) => p.once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`writer ${tag}: exit ${c}`)))));
}

test('event log: two concurrent writers never interleave partial lines', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-events-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'events.jsonl');
  // 3 KiB lines: larger than a pipe's atomic PIPE_BUF, so torn writes would show
  await Promise.all([writer(path, 'a', 1500, 3000), writer(path, 'b', 1500, 3000)]);
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 3000);
  const next: Record<string, number> = { a: 0, b: 0 };
  for (const l of lines) {
    const e = JSON.parse(l) as EngineEvent;
    const [w, i] = e.id.split('-');
    assert.equal(Number(i), next[w]++, 'each writer\'s events in its order');
    assert.equal(e.attributes.pad.length, 3000);
  }
  assert.deepEqual(next, { a: 1500, b: 1500 });
});

test('event log: a follower sees every event across rotations; replay reads both files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-events-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = new EventLog(join(dir, 'events.jsonl'), { maxBytes: 4096 });
  const t0 = Date.now() - 1;
  log.append('volume', 'create', 'before');
  const seen: string[] = [];
  const ac = new AbortController();
  const following = log.follow((e) => seen.push(e.id), { since: t0, signal: ac.signal, pollMs: 20 });
  for (let i = 0; i < 100; i++) {
    log.append('volume', 'create', `v${i}`, { pad: 'y'.repeat(200) });
    // let the follower run between some appends, and let others pile up over a rotation
    if (i % 7 === 0) await new Promise((r) => setTimeout(r, 30));
  }
  const deadline = Date.now() + 5000;
  while (seen.length < 101 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  await following;
  assert.deepEqual(seen, ['before', ...Array.from({ length: 100 }, (_, i) => `v${i}`)]);
  // the cap holds: only the current file and one older one, each near 4 KiB
  const stored = log.read({ since: t0 });
  assert.ok(stored.length > 0 && stored.length < 40, `${stored.length} kept`);
  assert.equal(stored.at(-1)!.id, 'v99');
  // until ends the replay
  const mid = stored[Math.floor(stored.length / 2)];
  assert.deepEqual(log.read({ since: t0, until: mid.time }).at(-1), mid);
});
