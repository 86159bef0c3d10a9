// Mounts seen from inside: the default set, tmpfs, binds (ro/rw), propagation, a read-only
// root, masked and read-only paths.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Bundle, RuntimeCli, Scope, describe as show, execOk, leakCheckFile, parseReport, type CheckerReport } from '../../harness/index.js';

const scope = new Scope('runtime-mounts');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

const mountAt = (rep: CheckerReport, mp: string) => {
  const all = rep.mounts.filter((m) => m.mountPoint === mp);
  return all[all.length - 1]; // the top one
};
const probe = (rep: CheckerReport, path: string) => {
  const p = rep.paths.find((x) => x.path === path);
  assert.ok(p, `probe of ${path}`);
  return p;
};
const opts = (s: string) => s.split(',');

test('the default mounts of runc spec are there, with their types and flags', async () => {
  const rep = await rt.report(Bundle.create(scope).dir);
  const expect: [string, string, string[]][] = [
    ['/proc', 'proc', []],
    ['/dev', 'tmpfs', ['nosuid']],
    ['/dev/pts', 'devpts', ['nosuid', 'noexec']],
    ['/dev/shm', 'tmpfs', ['nosuid', 'noexec', 'nodev']],
    ['/dev/mqueue', 'mqueue', ['nosuid', 'noexec', 'nodev']],
    ['/sys', 'sysfs', ['ro', 'nosuid', 'noexec', 'nodev']],
  ];
  for (const [mp, type, flags] of expect) {
    const m = mountAt(rep, mp);
    assert.ok(m, `a mount at ${mp}: ${rep.mounts.map((x) => x.mountPoint).join(' ')}`);
    assert.equal(m.fstype, type, mp);
    for (const f of flags) assert.ok(opts(m.options).includes(f), `${mp} has ${f}: ${m.options}`);
  }
  assert.ok(opts(mountAt(rep, '/').options).includes('ro'), 'root is read-only');
  // Nothing of the host's mount table is visible (the test's own scope dir, for one).
  assert.ok(!rep.mounts.some((m) => m.mountPoint.startsWith('/tmp/berth-') || m.mountPoint.startsWith('/work')), 'no host mount points');
});

test('a tmpfs mount with size and mode, writable', async () => {
  const b = Bundle.create(scope)
    .mount({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m', 'mode=750'] })
    .args('/checker', '/scratch');
  const rep = await rt.report(b.dir);
  const m = mountAt(rep, '/scratch');
  assert.equal(m.fstype, 'tmpfs');
  assert.ok(opts(m.superOptions).includes('size=1024k'), m.superOptions);
  assert.ok(opts(m.superOptions).includes('mode=750'), m.superOptions);
  assert.ok(opts(m.options).includes('nosuid') && opts(m.options).includes('nodev'), m.options);
  const p = probe(rep, '/scratch');
  assert.equal(p.writable, true);
  assert.equal(p.mode, 0o750);
});

test('bind mounts: read-only refuses writes (EROFS), read-write writes through to the host', async () => {
  const ro = scope.mkdtemp('bind-ro');
  writeFileSync(join(ro, 'file'), 'x');
  const rw = scope.mkdtemp('bind-rw');
  const b = Bundle.create(scope)
    .mount({ destination: '/data-ro', type: 'bind', source: ro, options: ['rbind', 'ro'] })
    .mount({ destination: '/data-rw', type: 'bind', source: rw, options: ['rbind', 'rw'] })
    .args('sh', '-c', '/checker /data-ro /data-ro/file /data-rw && echo hello > /data-rw/written');
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.equal(r.code, 0, show(r));
  const rep = parseReport(r.stdout);
  assert.ok(opts(mountAt(rep, '/data-ro').options).includes('ro'));
  assert.equal(probe(rep, '/data-ro').readCount, 1);
  assert.equal(probe(rep, '/data-ro').writable, false);
  assert.equal(probe(rep, '/data-ro').writeErrno, 'EROFS');
  assert.equal(probe(rep, '/data-ro/file').writeErrno, 'EROFS');
  assert.equal(probe(rep, '/data-rw').writable, true);
  assert.equal(readFileSync(join(rw, 'written'), 'utf8'), 'hello\n');
});

test('a bind of a file, and a destination that does not exist yet in the rootfs', async () => {
  const src = join(scope.mkdtemp('bind-file'), 'hosts');
  writeFileSync(src, '127.0.0.1 berth-test\n');
  const b = Bundle.create(scope)
    .readonlyRoot(false)
    .mount({ destination: '/etc/hosts', type: 'bind', source: src, options: ['bind', 'ro'] })
    .mount({ destination: '/new/deep/dir', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] })
    .args('sh', '-c', 'cat /etc/hosts; /checker /new/deep/dir');
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.equal(r.code, 0, show(r));
  assert.ok(r.stdout.startsWith('127.0.0.1 berth-test\n'));
  const rep = parseReport(r.stdout.slice(r.stdout.indexOf('{')));
  assert.equal(mountAt(rep, '/new/deep/dir')?.fstype, 'tmpfs');
});

test('propagation: an rslave bind sees mounts made later on the host, a private one does not', async () => {
  const shared = scope.mkdtemp('prop');
  await execOk('mount', ['--bind', shared, shared]);
  scope.defer('umount prop', async () => void (await execOk('umount', ['-R', shared])));
  await execOk('mount', ['--make-shared', shared]);
  const out = scope.mkdtemp('prop-out');
  const b = Bundle.create(scope)
    .mount({ destination: '/slave', type: 'bind', source: shared, options: ['rbind', 'rslave'] })
    .mount({ destination: '/private', type: 'bind', source: shared, options: ['rbind', 'rprivate'] })
    .mount({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] })
    .args('sh', '-c', 'while [ ! -e /out/go ]; do usleep 10000; done; /checker > /out/report');
  const id = scope.uid();
  const r = await rt.runDetached(id, b.dir);
  assert.equal(r.code, 0, show(r));
  mkdirSync(join(shared, 'later'));
  await execOk('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', join(shared, 'later')]);
  writeFileSync(join(out, 'go'), '');
  for (let i = 0; i < 500 && !existsSync(join(out, 'report')); i++) await new Promise((res) => setTimeout(res, 20));
  await rt.waitStatus(id, 'stopped');
  const rep = parseReport(readFileSync(join(out, 'report'), 'utf8'));
  assert.ok(mountAt(rep, '/slave').optional.some((o) => o.startsWith('master:')), `rslave: ${JSON.stringify(mountAt(rep, '/slave'))}`);
  assert.ok(mountAt(rep, '/slave/later'), 'the later host mount propagated into the rslave bind');
  assert.equal(mountAt(rep, '/private/later'), undefined, 'and not into the rprivate one');
  assert.equal((await rt.delete(id)).code, 0);
  await execOk('umount', [join(shared, 'later')]);
});

