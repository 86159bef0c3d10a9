// Namespaces and the UTS fields, seen from inside by the checker.
import assert from 'node:assert/strict';
import { chmodSync, readlinkSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { Bundle, RuntimeCli, Scope, describe as show, exec, leakCheckFile, parseReport, runtimeName } from '../../harness/index.js';

const scope = new Scope('runtime-namespaces');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

function hostNs(name: string): number {
  return Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/self/ns/${name}`))![1]);
}

test('the process is pid 1 in new pid, net, ipc, uts and mount namespaces', async () => {
  const rep = await rt.report(Bundle.create(scope).dir);
  assert.equal(rep.pid, 1);
  assert.equal(rep.ppid, 0);
  for (const ns of ['pid', 'net', 'ipc', 'uts', 'mnt']) assert.notEqual(rep.namespaces[ns], hostNs(ns), `${ns} namespace is new`);
  // Not asked for in the default spec: shared with the host.
  assert.equal(rep.namespaces.user, hostNs('user'), 'user namespace is the host one');
});

test('a namespace left out of the spec is shared with the host', async () => {
  const b = Bundle.create(scope).withoutNamespace('network').withoutNamespace('uts').hostname(undefined);
  const rep = await rt.report(b.dir);
  assert.equal(rep.namespaces.net, hostNs('net'));
  assert.equal(rep.namespaces.uts, hostNs('uts'));
  assert.notEqual(rep.namespaces.pid, hostNs('pid'));
});

test('a cgroup namespace when asked for', async () => {
  const rep = await rt.report(Bundle.create(scope).namespace('cgroup').dir);
  assert.notEqual(rep.namespaces.cgroup, hostNs('cgroup'));
  // In its own cgroup namespace the process sees its cgroups as the root.
  for (const line of rep.cgroup) assert.match(line, /:\/$/, `cgroup line ${line}`);
});

test('joining an existing network namespace by path shares it', async () => {
  const name = scope.uid('ns');
  const add = await exec('ip', ['netns', 'add', name]);
  assert.equal(add.code, 0, show(add));
  scope.defer(`ip netns del ${name}`, async () => void (await exec('ip', ['netns', 'del', name])));
  const path = `/run/netns/${name}`;
  const rep = await rt.report(Bundle.create(scope).namespace('network', path).dir);
  assert.equal(rep.namespaces.net, statSync(path).ino, 'the net ns inode is the one of the named netns');
  assert.notEqual(rep.namespaces.net, hostNs('net'));
  const del = await exec('ip', ['netns', 'del', name]);
  assert.equal(del.code, 0, show(del));
});

test('joining the namespaces of another container by /proc/PID/ns path', async () => {
  const first = Bundle.create(scope).args('sleep', '60');
  const a = scope.uid();
  assert.equal((await rt.create(a, first.dir)).code, 0);
  const { pid } = await rt.state(a);
  const b = Bundle.create(scope).namespace('network', `/proc/${pid}/ns/net`).namespace('ipc', `/proc/${pid}/ns/ipc`);
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.equal(r.code, 0, show(r));
  const rep = parseReport(r.stdout);
  const theirs = (ns: string): number => Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${ns}`))![1]);
  assert.equal(rep.namespaces.net, theirs('net'));
  assert.equal(rep.namespaces.ipc, theirs('ipc'));
  assert.notEqual(rep.namespaces.pid, theirs('pid'), 'the pid namespace was not joined');
  assert.equal((await rt.delete(a, true)).code, 0);
});

test('hostname is set in the new UTS namespace', async () => {
  const rep = await rt.report(Bundle.create(scope).hostname('berth-test-host').dir);
  assert.equal(rep.hostname, 'berth-test-host');
});

test('domainname is set in the new UTS namespace', async (t) => {
  if (runtimeName() === 'runc') return t.skip('runc 1.1 ignores "domainname" (runc 1.2 sets it)');
  const rep = await rt.report(Bundle.create(scope).update((s) => void (s.domainname = 'berth.example')).dir);
  assert.equal(rep.domainname, 'berth.example');
});

test('a user namespace with uid/gid mappings: root inside is an unprivileged id outside', async () => {
  const map = [{ containerID: 0, hostID: 200000, size: 65536 }];
  const b = Bundle.create(scope)
    .namespace('user')
    .update((s) => {
      s.linux!.uidMappings = map;
      s.linux!.gidMappings = map;
    })
    .args('sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; /checker /etc/passwd');
  // The mapped root (host uid 200000) must be able to reach the rootfs: mkdtemp dirs are 0700.
  chmodSync(scope.dir, 0o711);
  chmodSync(b.dir, 0o711);
  const id = scope.uid();
  const r = await rt.runForeground(id, b.dir);
  assert.equal(r.code, 0, show(r));
  const [uidMap, gidMap] = r.stdout.split('\n').slice(0, 2).map((l) => l.trim().split(/\s+/).map(Number));
  assert.deepEqual(uidMap, [0, 200000, 65536]);
  assert.deepEqual(gidMap, [0, 200000, 65536]);
  const rep = parseReport(r.stdout.slice(r.stdout.indexOf('{')));
  assert.equal(rep.uid, 0, 'root inside');
  assert.notEqual(rep.namespaces.user, hostNs('user'), 'a new user namespace');
  // Files of host root are not mapped: they show as the overflow id.
  assert.equal(rep.paths[0].uid, 65534);
});

test('sysctls of the new namespaces are set', async () => {
  const b = Bundle.create(scope)
    .update((s) => void (s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '4096' }))
    .args('sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax');
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.equal(r.code, 0, show(r));
  assert.deepEqual(r.stdout.trim().split('\n'), ['1', '4096']);
});

test('a sysctl of a namespace the container does not own is refused', async () => {
  // With the host network namespace, net.* would change the host: runc refuses.
  const b = Bundle.create(scope)
    .withoutNamespace('network')
    .update((s) => void (s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }))
    .args('true');
  const id = scope.uid();
  const before = (await import('node:fs')).readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const r = await rt.runForeground(id, b.dir);
  assert.notEqual(r.code, 0, 'refused');
  assert.equal((await import('node:fs')).readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), before, 'the host value is untouched');
});
