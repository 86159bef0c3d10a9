// Self-test of the harness: it runs against runc (the reference), not the runtime under test,
// and proves the leak check really catches a leak of each cheap kind.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  Bundle,
  ConsoleReceiver,
  Scope,
  exec,
  execOk,
  leakSnapshot,
  leaksBetween,
  parseReport,
  RuntimeCli,
  startRegistry,
  withLeakCheck,
  removeTree,
} from './index.js';

test('a bundle runs the checker under runc and reports as JSON', () => {
  const scope = new Scope('harness-bundle');
  return withLeakCheck(scope, async () => {
    const rt = new RuntimeCli(scope, 'runc');
    const b = Bundle.create(scope).args('/checker', '/etc');
    const r = await rt.run(['run', '--bundle', b.dir, scope.uid()]);
    assert.equal(r.code, 0, r.stderr);
    const rep = parseReport(r.stdout);
    assert.equal(rep.pid, 1);
    assert.equal(rep.hostname, 'runc');
    assert.equal(rep.paths[0].type, 'dir');
  });
});

test('the leak check sees a leaked mount, process and cgroup, and nothing of others', async () => {
  const scope = new Scope('harness-leak');
  const other = new Scope('harness-other');
  const before = leakSnapshot(scope);
  const mp = join(scope.dir, 'mnt');
  mkdirSync(mp);
  await execOk('mount', ['-t', 'tmpfs', 'tmpfs', mp]);
  const cg = `/sys/fs/cgroup/pids/${scope.id}-leak`;
  mkdirSync(cg);
  const sleeper = await exec('sh', ['-c', `sleep 30 >/dev/null 2>&1 & echo $!`], { cwd: scope.dir });
  const pid = Number(sleeper.stdout.trim());
  try {
    const leaks = leaksBetween(before, leakSnapshot(scope));
    assert.ok(leaks.mounts?.some((m) => m.startsWith(mp)), JSON.stringify(leaks));
    assert.ok(leaks.cgroups?.includes(cg), JSON.stringify(leaks));
    assert.ok(leaks.processes?.some((p) => p.startsWith(`pid ${pid} `)), JSON.stringify(leaks));
    assert.deepEqual(leaksBetween(leakSnapshot(other), leakSnapshot(other)), {});
    assert.equal(Object.keys(leaksBetween(leakSnapshot(other), leakSnapshot(other))).length, 0);
  } finally {
    process.kill(pid, 'SIGKILL');
    // SIGKILL is asynchronous: the orphan is gone only once init has reaped it.
    for (let i = 0; i < 500 && (await import('node:fs')).existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 10));
    await execOk('umount', [mp]);
    (await import('node:fs')).rmdirSync(cg);
    await scope.cleanup();
    await other.cleanup();
  }
  assert.deepEqual(leaksBetween(before, leakSnapshot(scope)), {});
});

test('the registry answers /v2/, with basic auth when asked', () => {
  const scope = new Scope('harness-registry');
  return withLeakCheck(scope, async () => {
    const open = await startRegistry(scope);
    assert.equal((await fetch(`${open.url}/v2/`)).status, 200);
    const locked = await startRegistry(scope, { auth: { username: 'u', password: 'p w' } });
    assert.equal((await fetch(`${locked.url}/v2/`)).status, 401);
    const auth = 'Basic ' + Buffer.from('u:p w').toString('base64');
    assert.equal((await fetch(`${locked.url}/v2/`, { headers: { authorization: auth } })).status, 200);
  });
});

test('the console receiver gets the pty from runc create --console-socket', () => {
  const scope = new Scope('harness-console');
  return withLeakCheck(scope, async () => {
    const rt = new RuntimeCli(scope, 'runc');
    const b = Bundle.create(scope, { terminal: true }).args('sh', '-c', 'tty; echo hello-from-pty');
    const rx = await ConsoleReceiver.start(scope);
    const id = scope.uid();
    const c = await rt.create(id, b.dir, ['--console-socket', rx.socketPath]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await rt.start(id)).code, 0);
    await rx.waitFor('hello-from-pty');
    assert.match(rx.output(), /\/dev\/pts\/0\r?\n/);
    await rt.waitStatus(id, 'stopped');
    assert.equal((await rt.delete(id)).code, 0);
  });
});

test('the leak check sees a leaked netns, veth and iptables chain of the scope', async () => {
  const scope = new Scope('harness-net');
  const before = leakSnapshot(scope);
  const ns = `${scope.id}-ns`;
  await execOk('ip', ['netns', 'add', ns]);
  await execOk('ip', ['link', 'add', `${scope.id}a`, 'type', 'veth', 'peer', 'name', `${scope.id}b`]);
  const ipt = await exec('iptables', ['-w', '-t', 'filter', '-N', scope.id]);
  try {
    const leaks = leaksBetween(before, leakSnapshot(scope));
    assert.deepEqual(leaks.netns, [`/run/netns/${ns}`]);
    assert.deepEqual(leaks.links?.sort(), [`${scope.id}a`, `${scope.id}b`]);
    if (ipt.code === 0) assert.ok(leaks.iptables?.some((l) => l.includes(`:${scope.id} `)), JSON.stringify(leaks.iptables));
  } finally {
    await exec('ip', ['link', 'del', `${scope.id}a`]);
    await exec('ip', ['netns', 'del', ns]);
    if (ipt.code === 0) await exec('iptables', ['-w', '-t', 'filter', '-X', scope.id]);
    await scope.cleanup();
  }
  assert.deepEqual(leaksBetween(before, leakSnapshot(scope)), {});
});

test('removeTree refuses to remove through a mount', async () => {
  const scope = new Scope('harness-rm');
  const mp = join(scope.dir, 'm');
  mkdirSync(mp);
  await execOk('mount', ['-t', 'tmpfs', 'tmpfs', mp]);
  try {
    assert.throws(() => removeTree(scope.dir), /still mounted/);
  } finally {
    await execOk('umount', [mp]);
  }
  assert.deepEqual(await scope.cleanup(), []);
});
