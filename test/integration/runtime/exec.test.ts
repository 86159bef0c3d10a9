// `exec` into a running container, in flag form and with --process JSON.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { Bundle, RuntimeCli, Scope, describe as show, leakCheckFile, parseReport, type CheckerReport } from '../../harness/index.js';

const scope = new Scope('runtime-exec');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);
let id: string;
let init: CheckerReport;

before(async () => {
  const b = Bundle.create(scope).args('sleep', '600');
  id = scope.uid();
  const r = await rt.runDetached(id, b.dir);
  assert.equal(r.code, 0, show(r));
  const e = await rt.run(['exec', id, '/checker']);
  assert.equal(e.code, 0, show(e));
  init = parseReport(e.stdout);
});

test('exec runs a new process in all of the container namespaces', async () => {
  const r = await rt.run(['exec', id, '/checker']);
  assert.equal(r.code, 0, show(r));
  const rep = parseReport(r.stdout);
  assert.notEqual(rep.pid, 1, 'not the init process');
  assert.ok(rep.pid > 1);
  for (const ns of ['pid', 'net', 'ipc', 'uts', 'mnt']) assert.equal(rep.namespaces[ns], init.namespaces[ns], `${ns} namespace`);
  assert.equal(rep.hostname, 'runc');
  assert.deepEqual(rep.cgroup, init.cgroup, 'same cgroups as the init process');
});

test('exec flags set env, cwd and user; the exit code comes back', async () => {
  const r = await rt.run(['exec', '--env', 'FOO=bar', '--cwd', '/tmp', '--user', '1000:1001', id, '/checker']);
  assert.equal(r.code, 0, show(r));
  const rep = parseReport(r.stdout);
  assert.ok(rep.env.includes('FOO=bar'), rep.env.join(' '));
  assert.equal(rep.cwd, '/tmp');
  assert.equal(rep.uid, 1000);
  assert.equal(rep.gid, 1001);
  const code = await rt.run(['exec', id, 'sh', '-c', 'exit 7']);
  assert.equal(code.code, 7, show(code));
});

test('exec --process takes a process.json', async () => {
  const proc = {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: ['/checker', '/etc'],
    env: ['PATH=/bin', 'FROM_JSON=1'],
    cwd: '/etc',
    noNewPrivileges: true,
  };
  const file = join(scope.dir, 'process.json');
  writeFileSync(file, JSON.stringify(proc));
  const r = await rt.run(['exec', '--process', file, id]);
  assert.equal(r.code, 0, show(r));
  const rep = parseReport(r.stdout);
  assert.ok(rep.env.includes('FROM_JSON=1'));
  assert.equal(rep.cwd, '/etc');
  assert.equal(rep.paths[0].type, 'dir');
  assert.equal(rep.noNewPrivs, 1);
});

test('exec --detach with --pid-file runs in the background', async () => {
  const pidFile = join(scope.dir, 'exec.pid');
  const r = await rt.run(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '30'], { stdioFiles: rt.stdioFiles(`${id}-exec`) });
  assert.equal(r.code, 0, show(r));
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  assert.ok(pid > 0);
  const ps = await rt.ok(['ps', '--format', 'json', id]);
  assert.ok((JSON.parse(ps.stdout) as number[]).includes(pid), `ps lists the exec'd pid ${pid}: ${ps.stdout}`);
});

test('exec into a stopped or unknown container fails', async () => {
  const r = await rt.run(['exec', scope.uid('missing'), 'true']);
  assert.notEqual(r.code, 0);
  const b = Bundle.create(scope).args('true');
  const sid = scope.uid();
  assert.equal((await rt.create(sid, b.dir)).code, 0);
  assert.equal((await rt.start(sid)).code, 0);
  await rt.waitStatus(sid, 'stopped');
  const s = await rt.run(['exec', sid, 'true']);
  assert.notEqual(s.code, 0, 'exec into a stopped container');
  assert.equal((await rt.delete(sid)).code, 0);
});
