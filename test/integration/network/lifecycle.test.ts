// Networks under stress: concurrent creates never share an IP, a kill -9 of `berth run`
// mid-setup is cleaned up by the next command, a container that dies gives its network
// back, and 100 run/rm cycles leave nothing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BERTH, leftovers, netEnv, veths, type NetEnv } from './_env.js';

const { ready } = netEnv('lifecycle');
let e: NetEnv;

test('setup', async () => {
  e = await ready;
  await e.ok(['network', 'create', 'lc']);
  await e.mark('lc');
});

test('two berth processes creating containers at once never share an IP', async () => {
  const n = 8;
  const ids = await Promise.all(Array.from({ length: n }, () => e.ok(['run', '-d', '--network', 'lc', e.image, 'sleep', '60'])));
  const [insp] = JSON.parse(await e.ok(['network', 'inspect', 'lc'])) as { Containers: Record<string, { IPv4Address: string }> }[];
  const ips = ids.map((id) => insp.Containers[id]?.IPv4Address);
  assert.equal(ips.filter(Boolean).length, n, JSON.stringify(insp.Containers));
  assert.equal(new Set(ips).size, n, `duplicate addresses: ${ips.join(' ')}`);
  await e.ok(['rm', '-f', ...ids]);
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('a container that dies gives its network back (the monitor\'s exit command)', async () => {
  const id = await e.ok(['run', '-d', '--network', 'lc', '-p', '127.0.0.1::80', e.image, 'sh', '-c', 'sleep 0.3']);
  const deadline = Date.now() + 15_000;
  while (leftovers(e.root, e.state).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(leftovers(e.root, e.state), []);
  assert.equal(await e.ok(['port', id]), '');
  // and it gets a network again when started again
  await e.ok(['start', id]);
  await e.ok(['rm', '-f', id]);
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('kill -9 of berth run mid-way: the next berth command cleans up', async () => {
  let killedDuringSetup = 0;
  for (let i = 0; i < 6; i++) {
    const child = spawn(BERTH, ['run', '--network', 'lc', '-p', '127.0.0.1::80', e.image, 'sleep', '30'], { env: e.env, stdio: 'ignore' });
    // kill as soon as the namespace exists (CNI ADD running or just done), or after a while
    const deadline = Date.now() + 10_000;
    const nsDir = join(e.state, 'netns');
    while (Date.now() < deadline && !(existsSync(nsDir) && readdirSync(nsDir).length)) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, i * 15));
    if (existsSync(nsDir) && readdirSync(nsDir).length) killedDuringSetup++;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  assert.ok(killedDuringSetup > 0, 'no kill landed while the network was being set up');
  // the containers that did start still run: remove them all; the next commands reconcile the rest
  const ids = (await e.ok(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
  if (ids.length) await e.ok(['rm', '-f', ...ids]);
  await e.ok(['network', 'ls']);
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('100 run/rm cycles with networking leave nothing', async () => {
  const before = new Set(veths().keys());
  for (let i = 0; i < 100; i++) {
    const r = await e.berth(['run', '--rm', '--network', 'lc', ...(i % 10 === 0 ? ['-p', '127.0.0.1::80'] : []), e.image, 'true']);
    assert.equal(r.code, 0, `cycle ${i}: ${r.stderr}`);
  }
  assert.deepEqual(leftovers(e.root, e.state), []);
  // the network's pooled sandboxes keep their veths until it goes: then every veth must go
  await e.ok(['network', 'rm', 'lc']);
  assert.deepEqual(leftovers(e.root, e.state, { pool: true }), []);
  // the kernel frees a namespace's veths asynchronously (cleanup_net): give it a moment
  let added: [string, string][] = [];
  for (let i = 0; i < 50; i++) {
    added = [...veths()].filter(([name, master]) => !before.has(name) && (master === '' || e.scope.matches.includes(master)));
    if (!added.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(added, []);
});
