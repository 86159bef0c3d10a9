import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DetachWatcher, parseDetachKeys } from './detach-keys.js';
import { parseGoDuration } from './health-flags.js';
import { splitCpArg } from './cp.js';

test('detach keys: docker spelling, default ctrl-p,ctrl-q, errors', () => {
  assert.deepEqual([...parseDetachKeys(undefined)], [0x10, 0x11]);
  assert.deepEqual([...parseDetachKeys('ctrl-x,a,ctrl-@')], [0x18, 0x61, 0x00]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /invalid detach keys/);
  assert.throws(() => parseDetachKeys('abc'), /invalid detach keys/);
});

test('detach watcher holds a prefix back, lets a mismatch through, detaches on the full sequence', () => {
  const w = new DetachWatcher(parseDetachKeys(undefined));
  assert.deepEqual(w.push(Buffer.from('ab\x10')), { forward: Buffer.from('ab'), detach: false });
  assert.deepEqual(w.push(Buffer.from('x')), { forward: Buffer.from('\x10x'), detach: false });
  assert.deepEqual(w.push(Buffer.from('\x10\x10')), { forward: Buffer.from('\x10'), detach: false });
  assert.deepEqual(w.push(Buffer.from('\x11rest')), { forward: Buffer.alloc(0), detach: true });
});

test('Go durations and cp arguments', () => {
  assert.equal(parseGoDuration('1m30s', 'x'), 90e9);
  assert.equal(parseGoDuration('300ms', 'x'), 300e6);
  assert.throws(() => parseGoDuration('10', 'x'), /invalid duration/);
  assert.deepEqual(splitCpArg('box:/etc'), { container: 'box', path: '/etc' });
  assert.deepEqual(splitCpArg('./a:b'), { path: './a:b' });
  assert.deepEqual(splitCpArg('/tmp/x'), { path: '/tmp/x' });
});
