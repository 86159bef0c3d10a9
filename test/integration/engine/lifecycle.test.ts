// Container lifecycle beyond run: create/start -a, restart policies, ps filters and formats,
// rename, pause/unpause, wait, update, kill -9 of a container or of its monitor, logs options.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { engineEnv, leftovers, type EngineEnv } from './_env.js';

const { ready } = engineEnv('lifecycle');
let e: EngineEnv;

test('setup', async () => {
  e = await ready;
});

async function waitFor(fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const inspect = async (ref: string) => JSON.parse(await e.ok(['inspect', ref]))[0];

test('create, start -a, wait, start again', async () => {
  const id = await e.ok(['create', '--name', 'two', e.image, 'sh', '-c', 'echo run; exit 4']);
  assert.equal((await inspect('two')).State.Status, 'created');
  assert.match(await e.ok(['ps', '-a', '--filter', 'status=created', '--format', '{{.Names}}']), /^two$/);
  const r = await e.berth(['start', '-a', 'two']);
  assert.equal(r.code, 4);
  assert.equal(r.stdout, 'run\n');
  assert.equal(await e.ok(['start', id.slice(0, 12)]), id.slice(0, 12));
  assert.equal((await e.berth(['wait', 'two'])).stdout, '4\n');
  assert.equal(await e.ok(['logs', 'two']), 'run\nrun');
  await e.ok(['rm', 'two']);
});

test('--restart on-failure:2 restarts twice, then stays exited; restart count in inspect', async () => {
  await e.ok(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', e.image, 'sh', '-c', 'echo try; exit 1']);
  await waitFor(async () => (await inspect('flaky')).State.Status === 'exited');
  const i = await inspect('flaky');
  assert.equal(i.RestartCount, 2);
  assert.equal(i.State.ExitCode, 1);
  assert.equal(await e.ok(['logs', 'flaky']), 'try\ntry\ntry');
  await e.ok(['rm', 'flaky']);
});

test('--restart always: stop ends it for good', async () => {
  await e.ok(['run', '-d', '--name', 'always', '--restart', 'always', e.image, 'sh', '-c', 'sleep 1; exit 0']);
  // between two runs the monitor backs off: ps says Restarting, then Up again
  await waitFor(async () => /^Restarting/.test(await e.ok(['ps', '--filter', 'name=always', '--format', '{{.Status}}'])));
  await waitFor(async () => /^Up/.test(await e.ok(['ps', '--filter', 'name=always', '--format', '{{.Status}}'])));
  await e.ok(['stop', '-t', '1', 'always']);
  assert.equal((await inspect('always')).State.Status, 'exited');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await inspect('always')).State.Status, 'exited');
  await e.ok(['rm', 'always']);
});

test('ps filters (status, name, id, label, ancestor, exited) and formats (table, json, -q, --no-trunc)', async () => {
  const a = await e.ok(['run', '-d', '--name', 'fa', '--label', 'team=x', e.image, 'sleep', '100']);
  await e.ok(['run', '--name', 'fb', '--label', 'team=y', e.image, 'sh', '-c', 'exit 2']).catch(() => {});
  await e.berth(['run', '--name', 'fb', e.image, 'true']); // name taken: nothing new
  const names = async (...f: string[]) => (await e.ok(['ps', '-a', ...f.flatMap((x) => ['--filter', x]), '--format', '{{.Names}}'])).split('\n').filter(Boolean).sort();
  assert.deepEqual(await names('status=running'), ['fa']);
  assert.deepEqual(await names('status=exited'), ['fb']);
  assert.deepEqual(await names('exited=2'), ['fb']);
  assert.deepEqual(await names('name=f'), ['fa', 'fb']);
  assert.deepEqual(await names('label=team=y'), ['fb']);
  assert.deepEqual(await names('label=team'), ['fa', 'fb']);
  assert.deepEqual(await names(`id=${a.slice(0, 6)}`), ['fa']);
  assert.deepEqual(await names(`ancestor=${e.image}`), ['fa', 'fb']);
  assert.deepEqual(await names('ancestor=other'), []);
  assert.deepEqual(await names('status=running', 'label=team=y'), []);
  const bad = await e.berth(['ps', '--filter', 'status=sleeping']);
  assert.equal(bad.code, 125);
  assert.equal(await e.ok(['ps', '-q', '--no-trunc']), a);
  const j = JSON.parse(await e.ok(['ps', '--format', '{{json .}}']));
  assert.equal(j.ID, a.slice(0, 12));
  assert.equal(j.Names, 'fa');
  assert.equal(j.State, 'running');
  assert.match(j.Status, /^Up /);
  const table = (await e.ok(['ps', '--format', 'table {{.ID}}\t{{.Names}}'])).split('\n');
  assert.match(table[0], /^CONTAINER ID\s+NAMES$/);
  assert.match(table[1], new RegExp(`^${a.slice(0, 12)}\\s+fa$`));
  assert.equal(await e.ok(['ps', '--format', '{{.Label "team"}}']), 'x');
  await e.ok(['rm', '-f', 'fa', 'fb']);
});

test('rename; names, id prefixes and full ids work everywhere', async () => {
  const id = await e.ok(['create', '--name', 'before', e.image, 'true']);
  await e.ok(['rename', 'before', 'after']);
  assert.equal((await inspect(id.slice(0, 5))).Name, '/after');
  assert.equal((await inspect(id)).Name, '/after');
  const gone = await e.berth(['inspect', 'before']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /No such object: before/);
  await e.ok(['create', '--name', 'other', e.image, 'true']);
  const clash = await e.berth(['rename', 'other', 'after']);
  assert.equal(clash.code, 125);
  await e.ok(['rm', 'after', 'other']);
});

