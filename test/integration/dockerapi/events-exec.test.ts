import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exec } from '../../harness/index.js';
import { DOCKER, dockerEnv } from './_daemon.js';

const { ready } = dockerEnv('events');

interface Msg {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

test('docker events sees what the berth CLI does (live and replayed), and berth events prints it', async (t) => {
  const e = await ready;
  const fg = e.scope.uid('evfg');
  const rm = e.scope.uid('evrm');
  const since = (Date.now() / 1000 - 0.5).toFixed(3);
  // follows (no --until): what arrives while it runs
  const follow = spawn(DOCKER, ['events', '--since', since, '--filter', 'type=container', '--format', '{{json .}}'], { env: e.dockerEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => follow.kill());
  let out = '';
  follow.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const msgs = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Msg);

  // an attached run (the CLI records its exit), then rm; a detached --rm one (its monitor's
  // exit command records the exit and removes it)
  const r = await e.berth(['run', '--network', 'none', '--name', fg, e.image, 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3, r.stderr);
  await e.ok(['rm', fg]);
  await e.ok(['run', '-d', '--rm', '--network', 'none', '--name', rm, e.image, 'sh', '-c', 'exit 4']);
  // detached, no --rm: only the daemon's sweep while a client follows notices its exit
  const bg = e.scope.uid('evbg');
  await e.ok(['run', '-d', '--network', 'none', '--name', bg, e.image, 'sh', '-c', 'exit 5']);
  const deadline = Date.now() + 20_000;
  const has = (name: string, action: string) => msgs().some((m) => m.Action === action && m.Actor.Attributes.name === name);
  while (!(has(rm, 'destroy') && has(bg, 'die')) && Date.now() < deadline) await sleep(100);
  const of = (name: string) => msgs().filter((m) => m.Actor.Attributes.name === name);
  assert.deepEqual(of(fg).map((m) => m.Action), ['create', 'start', 'die', 'destroy'], out);
  assert.equal(of(fg)[2].Actor.Attributes.exitCode, '3');
  assert.equal(of(fg)[0].Actor.Attributes.image, e.image);
  assert.deepEqual(of(rm).map((m) => m.Action), ['create', 'start', 'die', 'destroy'], out);
  assert.equal(of(rm)[2].Actor.Attributes.exitCode, '4');
  assert.deepEqual(of(bg).map((m) => [m.Action, m.Actor.Attributes.exitCode]), [['create', undefined], ['start', undefined], ['die', '5']]);

  // replay between since and until ends by itself, in the docker CLI and in berth's
  const until = (Date.now() / 1000 + 0.2).toFixed(3);
  await sleep(300);
  const replay = await e.dockerOk(['events', '--since', since, '--until', until, '--filter', `container=${fg}`, '--format', '{{.Action}} {{json .Actor.Attributes.exitCode}}']);
  assert.deepEqual(replay.split('\n'), ['create null', 'start null', 'die "3"', 'destroy null']);
  const id = of(fg)[0].Actor.ID;
  const mine = (await e.ok(['events', '--since', since, '--until', until, '--filter', `container=${fg}`])).split('\n');
  assert.equal(mine.length, 4, mine.join('\n'));
  assert.match(mine[2], new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container die ${id} \\(.*exitCode=3.*name=${fg}.*\\)$`));
  // --until alone: nothing before it, and it ends
  assert.equal(await e.ok(['events', '--until', until, '--filter', `container=${fg}`]), '');
  await e.ok(['rm', bg]);
});

test('docker events: image, volume and network events of the berth CLI', async () => {
  const e = await ready;
  const since = (Date.now() / 1000 - 0.5).toFixed(3);
  const vol = e.scope.uid('evvol');
  const net = e.scope.uid('evnet');
  const tag = e.image.replace(/busybox:latest$/, `evtag:${process.pid}`);
  await e.ok(['volume', 'create', vol]);
  await e.ok(['volume', 'rm', vol]);
  await e.ok(['network', 'create', net]);
  await e.ok(['network', 'rm', net]);
  await e.ok(['tag', e.image, tag]);
  await e.ok(['rmi', tag]);
  const until = (Date.now() / 1000 + 0.2).toFixed(3);
  await sleep(300);
  const out = await e.dockerOk(['events', '--since', since, '--until', until, '--filter', 'type=volume', '--filter', 'type=network', '--filter', 'type=image', '--format', '{{.Type}} {{.Action}} {{json .Actor.Attributes.name}} {{.Actor.ID}}']);
  const lines = out.split('\n').map((l) => l.split(' ').slice(0, 3).join(' '));
  assert.deepEqual(lines, ['volume create null', 'volume destroy null', `network create "${net}"`, `network destroy "${net}"`, `image tag "${tag}"`, `image untag "${tag}"`], out);
  assert.ok(out.split('\n')[0].endsWith(` ${vol}`), out);
});

test('exec instances survive a daemon restart and go with their container', async () => {
  const e = await ready;
  const name = e.scope.uid('exr');
  await e.ok(['run', '-d', '--network', 'none', '--name', name, e.image, 'sleep', '60']);
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await exec('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', e.daemon.socket, '-X', method, '-H', 'Content-Type: application/json', ...(body ? ['-d', JSON.stringify(body)] : []), `http://x/v1.43${path}`], { timeoutMs: 10_000 });
    const i = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) ? (JSON.parse(r.stdout.slice(0, i)) as Record<string, unknown>) : {} };
  };
  const created = await api('POST', `/containers/${name}/exec`, { Cmd: ['sh', '-c', 'exit 7'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.Id as string;
  assert.equal((await api('POST', `/exec/${id}/start`, { Detach: true })).status, 200);
  const deadline = Date.now() + 10_000;
  while ((await api('GET', `/exec/${id}/json`)).body.Running !== false && Date.now() < deadline) await sleep(50);
  // one still running when the daemon dies: the restarted daemon reads its exit from its monitor
  const running = (await api('POST', `/containers/${name}/exec`, { Cmd: ['sh', '-c', 'sleep 1; exit 3'] })).body.Id as string;
  assert.equal((await api('POST', `/exec/${running}/start`, { Detach: true })).status, 200);
  await e.daemon.stop('SIGKILL');
  await e.startDaemon();
  let r2 = await api('GET', `/exec/${running}/json`);
  while (r2.body.Running !== false && Date.now() < deadline + 10_000) r2 = (await sleep(100), await api('GET', `/exec/${running}/json`));
  assert.equal(r2.body.ExitCode, 3, JSON.stringify(r2.body));
  const after = await api('GET', `/exec/${id}/json`);
  assert.equal(after.status, 200);
  assert.equal(after.body.ExitCode, 7);
  assert.equal(after.body.Running, false);
  assert.equal(after.body.ContainerID, (await e.ok(['inspect', '--format', '{{.Id}}', name])));
  await e.ok(['rm', '-f', name]);
  assert.equal((await api('GET', `/exec/${id}/json`)).status, 404);
});
