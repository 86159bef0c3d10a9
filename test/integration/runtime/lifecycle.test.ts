// The OCI lifecycle through the runc command line: create, state, start, kill, delete, run,
// list, ps, pause/resume, --pid-file. Runs against BERTH_TEST_RUNTIME (default
// bin/berth-runtime); validated against runc 1.1.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Bundle, RuntimeCli, Scope, describe as show, leakCheckFile, parseReport } from '../../harness/index.js';

const scope = new Scope('runtime-lifecycle');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

test('create leaves the container created with a pid, and the process has not run yet', async () => {
  const b = Bundle.create(scope).args('/checker').update((s) => void (s.annotations = { 'org.berth.test': 'yes' }));
  const id = scope.uid();
  const c = await rt.create(id, b.dir);
  assert.equal(c.code, 0, show(c));
  const st = await rt.state(id);
  assert.equal(st.status, 'created');
  assert.equal(st.id, id);
  assert.equal(st.bundle, b.dir);
  assert.match(st.ociVersion, /^1\./);
  assert.equal(st.annotations?.['org.berth.test'], 'yes', 'state carries the annotations of config.json');
  assert.ok(st.pid && st.pid > 0, `state pid: ${st.pid}`);
  assert.ok(alive(st.pid!), 'the created pid exists');
  await sleep(100);
  assert.equal(rt.output(id), '', 'the user process printed nothing before start');
  const s = await rt.start(id);
  assert.equal(s.code, 0, show(s));
  const stopped = await rt.waitStatus(id, 'stopped');
  assert.equal(stopped.status, 'stopped');
  const rep = parseReport(rt.output(id));
  assert.equal(rep.pid, 1);
  const d = await rt.delete(id);
  assert.equal(d.code, 0, show(d));
  const gone = await rt.run(['state', id]);
  assert.notEqual(gone.code, 0, 'state of a deleted container fails');
});

test('start of a long-running process: running, then kill stops it, delete removes it', async () => {
  const b = Bundle.create(scope).args('sleep', '60');
  const id = scope.uid();
  assert.equal((await rt.create(id, b.dir)).code, 0);
  const { pid } = await rt.state(id);
  assert.equal((await rt.start(id)).code, 0);
  assert.equal((await rt.state(id)).status, 'running');
  assert.equal((await rt.state(id)).pid, pid, 'the pid is the same after start');
  const del = await rt.delete(id);
  assert.notEqual(del.code, 0, 'delete without --force refuses a running container');
  const k = await rt.kill(id, 'KILL');
  assert.equal(k.code, 0, show(k));
  await rt.waitStatus(id, 'stopped');
  assert.equal((await rt.delete(id)).code, 0);
  assert.ok(!alive(pid!), 'the process is gone');
});

