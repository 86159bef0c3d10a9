import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUser } from './user.js';

test('users and groups resolve from the image, as docker does', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-user-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nwww:x:33:\nstaff:x:50:www,other\nvideo:x:44:\n');
  assert.deepEqual(resolveUser(root, undefined), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.deepEqual(resolveUser(root, 'www'), { uid: 33, gid: 33, additionalGids: [50], home: '/var/www' });
  assert.deepEqual(resolveUser(root, 'www:video'), { uid: 33, gid: 44, additionalGids: [], home: '/var/www' });
  assert.deepEqual(resolveUser(root, '1234:5678'), { uid: 1234, gid: 5678, additionalGids: [], home: '/' });
  assert.deepEqual(resolveUser(root, '33', ['video']).additionalGids, [50, 44]);
  assert.throws(() => resolveUser(root, 'nobody'), /unable to find user nobody/);
  assert.throws(() => resolveUser(root, 'www:nogroup'), /unable to find group nogroup/);
});
