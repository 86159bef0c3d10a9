// Cgroup limits act for real: memory (the allocator is OOM-killed), pids (forks fail), and
// `update` changes them on a running container.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bundle, RuntimeCli, Scope, describe as show, leakCheckFile, parseReport } from '../../harness/index.js';

const scope = new Scope('runtime-cgroups');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

interface ForkReport {
  requested: number;
  forked: number;
  errno: string | null;
}
interface AllocReport {
  requested: number;
  allocated: number;
}

const MiB = 1024 * 1024;

test('a memory limit OOM-kills a process that touches more than the limit', async () => {
  const b = Bundle.create(scope).resources({ memory: { limit: 32 * MiB, swap: 32 * MiB } }).args('/checker', 'alloc', '128');
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.equal(r.code, 137, `killed by SIGKILL (128+9): ${show(r)}`);
  assert.doesNotMatch(r.stdout, /"allocated":128/);
});

test('under the memory limit the same allocation succeeds', async () => {
  const b = Bundle.create(scope).resources({ memory: { limit: 64 * MiB, swap: 64 * MiB } }).args('/checker', 'alloc', '16');
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.equal(r.code, 0, show(r));
  assert.equal(parseReport<AllocReport>(r.stdout).allocated, 16);
});

test('a pids limit stops forks with EAGAIN', async () => {
  const b = Bundle.create(scope).resources({ pids: { limit: 8 } }).args('/checker', 'fork', '20');
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.equal(r.code, 0, show(r));
  const rep = parseReport<ForkReport>(r.stdout);
  // Only the checker and its children may count: a runtime helper left in the container's
  // cgroup would take a slot.
  assert.equal(rep.forked, 7, 'the checker itself counts: 8 - 1 children');
  assert.equal(rep.errno, 'EAGAIN');
});

test('the container is in its own cgroup, named after cgroupsPath', async () => {
  const path = `/${scope.uid('cg')}`;
  const rep = await rt.report(Bundle.create(scope).cgroupsPath(path).dir);
  for (const ctrl of ['memory', 'pids']) {
    const line = rep.cgroup.find((l) => l.split(':')[1].split(',').includes(ctrl)) ?? rep.cgroup.find((l) => l.startsWith('0::'));
    assert.ok(line?.endsWith(path), `${ctrl} cgroup ${line} is ${path}`);
  }
});

test('update --pids-limit on a running container acts on the next forks', async () => {
  const b = Bundle.create(scope).resources({ pids: { limit: 100 } }).args('sleep', '60');
  const id = scope.uid();
  assert.equal((await rt.runDetached(id, b.dir)).code, 0);
  const before = parseReport<ForkReport>((await rt.ok(['exec', id, '/checker', 'fork', '10'])).stdout);
  assert.equal(before.forked, 10);
  const u = await rt.run(['update', '--pids-limit', '5', id]);
  assert.equal(u.code, 0, show(u));
  const after = parseReport<ForkReport>((await rt.ok(['exec', id, '/checker', 'fork', '10'])).stdout);
  // sleep + the exec'd checker are 2 of the 5.
  assert.equal(after.forked, 3, 'only sleep and the exec\'d checker count (a runtime helper in the cgroup would take a slot)');
  assert.equal(after.errno, 'EAGAIN');
  assert.equal((await rt.delete(id, true)).code, 0);
});

test('update --memory on a running container OOM-kills the next big allocation', async () => {
  const b = Bundle.create(scope).args('sleep', '60');
  const id = scope.uid();
  assert.equal((await rt.runDetached(id, b.dir)).code, 0);
  const ok = await rt.run(['exec', id, '/checker', 'alloc', '48']);
  assert.equal(ok.code, 0, show(ok));
  const u = await rt.run(['update', '--memory', String(32 * MiB), '--memory-swap', String(32 * MiB), id]);
  assert.equal(u.code, 0, show(u));
  const killed = await rt.run(['exec', id, '/checker', 'alloc', '48']);
  assert.equal(killed.code, 137, `the exec'd allocator is OOM-killed after update: ${show(killed)}`);
  assert.equal((await rt.delete(id, true)).code, 0);
});

test('events --stats reports the cgroup counters of a running container', async () => {
  const b = Bundle.create(scope).resources({ memory: { limit: 64 * MiB } }).args('sleep', '60');
  const id = scope.uid();
  assert.equal((await rt.runDetached(id, b.dir)).code, 0);
  const r = await rt.run(['events', '--stats', id]);
  assert.equal(r.code, 0, show(r));
  const ev = JSON.parse(r.stdout) as {
    type: string;
    id: string;
    data: { pids?: { current: number }; memory?: { usage?: { usage: number; limit: number } } };
  };
  assert.equal(ev.type, 'stats');
  assert.equal(ev.id, id);
  assert.ok((ev.data.pids?.current ?? 0) >= 1, `pids.current: ${JSON.stringify(ev.data.pids)}`);
  assert.ok((ev.data.memory?.usage?.usage ?? 0) > 0, 'memory usage');
  assert.equal(ev.data.memory?.usage?.limit, 64 * MiB);
  assert.equal((await rt.delete(id, true)).code, 0);
});