test('kill sends the named signal (TERM by default) to the init process', async () => {
  const b = Bundle.create(scope).args('sh', '-c', 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.05; done');
  const id = scope.uid();
  assert.equal((await rt.runDetached(id, b.dir)).code, 0);
  for (let i = 0; i < 500 && !rt.output(id).includes('ready'); i++) await sleep(20);
  assert.match(rt.output(id), /ready/, 'the trap is set before the signal is sent');
  const k = await rt.run(['kill', id]);
  assert.equal(k.code, 0, show(k));
  await rt.waitStatus(id, 'stopped');
  assert.match(rt.output(id), /got-term/);
  assert.equal((await rt.delete(id)).code, 0);
});

test('delete --force removes a running container and kills its process', async () => {
  const b = Bundle.create(scope).args('sleep', '60');
  const id = scope.uid();
  const r = await rt.runDetached(id, b.dir);
  assert.equal(r.code, 0, show(r));
  const { pid, status } = await rt.state(id);
  assert.equal(status, 'running');
  const d = await rt.delete(id, true);
  assert.equal(d.code, 0, show(d));
  for (let i = 0; i < 500 && alive(pid!); i++) await sleep(20);
  assert.ok(!alive(pid!), 'the process was killed');
  assert.notEqual((await rt.run(['state', id])).code, 0);
});

test('run in the foreground returns the exit code of the process', async () => {
  const b = Bundle.create(scope).args('sh', '-c', 'echo out; echo err >&2; exit 42');
  const id = scope.uid();
  const r = await rt.runForeground(id, b.dir);
  assert.equal(r.code, 42, show(r));
  assert.equal(r.stdout, 'out\n');
  assert.match(r.stderr, /err/);
  // runc leaves a stopped foreground container deleted.
  assert.notEqual((await rt.run(['state', id])).code, 0, 'run deleted the container after it exited');
});

test('run --detach returns at once with the container running', async () => {
  const b = Bundle.create(scope).args('sh', '-c', 'echo started; sleep 60');
  const id = scope.uid();
  const r = await rt.runDetached(id, b.dir);
  assert.equal(r.code, 0, show(r));
  assert.equal((await rt.state(id)).status, 'running');
  for (let i = 0; i < 500 && !rt.output(id).includes('started'); i++) await sleep(20);
  assert.match(rt.output(id), /started/);
  assert.equal((await rt.delete(id, true)).code, 0);
});

test('--pid-file holds the container pid (create and run --detach)', async () => {
  const b = Bundle.create(scope).args('sleep', '60');
  const id = scope.uid();
  const pidFile = join(scope.dir, `${id}.pid`);
  assert.equal((await rt.create(id, b.dir, ['--pid-file', pidFile])).code, 0);
  const { pid } = await rt.state(id);
  assert.equal(readFileSync(pidFile, 'utf8').trim(), String(pid));
  assert.equal((await rt.delete(id, true)).code, 0);
  const id2 = scope.uid();
  const pidFile2 = join(scope.dir, `${id2}.pid`);
  assert.equal((await rt.runDetached(id2, b.dir, ['--pid-file', pidFile2])).code, 0);
  assert.equal(readFileSync(pidFile2, 'utf8').trim(), String((await rt.state(id2)).pid));
  assert.equal((await rt.delete(id2, true)).code, 0);
});

test('list shows the containers of the root with their status; ps lists the pids', async () => {
  const b = Bundle.create(scope).args('sleep', '60');
  const a = scope.uid();
  const c = scope.uid();
  assert.equal((await rt.create(a, b.dir)).code, 0);
  assert.equal((await rt.runDetached(c, b.dir)).code, 0);
  const list = await rt.list();
  const byId = new Map(list.map((x) => [x.id, x]));
  assert.equal(byId.get(a)?.status, 'created');
  assert.equal(byId.get(c)?.status, 'running');
  assert.equal(byId.get(c)?.pid, (await rt.state(c)).pid);
  const quiet = await rt.ok(['list', '--quiet']);
  assert.deepEqual(quiet.stdout.split('\n').filter(Boolean).sort(), [a, c].sort());
  const ps = await rt.ok(['ps', '--format', 'json', c]);
  assert.ok((JSON.parse(ps.stdout) as number[]).includes((await rt.state(c)).pid!), ps.stdout);
  assert.equal((await rt.delete(a, true)).code, 0);
  assert.equal((await rt.delete(c, true)).code, 0);
  assert.deepEqual(await rt.list(), []);
});

test('pause freezes every process of the container and resume thaws it', async () => {
  const b = Bundle.create(scope);
  const out = join(scope.dir, 'pause-out');
  mkdirSync(out);
  b.mount({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] }).args(
    'sh',
    '-c',
    // mv: a reader never sees the file truncated and empty.
    'i=0; while :; do i=$((i+1)); echo $i > /out/n.tmp; mv /out/n.tmp /out/n; usleep 10000; done',
  );
  const id = scope.uid();
  assert.equal((await rt.runDetached(id, b.dir)).code, 0);
  const counter = (): number => Number(readFileSync(join(out, 'n'), 'utf8').trim() || 0);
  for (let i = 0; i < 500 && !existsSync(join(out, 'n')); i++) await sleep(20);
  assert.ok(existsSync(join(out, 'n')), 'the counter started');
  const p = await rt.run(['pause', id]);
  assert.equal(p.code, 0, show(p));
  assert.equal((await rt.state(id)).status, 'paused');
  await sleep(50);
  const n1 = counter();
  await sleep(300);
  assert.equal(counter(), n1, 'the counter stands still while paused');
  const r = await rt.run(['resume', id]);
  assert.equal(r.code, 0, show(r));
  assert.equal((await rt.state(id)).status, 'running');
  for (let i = 0; i < 500 && counter() <= n1; i++) await sleep(20);
  assert.ok(counter() > n1, 'the counter moves again after resume');
  assert.equal((await rt.delete(id, true)).code, 0);
});

