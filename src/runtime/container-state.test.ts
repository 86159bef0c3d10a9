import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateRoot, checkId, deriveStatus, processStartTime, type ContainerRecord } from './container-state.js';
import { isBerthError } from '../errors/index.js';

test('ids: runc rules', () => {
  assert.equal(checkId('web-1.a_b+c'), 'web-1.a_b+c');
  for (const bad of ['', '..', 'a/b', 'a b', '../x']) assert.throws(() => checkId(bad), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
});

test('claim is exclusive; load of a missing id is NOT_FOUND', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = new StateRoot(join(dir, 'root'));
  root.claim('c1');
  assert.throws(() => root.claim('c1'), (e) => isBerthError(e, 'ALREADY_EXISTS'));
  assert.throws(() => root.load('c2'), (e) => isBerthError(e, 'NOT_FOUND') && /"c2" does not exist/.test(e.message));
  root.release('c1');
  assert.deepEqual(root.ids(), []);
});

test('status comes from the kernel: our own pid is alive, a recycled start time is stopped', () => {
  const start = processStartTime(process.pid)!;
  assert.match(start, /^\d+$/);
  const rec: ContainerRecord = { id: 'x', bundle: '/b', rootfs: '/b/rootfs', pid: process.pid, pidStartTime: start, cgroupPath: '/x', created: '', owner: '' };
  assert.equal(deriveStatus(rec, () => false), 'created');
  assert.equal(deriveStatus({ ...rec, started: true }, () => false), 'running');
  assert.equal(deriveStatus({ ...rec, started: true }, () => true), 'paused');
  assert.equal(deriveStatus({ ...rec, pidStartTime: '1' }, () => false), 'stopped');
});
