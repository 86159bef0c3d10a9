import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCgroupMounts, parseProcCgroup, ownCgroupIn } from './mounts.js';
import { layoutOf } from './layout.js';
import { isSystemdPath, resolveCgroupsPath } from './resolve-path.js';
import { normalize } from './_common.js';
import { isBerthError } from '../../errors/index.js';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`;

test('mountinfo: v1 controllers, named hierarchies, cgroup2', () => {
  const hs = parseCgroupMounts(HYBRID);
  assert.deepEqual(
    hs.map((h) => [h.version, h.mountpoint, h.controllers.join(',')]),
    [
      [1, '/sys/fs/cgroup/cpu,cpuacct', 'cpu,cpuacct'],
      [1, '/sys/fs/cgroup/memory', 'memory'],
      [1, '/sys/fs/cgroup/systemd', 'name=systemd'],
      [2, '/sys/fs/cgroup/unified', ''],
    ],
  );
  assert.equal(layoutOf(hs, '/sys/fs/cgroup'), 'hybrid');
  assert.equal(layoutOf(hs.filter((h) => h.version === 1), '/sys/fs/cgroup'), 'v1');
  const v2 = parseCgroupMounts('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n');
  assert.equal(layoutOf(v2, '/sys/fs/cgroup'), 'v2');
  const esc = parseCgroupMounts('30 23 0:26 / /tmp/a\\040b rw - cgroup2 cgroup2 rw\n');
  assert.equal(esc[0].mountpoint, '/tmp/a b');
});

test('/proc/self/cgroup: own path per hierarchy', () => {
  const own = parseProcCgroup('4:memory:/process_api/x\n2:cpu,cpuacct:/a\n1:name=systemd:/\n0::/u\n');
  const hs = parseCgroupMounts(HYBRID);
  assert.deepEqual(hs.map((h) => ownCgroupIn(h, own)), ['/a', '/process_api/x', '/', '/u']);
});

test('cgroup paths: runc cgroupfs rules', () => {
  assert.equal(resolveCgroupsPath(undefined, 'abc'), '/berth/abc');
  assert.equal(resolveCgroupsPath('', 'abc'), '/berth/abc');
  assert.equal(resolveCgroupsPath('/libpod_parent/libpod-abc', 'abc'), '/libpod_parent/libpod-abc');
  assert.equal(resolveCgroupsPath('/default//abc/', 'abc'), '/default/abc');
  assert.ok(resolveCgroupsPath('berth-rel/abc', 'abc').endsWith('/berth-rel/abc'));
  assert.ok(resolveCgroupsPath('berth-rel/abc', 'abc').startsWith('/'));
  assert.ok(isSystemdPath('system.slice:docker:abc'));
  assert.ok(!isSystemdPath('/a:b:c/d'));
  assert.throws(
    () => resolveCgroupsPath('system.slice:berth:abc', 'abc'),
    (e) => isBerthError(e, 'NOT_IMPLEMENTED') && e.message.includes('systemd cgroup driver not supported: no systemd on this host'),
  );
  assert.throws(() => resolveCgroupsPath(undefined, 'a/b'), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
  assert.throws(() => normalize('/berth/../etc'), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
});
