// berth run / ps / logs / stop / rm end to end: exit codes, detached containers, --rm leaving nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BERTH, engineEnv, leftovers, type EngineEnv } from './_env.js';

const { ready } = engineEnv('basic');
let e: EngineEnv;

test('setup', async () => {
  e = await ready;
});

test('--version and -v print the version that `version` reports', async () => {
  const v = JSON.parse(await e.ok(['version', '--format', 'json'])) as { Version: string };
  assert.match(v.Version, /^\d+\.\d+\.\d+/);
  assert.equal(await e.ok(['--version']), `berth version ${v.Version}`);
  assert.equal(await e.ok(['-v']), `berth version ${v.Version}`);
});

test('run --rm prints the output and exits 0, leaving nothing', async () => {
  const r = await e.berth(['run', '--rm', e.image, 'echo', 'hi']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  assert.deepEqual(leftovers(e), []);
  assert.equal(await e.ok(['ps', '-aq']), '');
});

test('exit codes: the container\'s, 125 unknown image, 127 command not found, 126 not executable', async () => {
  let r = await e.berth(['run', '--rm', e.image, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  r = await e.berth(['run', '--rm', '--pull', 'never', `${e.registry.host}/nosuch:latest`, 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /No such image/);
  r = await e.berth(['run', '--rm', `${e.registry.host}/nosuch:latest`, 'true']);
  assert.equal(r.code, 125, r.stderr);
  r = await e.berth(['run', '--rm', e.image, 'nosuchcmd']);
  assert.equal(r.code, 127, r.stderr);
  assert.match(r.stderr, /nosuchcmd.*not found/);
  r = await e.berth(['run', '--rm', e.image, '/etc/passwd']);
  assert.equal(r.code, 126, r.stderr);
  // the init (pid 1 of its namespace) ignores signals it has no handler for, except from outside
  r = await e.berth(['run', '--rm', e.image, 'sh', '-c', 'sleep 100 & kill -9 $!; wait $!']);
  assert.equal(r.code, 137);
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e), []);
});

test('run -d, ps, logs -f, stop (TERM trapped), inspect, rm', async () => {
  const id = await e.ok(['run', '-d', '--name', 'web', e.image, 'sh', '-c', 'trap "echo bye; exit 0" TERM; echo started; while true; do sleep 0.1; done']);
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(await e.ok(['ps', '--format', '{{.Names}} {{.State}}']), 'web running');
  assert.equal(await e.ok(['ps', '-q']), id.slice(0, 12));
  // logs -f ends when the container stops
  const follow = e.berth(['logs', '-f', 'web']);
  await waitFor(async () => (await e.ok(['logs', 'web'])).includes('started'));
  const t0 = Date.now();
  assert.equal(await e.ok(['stop', id.slice(0, 8)]), id.slice(0, 8));
  assert.ok(Date.now() - t0 < 5000, 'the trapped TERM ends it well before the timeout');
  const f = await follow;
  assert.equal(f.code, 0);
  assert.equal(f.stdout, 'started\nbye\n');
  const st = JSON.parse(await e.ok(['inspect', 'web']))[0];
  assert.equal(st.Id, id);
  assert.equal(st.Name, '/web');
  assert.equal(st.State.Status, 'exited');
  assert.equal(st.State.Running, false);
  assert.equal(st.State.ExitCode, 0);
  assert.equal(await e.ok(['ps']), 'CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS   NAMES');
  assert.match(await e.ok(['ps', '-a', '--format', '{{.Status}}']), /^Exited \(0\) /);
  assert.equal(await e.ok(['rm', 'web']), 'web');
  assert.deepEqual(leftovers(e), []);
});

test('stop sends SIGKILL after -t when the signal is ignored', async () => {
  await e.ok(['run', '-d', '--name', 'stubborn', e.image, 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']);
  const t0 = Date.now();
  await e.ok(['stop', '-t', '1', 'stubborn']);
  const ms = Date.now() - t0;
  assert.ok(ms >= 900, `stopped after ${ms} ms`);
  assert.equal(await e.ok(['inspect', '-f', '{{.State.ExitCode}}', 'stubborn']), '137');
  await e.ok(['rm', 'stubborn']);
});

test('rm of a running container needs -f; rm -f kills it', async () => {
  await e.ok(['run', '-d', '--name', 'busy', e.image, 'sleep', '1000']);
  const r = await e.berth(['rm', 'busy']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /stop the container before removing or force remove/);
  await e.ok(['rm', '-f', 'busy']);
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e), []);
});

test('name in use: a clear error and nothing left', async () => {
  await e.ok(['create', '--name', 'dup', e.image, 'true']);
  const r = await e.berth(['run', '--name', 'dup', e.image, 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /"\/dup" is already in use/);
  assert.equal((await e.ok(['ps', '-aq'])).split('\n').length, 1);
  await e.ok(['rm', 'dup']);
  assert.deepEqual(leftovers(e), []);
});

async function waitFor(fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('run -d --rm: the container removes itself when it exits (the monitor\'s exit command)', async () => {
  const id = await e.ok(['run', '-d', '--rm', e.image, 'sh', '-c', 'sleep 0.5']);
  assert.match(id, /^[0-9a-f]{64}$/);
  await waitFor(async () => leftovers(e).length === 0, 15_000);
  assert.equal((await e.berth(['inspect', id])).code, 1);
});

test('--init: pid 1 is berth-init, the command gets SIGTERM from stop and zombies are reaped', async () => {
  assert.equal(await e.ok(['run', '--rm', '--init', e.image, 'sh', '-c', 'cat /proc/1/comm; echo $$']), 'berth-init\n2');
  await e.ok(['run', '-d', '--init', '--name', 'initstop', e.image, 'sleep', '1000']);
  const t0 = Date.now();
  await e.ok(['stop', 'initstop']);
  assert.ok(Date.now() - t0 < 5000, 'sleep got the SIGTERM through the init');
  assert.equal(await e.ok(['inspect', '-f', '{{.State.ExitCode}}', 'initstop']), '143');
  await e.ok(['rm', 'initstop']);
  assert.deepEqual(leftovers(e), []);
});

test('signals to berth run reach the container (sig-proxy); its exit code comes back', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(BERTH, ['run', '--rm', '--name', 'sigs', e.image, 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done'], {
    env: e.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await waitFor(async () => out.includes('ready'));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 7);
  assert.equal(out, 'ready\ngot-term\n');
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e), []);
});

test('--runtime runc and crun (any runc-compatible binary) run the same container', async (t) => {
  const { execFileSync } = await import('node:child_process');
  for (const rt of ['runc', 'crun']) {
    try {
      execFileSync(rt, ['--version'], { stdio: 'ignore' });
    } catch {
      t.diagnostic(`${rt} is not installed: skipped`);
      continue;
    }
    const r = await e.berth(['run', '--rm', '--runtime', rt, e.image, 'sh', '-c', 'echo via-$0; exit 5', rt]);
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.stdout, `via-${rt}\n`);
    const nf = await e.berth(['run', '--rm', '--runtime', rt, e.image, 'nosuchcmd']);
    assert.equal(nf.code, 127, nf.stderr);
    await e.ok(['run', '-d', '--name', `d-${rt}`, '--runtime', rt, e.image, 'sleep', '100']);
    await e.ok(['stop', '-t', '1', `d-${rt}`]);
    await e.ok(['rm', `d-${rt}`]);
  }
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e), []);
});

test('run pulls a missing image (--pull missing), and --pull always fetches it again', async () => {
  await e.ok(['rmi', e.image]);
  const r = await e.berth(['run', '--rm', e.image, 'echo', 'pulled']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'pulled\n');
  assert.match(r.stderr, /Unable to find image '.*busybox:latest' locally/);
  const again = await e.berth(['run', '--rm', '--pull', 'always', e.image, 'true']);
  assert.equal(again.code, 0, again.stderr);
  const never = await e.berth(['run', '--rm', '--pull', 'sometimes', e.image, 'true']);
  assert.equal(never.code, 125);
  assert.deepEqual(leftovers(e), []);
});