test('create refuses an id that exists; state, start and kill of an unknown id fail', async () => {
  const b = Bundle.create(scope).args('sleep', '60');
  const id = scope.uid();
  assert.equal((await rt.create(id, b.dir)).code, 0);
  const again = await rt.create(id, b.dir);
  assert.notEqual(again.code, 0, 'second create with the same id');
  assert.equal((await rt.state(id)).status, 'created', 'the first container is untouched');
  assert.equal((await rt.delete(id, true)).code, 0);
  const unknown = scope.uid('missing');
  for (const args of [['state', unknown], ['start', unknown], ['kill', unknown, 'KILL'], ['delete', unknown]]) {
    const r = await rt.run(args);
    assert.notEqual(r.code, 0, `${args[0]} of an unknown id`);
    assert.ok(r.stderr.length > 0, `${args[0]} says why on stderr`);
  }
});

test('kill --all signals every process of the container, exec\'d ones too', async () => {
  const b = Bundle.create(scope).args('sleep', '60');
  const id = scope.uid();
  assert.equal((await rt.runDetached(id, b.dir)).code, 0);
  const pidFile = join(scope.dir, `${id}-exec.pid`);
  const e = await rt.run(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '60'], { stdioFiles: rt.stdioFiles(`${id}-exec`) });
  assert.equal(e.code, 0, show(e));
  const execPid = Number(readFileSync(pidFile, 'utf8').trim());
  const { pid } = await rt.state(id);
  const k = await rt.run(['kill', '--all', id, 'KILL']);
  assert.equal(k.code, 0, show(k));
  for (let i = 0; i < 500 && (alive(execPid) || alive(pid!)); i++) await sleep(20);
  assert.ok(!alive(execPid), 'the exec\'d process is gone');
  assert.ok(!alive(pid!), 'the init process is gone');
  await rt.waitStatus(id, 'stopped');
  assert.equal((await rt.delete(id)).code, 0);
});

test('kill of a stopped container fails; delete of a stopped one needs no --force', async () => {
  const b = Bundle.create(scope).args('true');
  const id = scope.uid();
  assert.equal((await rt.create(id, b.dir)).code, 0);
  assert.equal((await rt.start(id)).code, 0);
  await rt.waitStatus(id, 'stopped');
  const k = await rt.kill(id, 'KILL');
  assert.notEqual(k.code, 0, 'nothing to signal');
  assert.equal((await rt.state(id)).status, 'stopped');
  assert.equal((await rt.delete(id)).code, 0);
});

test('a process killed from outside the runtime shows as stopped and deletes cleanly', async () => {
  const b = Bundle.create(scope).args('sleep', '60');
  const id = scope.uid();
  assert.equal((await rt.runDetached(id, b.dir)).code, 0);
  const { pid } = await rt.state(id);
  process.kill(pid!, 'SIGKILL');
  await rt.waitStatus(id, 'stopped');
  assert.equal((await rt.delete(id)).code, 0);
  assert.notEqual((await rt.run(['state', id])).code, 0);
});