test('root.readonly false gives a writable root', async () => {
  const rep = await rt.report(Bundle.create(scope).readonlyRoot(false).args('/checker', '/', '/etc').dir);
  assert.equal(probe(rep, '/').writable, true);
  assert.equal(probe(rep, '/etc').writable, true);
  const ro = await rt.report(Bundle.create(scope).args('/checker', '/', '/etc').dir);
  assert.equal(probe(ro, '/').writeErrno, 'EROFS');
  assert.equal(probe(ro, '/etc').writeErrno, 'EROFS');
});

test('masked paths read empty; read-only paths refuse writes', async () => {
  // Only masked paths that exist on this kernel can be probed (/proc/kcore may be absent).
  const paths = ['/proc/keys', '/proc/timer_list', '/sys/firmware', '/proc/sys/kernel/hostname', '/proc/sys/vm/overcommit_memory', '/proc/uptime'];
  const rep = await rt.report(Bundle.create(scope).args('/checker', ...paths).dir);
  for (const f of ['/proc/keys', '/proc/timer_list']) {
    const p = probe(rep, f);
    assert.equal(p.readable, true, f);
    assert.equal(p.readCount, 0, `${f} reads empty (masked with /dev/null)`);
    assert.equal(p.rdev, '1:3', `${f} is /dev/null`);
  }
  const fw = probe(rep, '/sys/firmware');
  assert.equal(fw.type, 'dir');
  assert.equal(fw.readCount, 0, '/sys/firmware is an empty dir (masked with a read-only tmpfs)');
  assert.equal(probe(rep, '/proc/sys/kernel/hostname').writeErrno, 'EROFS');
  assert.equal(probe(rep, '/proc/sys/vm/overcommit_memory').writeErrno, 'EROFS');
  assert.ok(probe(rep, '/proc/uptime').readCount! > 0, 'an unmasked proc file reads');
});

test('without maskedPaths and readonlyPaths those paths are plain', async () => {
  const b = Bundle.create(scope)
    .update((s) => {
      s.linux!.maskedPaths = [];
      s.linux!.readonlyPaths = [];
    })
    .args('/checker', '/proc/timer_list', '/proc/sys/kernel/hostname');
  const rep = await rt.report(b.dir);
  assert.ok(probe(rep, '/proc/timer_list').readCount! > 0);
  assert.equal(probe(rep, '/proc/sys/kernel/hostname').writable, true);
});
