// /dev inside the container: the default devices every runtime must create (runtime-spec
// config-linux.md "Default Devices"), linux.devices entries, and the device cgroup.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bundle, RuntimeCli, Scope, describe as show, leakCheckFile, type CheckerReport } from '../../harness/index.js';

const scope = new Scope('runtime-devices');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

const probe = (rep: CheckerReport, path: string) => {
  const p = rep.paths.find((x) => x.path === path);
  assert.ok(p, `probe of ${path}`);
  return p;
};

test('the default devices exist with their numbers and are usable', async () => {
  const defaults: [string, string][] = [
    ['/dev/null', '1:3'],
    ['/dev/zero', '1:5'],
    ['/dev/full', '1:7'],
    ['/dev/random', '1:8'],
    ['/dev/urandom', '1:9'],
    ['/dev/tty', '5:0'],
  ];
  const rep = await rt.report(Bundle.create(scope).args('/checker', ...defaults.map(([p]) => p), '/dev/ptmx', '/dev/pts').dir);
  for (const [path, rdev] of defaults) {
    const p = probe(rep, path);
    assert.equal(p.type, 'char', `${path} is a char device`);
    assert.equal(p.rdev, rdev, `${path} is ${rdev}`);
    if (path !== '/dev/tty') assert.equal(p.readable, true, `${path} opens (device cgroup allows it): ${p.readErrno}`);
  }
  assert.equal(probe(rep, '/dev/zero').readCount, 4096, '/dev/zero reads zeros');
  assert.equal(probe(rep, '/dev/null').writable, true);
  assert.ok(probe(rep, '/dev/ptmx').exists, '/dev/ptmx');
  assert.equal(probe(rep, '/dev/pts').type, 'dir');
});

test('the /dev/fd and stdio links point into /proc/self/fd', async () => {
  const b = Bundle.create(scope).args('sh', '-c', 'for l in fd stdin stdout stderr; do echo "$l $(readlink /dev/$l)"; done');
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.equal(r.code, 0, show(r));
  const links = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ')));
  assert.deepEqual(links, { fd: '/proc/self/fd', stdin: '/proc/self/fd/0', stdout: '/proc/self/fd/1', stderr: '/proc/self/fd/2' });
});

test('host devices are not there unless asked for', async () => {
  const rep = await rt.report(Bundle.create(scope).args('/checker', '/dev/fuse', '/dev/mem', '/dev/kmsg').dir);
  for (const p of ['/dev/fuse', '/dev/mem', '/dev/kmsg']) assert.equal(probe(rep, p).exists, false, `${p} is absent`);
});

test('a linux.devices entry is created with its mode and owner, and the device cgroup decides access', async () => {
  const device = { type: 'c' as const, path: '/dev/berth-null', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 1001 };
  const denied = Bundle.create(scope)
    .update((s) => void (s.linux!.devices = [device]))
    .args('/checker', '/dev/berth-null');
  const d = probe(await rt.report(denied.dir), '/dev/berth-null');
  assert.equal(d.type, 'char');
  assert.equal(d.rdev, '1:3');
  assert.equal(d.mode, 0o640);
  assert.equal(d.uid, 1000);
  assert.equal(d.gid, 1001);
  // 1:3 is also /dev/null, which the runtime's default rules allow: use a major/minor that
  // only this entry names to see the cgroup deny it.
  const fuse = { type: 'c' as const, path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 };
  const noRule = Bundle.create(scope)
    .update((s) => void (s.linux!.devices = [fuse]))
    .args('/checker', '/dev/fuse');
  const n = probe(await rt.report(noRule.dir), '/dev/fuse');
  assert.equal(n.exists, true);
  assert.deepEqual([n.readStep, n.readErrno], ['open', 'EPERM'], 'no cgroup rule for 10:229: open for reading is refused');
  assert.equal(n.writeErrno, 'EPERM', 'and open for writing');
  const allowed = Bundle.create(scope)
    .update((s) => {
      s.linux!.devices = [fuse];
      s.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
    })
    .args('/checker', '/dev/fuse');
  const a = probe(await rt.report(allowed.dir), '/dev/fuse');
  // (read(2) of an unmounted fuse device fails by itself: only the open counts.)
  assert.notEqual(a.readStep, 'open', `an allow rule for 10:229 lets open through: ${JSON.stringify(a)}`);
  assert.equal(a.writable, true, `and open for writing: ${JSON.stringify(a)}`);
});
