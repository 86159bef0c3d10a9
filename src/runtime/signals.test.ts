import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal } from './signals.js';

test('signals by name, short name and number', () => {
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('hup'), 1);
  assert.equal(parseSignal('10'), 10);
  assert.equal(parseSignal(undefined), 15);
  assert.equal(parseSignal('SIGRTMIN+2'), 36);
  assert.throws(() => parseSignal('SIGNOPE'), /invalid signal/);
  assert.throws(() => parseSignal('0'), /invalid signal/);
});
