import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secureJoin } from './secure-join.js';

test('symlinks planted in an image resolve inside the root, never to the host', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-sj-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc'));
  symlinkSync('/etc/shadow', join(root, 'etc', 'passwd'));
  symlinkSync('../../../../..', join(root, 'up'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  assert.equal(secureJoin(root, '/etc/passwd'), join(root, 'etc/shadow'));
  assert.equal(secureJoin(root, '/up/etc/group'), join(root, 'etc/group'));
  assert.equal(secureJoin(root, '../../x'), join(root, 'x'));
  assert.equal(secureJoin(root, '/a/./b/../c'), join(root, 'a/c'));
  assert.throws(() => secureJoin(root, '/loop1'), /too many levels/);
});
