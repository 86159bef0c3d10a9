// berth diff and commit: the writable layer with whiteouts and opaque dirs becomes a layer of a
// new image that runs.
import assert from 'node:assert/strict';
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
