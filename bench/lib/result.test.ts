// The pure parts of the bench: statistics, ratios, rendering, rule splitting. No timing here:
// benchmarks report durations, tests never assert one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitRule } from './hostnet.js';
import { failedRow, newCase, okRow, ratio, summarize } from './result.js';
import { fmtMs, renderMarkdown, renderText } from './table.js';

test('summarize: median and p90 interpolate between ranks; min; count', () => {
  assert.equal(summarize([]), undefined);
  assert.deepEqual(summarize([5]), { median: 5, p90: 5, min: 5, n: 1 });
  const s = summarize([4, 1, 3, 2])!;
  assert.equal(s.median, 2.5);
  assert.equal(s.min, 1);
  assert.equal(s.n, 4);
  assert.ok(Math.abs(s.p90 - 3.7) < 1e-9);
});

test('ratio: subject median over peer median; none for references, failures, the subject', () => {
  const c = newCase('runtime', 'run', 'per container', 'berth-runtime');
  c.rows.push(okRow('berth-runtime', [30, 10, 20]));
  c.rows.push(okRow('runc', [5, 10, 15]));
  c.rows.push(okRow('wrapper', [1], { reference: true }));
  c.rows.push(failedRow('crun', 'boom'));
  assert.equal(ratio(c, c.rows[1]), 2);
  assert.equal(ratio(c, c.rows[0]), undefined);
  assert.equal(ratio(c, c.rows[2]), undefined);
  assert.equal(ratio(c, c.rows[3]), undefined);
  // No ratio at all when the subject has no sample.
  c.rows[0] = failedRow('berth-runtime', 'not built');
  assert.equal(ratio(c, c.rows[1]), undefined);
});

test('fmtMs picks a unit and precision by size', () => {
  assert.equal(fmtMs(7.123), '7.12 ms');
  assert.equal(fmtMs(21.04), '21.0 ms');
  assert.equal(fmtMs(660.4), '660 ms');
  assert.equal(fmtMs(3300), '3.30 s');
  assert.equal(fmtMs(12_345), '12.3 s');
});

test('rendering: failures show their reason; Markdown escapes pipes', () => {
  const c = newCase('pull', 'big', 'one pull', 'berth');
  c.rows.push(failedRow('berth', 'exit status 1 | see log'));
  c.rows.push(okRow('podman', [3300]));
  const text = renderText([c]);
  assert.match(text, /failed: exit status 1 \| see log/);
  assert.match(text, /podman\s+3\.30 s/);
  const md = renderMarkdown([c]);
  assert.match(md, /failed: exit status 1 \\\| see log/);
  assert.match(md, /\| podman \| 3\.30 s \|/);
});

test('splitRule splits iptables-save arguments like a shell, keeping quoted words whole', () => {
  assert.deepEqual(splitRule('-o docker0 -m comment --comment "a b \\"c\\"" -j DOCKER'), [
    '-o',
    'docker0',
    '-m',
    'comment',
    '--comment',
    'a b "c"',
    '-j',
    'DOCKER',
  ]);
});