test('pause/unpause: the processes freeze and ps says Paused', async () => {
  await e.ok(['run', '-d', '--name', 'pz', e.image, 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done']);
  await e.ok(['pause', 'pz']);
  const i = await inspect('pz');
  assert.equal(i.State.Status, 'paused');
  assert.equal(i.State.Paused, true);
  assert.match(await e.ok(['ps', '--format', '{{.Status}}']), /\(Paused\)$/);
  const root = `/proc/${i.State.Pid}/root/tmp/n`;
  const n1 = readFileSync(root, 'utf8');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(readFileSync(root, 'utf8'), n1, 'no progress while paused');
  await e.ok(['unpause', 'pz']);
  await waitFor(async () => readFileSync(root, 'utf8') !== n1);
  assert.equal((await inspect('pz')).State.Status, 'running');
  // stop works on a paused container too
  await e.ok(['pause', 'pz']);
  await e.ok(['stop', '-t', '1', 'pz']);
  await e.ok(['rm', 'pz']);
});

test('update changes the memory limit of a running container', async () => {
  await e.ok(['run', '-d', '--name', 'upd', '-m', '32m', e.image, 'sleep', '100']);
  await e.ok(['update', '-m', '64m', '--memory-swap', '128m', 'upd']);
  const pid = (await inspect('upd')).State.Pid;
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /:memory:/.test(l) || l.startsWith('0::'));
  const path = line!.split(':')[2];
  const v1 = `/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`;
  let limit: string;
  try {
    limit = readFileSync(v1, 'utf8').trim();
  } catch {
    limit = readFileSync(`/sys/fs/cgroup${path}/memory.max`, 'utf8').trim();
  }
  assert.equal(limit, String(64 * 1024 * 1024));
  assert.equal((await inspect('upd')).HostConfig.Memory, 64 * 1024 * 1024);
  await e.ok(['rm', '-f', 'upd']);
});

test('kill -9 of the container from outside: ps sees it exited (137), rm cleans everything', async () => {
  await e.ok(['run', '-d', '--name', 'victim', e.image, 'sleep', '1000']);
  const pid = (await inspect('victim')).State.Pid;
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => (await e.ok(['ps', '-a', '--filter', 'name=victim', '--format', '{{.State}}'])) === 'exited');
  assert.equal((await inspect('victim')).State.ExitCode, 137);
  await e.ok(['rm', 'victim']);
  assert.deepEqual(leftovers(e), []);
});

test('kill -9 of the monitor: the container is still seen running; rm -f stops and cleans it', async () => {
  await e.ok(['run', '-d', '--name', 'orphan', e.image, 'sleep', '1000']);
  const pid = (await inspect('orphan')).State.Pid;
  const mpid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  process.kill(mpid, 'SIGKILL');
  await waitFor(async () => {
    try {
      process.kill(mpid, 0);
      return false;
    } catch {
      return true;
    }
  });
  assert.equal((await inspect('orphan')).State.Status, 'running');
  await e.ok(['kill', 'orphan']);
  await waitFor(async () => (await inspect('orphan')).State.Status === 'exited');
  await e.ok(['rm', '-f', 'orphan']);
  assert.deepEqual(leftovers(e), []);
});

test('berth kill -s; restart', async () => {
  await e.ok(['run', '-d', '--name', 'kk', e.image, 'sh', '-c', 'trap "echo usr1" USR1; while true; do sleep 0.1; done']);
  await e.ok(['kill', '-s', 'USR1', 'kk']);
  await waitFor(async () => (await e.ok(['logs', 'kk'])).includes('usr1'));
  const started = (await inspect('kk')).State.StartedAt;
  await e.ok(['restart', '-t', '0', 'kk']);
  const i = await inspect('kk');
  assert.equal(i.State.Status, 'running');
  assert.notEqual(i.State.StartedAt, started);
  const r = await e.berth(['kill', '-s', 'NOSUCH', 'kk']);
  assert.equal(r.code, 1);
  await e.ok(['rm', '-f', 'kk']);
});

test('logs: --tail, -t, --since, stdout and stderr apart, --log-opt max-size rotation', async () => {
  await e.berth(['run', '--name', 'll', e.image, 'sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; done; echo err >&2']);
  const all = await e.berth(['logs', 'll']);
  assert.equal(all.stdout, 'out1\nout2\nout3\nout4\nout5\n');
  assert.equal(all.stderr, 'err\n');
  assert.equal(await e.ok(['logs', '--tail', '2', 'll']), 'out5');
  assert.match(await e.ok(['logs', '-t', '--tail', '2', 'll']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z out5$/);
  assert.equal(await e.ok(['logs', '--since', '2099-01-01T00:00:00Z', 'll']), '');
  await e.ok(['rm', 'll']);
  await e.berth(['run', '--name', 'rot', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', e.image, 'sh', '-c', 'i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); done']);
  const path = (await inspect('rot')).LogPath;
  assert.ok(readFileSync(path).length <= 1024);
  const lines = (await e.ok(['logs', 'rot'])).split('\n');
  assert.equal(lines[lines.length - 1], 'line199');
  assert.ok(lines.length < 200);
  await e.ok(['rm', 'rot']);
  assert.deepEqual(leftovers(e), []);
});
