import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../util/sqlite.js';
import { ContainerStore, initialState } from './store.js';
import { isBerthError } from '../../errors/index.js';

function rec(id: string, name?: string) {
  return { id, name, image: 'busybox', imageId: 'sha256:1', created: new Date().toISOString(), config: { image: 'busybox' }, state: initialState(), snapshotKey: id, runtime: 'berth', labels: {} };
}

test('names are unique, ids resolve by prefix, ambiguous prefixes are errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new ContainerStore(openDatabase(join(dir, 'metadata.db')));
  store.insert(rec('abc111', 'web'));
  store.insert(rec('abc222'));
  assert.throws(() => store.insert(rec('def333', 'web')), (e) => isBerthError(e, 'CONFLICT') && /"\/web" is already in use by container "abc111"/.test(e.message));
  assert.throws(() => store.insert(rec('def444', 'bad name')), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
  assert.equal(store.find('web').id, 'abc111');
  assert.equal(store.find('/web').id, 'abc111');
  assert.equal(store.find('abc2').id, 'abc222');
  assert.throws(() => store.find('abc'), /multiple IDs found/);
  assert.throws(() => store.find('zzz'), (e) => isBerthError(e, 'NOT_FOUND') && e.message === 'No such container: zzz');
  store.updateState('abc111', (s) => ({ ...s, status: 'running', pid: 42 }));
  assert.equal(store.find('web').state.pid, 42);
  store.rename('abc111', 'api');
  assert.equal(store.find('api').id, 'abc111');
  store.remove('abc111');
  assert.equal(store.tryFind('api'), undefined);
  assert.match(store.list()[0].name, /^[a-z]+_[a-z]+/);
});
