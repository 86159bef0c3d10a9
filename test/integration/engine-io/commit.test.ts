// berth diff and commit: the writable layer with whiteouts and opaque dirs becomes a layer of a
// new image that runs.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { engineEnv, leftovers, type EngineEnv } from '../engine/_env.js';

const { ready } = engineEnv('io-commit');
let e: EngineEnv;

test('setup', async () => {
  e = await ready;
});

test('diff lists A/C/D; commit stores a new image that runs with the changes', async () => {
  await e.ok(['run', '--name', 'one', e.image, 'sh', '-c', 'mkdir /data && echo a > /data/a && echo b > /data/b']);
  const img1 = await e.ok(['commit', '-m', 'first', 'one', 'local/step:1']);
  assert.match(img1, /^sha256:[0-9a-f]{64}$/);
  await e.ok(['run', '--name', 'two', 'local/step:1', 'sh', '-c', 'rm -rf /data && mkdir /data && echo only > /data/only && echo hi > /hello && rm /checker']);
  const diff = (await e.ok(['diff', 'two'])).split('\n');
  assert.ok(diff.includes('A /hello'), diff.join('\n'));
  assert.ok(diff.includes('D /checker'), diff.join('\n'));
  assert.ok(diff.includes('C /data'), diff.join('\n'));
  assert.ok(diff.includes('A /data/only'), diff.join('\n'));
  await e.ok(['commit', 'two', 'local/step:2']);
  const r = await e.ok(['run', '--rm', 'local/step:2', 'sh', '-c', 'ls /data; cat /hello; test -e /checker && echo checker-still-there; true']);
  assert.equal(r, 'only\nhi');
  const hist = JSON.parse(await e.ok(['image', 'inspect', 'local/step:2']))[0];
  assert.equal(hist.RootFS.Layers.length, 3);
  await e.ok(['rm', 'one', 'two']);
  await e.ok(['rmi', 'local/step:2', 'local/step:1']);
  assert.deepEqual(leftovers(e), []);
});

test('health check: starting, healthy, then unhealthy in ps and inspect; --no-healthcheck', async () => {
  await e.ok(['run', '-d', '--name', 'doc', '--health-cmd', 'test ! -e /tmp/bad && echo fine', '--health-interval', '300ms', '--health-retries', '2', '--health-timeout', '5s', e.image, 'sleep', '1000']);
  const health = async () => JSON.parse(await e.ok(['inspect', 'doc']))[0].State.Health as { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string }[] };
  const until = async (status: string) => {
    for (const t0 = Date.now(); Date.now() - t0 < 20_000; await new Promise((r) => setTimeout(r, 100))) {
      if ((await health()).Status === status) return;
    }
    assert.fail(`health never became ${status}: ${JSON.stringify(await health())}`);
  };
  await until('healthy');
  assert.match(await e.ok(['ps', '--format', '{{.Status}}', '-f', 'name=doc']), /^Up .* \(healthy\)$/);
  assert.equal((await health()).Log.at(-1)!.Output, 'fine\n');
  await e.ok(['exec', 'doc', 'touch', '/tmp/bad']);
  await until('unhealthy');
  const h = await health();
  assert.ok(h.FailingStreak >= 2);
  assert.equal(h.Log.at(-1)!.ExitCode, 1);
  assert.match(await e.ok(['ps', '--format', '{{.Status}}', '-f', 'name=doc']), /\(unhealthy\)$/);
  await e.ok(['rm', '-f', 'doc']);
  await e.ok(['run', '-d', '--name', 'nohc', '--no-healthcheck', e.image, 'sleep', '1000']);
  assert.equal(JSON.parse(await e.ok(['inspect', 'nohc']))[0].State.Health, undefined);
  await e.ok(['rm', '-f', 'nohc']);
  assert.deepEqual(leftovers(e), []);
});

test('system df, info and prune: stopped containers, crash leftovers, volumes', async () => {
  await e.ok(['run', '--name', 'stopped', '-v', '/anon', e.image, 'sh', '-c', 'dd if=/dev/zero of=/blob bs=1k count=300 2>/dev/null']);
  await e.ok(['run', '-d', '--name', 'up', e.image, 'sleep', '1000']);
  const df = (await e.ok(['system', 'df'])).split('\n');
  assert.match(df[0], /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  assert.match(df[1], /^Images\s+1\s+1\s+/);
  const containers = df[2].split(/\s{2,}/);
  assert.deepEqual(containers.slice(0, 3), ['Containers', '2', '1']);
  assert.ok(/kB|MB/.test(containers[4]), `the stopped container's 300 KiB are reclaimable: ${df[2]}`);
  assert.match(df[3], /^Local Volumes\s+1\s+1\s+/);
  const info = JSON.parse(await e.ok(['system', 'info', '--format', '{{json .}}']));
  assert.equal(info.Containers, 2);
  assert.equal(info.ContainersRunning, 1);
  assert.equal(info.Images, 1);
  // what a crash leaves: a bundle dir and a log dir with no record
  const orphan = 'f'.repeat(64);
  mkdirSync(join(e.state, 'c', orphan.slice(0, 20)), { recursive: true });
  mkdirSync(join(e.root, 'containers', orphan), { recursive: true });
  writeFileSync(join(e.root, 'containers', orphan, `${orphan}-json.log`), '');
  const out = await e.ok(['system', 'prune', '-f', '--volumes']);
  assert.match(out, /Deleted Containers:\n[0-9a-f]{64}\n/);
  assert.match(out, /Deleted Volumes:\n[0-9a-f]{64}\n/);
  assert.match(out, /Total reclaimed space: /);
  assert.equal(existsSync(join(e.state, 'c', orphan.slice(0, 20))), false);
  assert.equal(existsSync(join(e.root, 'containers', orphan)), false);
  assert.equal(await e.ok(['ps', '-a', '--format', '{{.Names}}']), 'up');
  assert.match(await e.ok(['images', '-q']), /^[0-9a-f]{12}$/, 'the image in use stays');
  await e.ok(['rm', '-f', 'up']);
  assert.deepEqual(leftovers(e), []);
});
