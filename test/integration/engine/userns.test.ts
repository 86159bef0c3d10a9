// berth run --userns: the container's root is an unprivileged host range (auto from the pool,
// one per container, released on rm); the rootfs is shifted into the range (chown fallback).
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { engineEnv, leftovers, type EngineEnv } from './_env.js';

const { ready } = engineEnv('userns');
let e: EngineEnv;
const POOL = 165536;

test('setup', async () => {
  e = await ready;
});

function hostUid(pid: number): number[] {
  const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `Uid line of ${pid}`);
  return m.slice(1).map(Number);
}

async function started(ref: string): Promise<{ id: string; pid: number }> {
  for (let i = 0; i < 100; i++) {
    const st = JSON.parse(await e.ok(['inspect', ref]))[0];
    if (st.State.Pid && (await e.berth(['exec', ref, 'test', '-e', '/ready'])).code === 0) return { id: st.Id, pid: st.State.Pid };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${ref} did not start`);
}

test('--userns=auto: root inside, a pool range outside, files shifted; two containers, two ranges; rm releases', async () => {
  const script = 'touch /made; mkdir -p /tmp/d && echo x > /tmp/d/f; touch /ready; sleep 1000';
  await e.ok(['run', '-d', '--name', 'u1', '--userns=auto', e.image, 'sh', '-c', script]);
  await e.ok(['run', '-d', '--name', 'u2', '--userns=auto', e.image, 'sh', '-c', script]);
  const c1 = await started('u1');
  const c2 = await started('u2');

  assert.equal(await e.ok(['exec', 'u1', 'id', '-u']), '0');
  assert.equal(await e.ok(['exec', 'u1', 'id', '-g']), '0');
  const map1 = (await e.ok(['exec', 'u1', 'cat', '/proc/self/uid_map'])).split(/\s+/).map(Number);
  const map2 = (await e.ok(['exec', 'u2', 'cat', '/proc/self/uid_map'])).split(/\s+/).map(Number);
  assert.deepEqual(map1, [0, POOL, 65536]);
  assert.deepEqual(map2, [0, POOL + 65536, 65536], 'the second container gets the next range');
  assert.deepEqual((await e.ok(['exec', 'u1', 'cat', '/proc/self/gid_map'])).split(/\s+/).map(Number), [0, POOL, 65536]);
  // the image's files look root-owned inside, and root can write where the image lets root write
  assert.equal(await e.ok(['exec', 'u1', 'stat', '-c', '%u:%g', '/bin/sh', '/etc']), '0:0\n0:0');
  assert.equal(await e.ok(['exec', 'u1', 'sh', '-c', 'echo hi > /etc/motd && cat /etc/motd']), 'hi');

  // from the host: the container's process runs as the mapped uid, never as host root
  assert.deepEqual(hostUid(c1.pid), [POOL, POOL, POOL, POOL]);
  assert.deepEqual(hostUid(c2.pid), [POOL + 65536, POOL + 65536, POOL + 65536, POOL + 65536]);
  // files it creates are owned by the mapped uid on the host
  const rootfs1 = join(e.state, 'c', c1.id.slice(0, 20), 'rootfs');
  for (const f of ['made', 'tmp/d/f']) {
    const st = statSync(join(rootfs1, f));
    assert.deepEqual([st.uid, st.gid], [POOL, POOL], f);
  }
  assert.equal(statSync(join(rootfs1, 'bin/sh')).uid, POOL);

  // commit writes the container's own ids, not the host range
  await e.ok(['commit', 'u1', 'usernscommit:1']);
  assert.equal(await e.ok(['run', '--rm', 'usernscommit:1', 'stat', '-c', '%u:%g', '/bin/sh', '/made', '/tmp/d/f']), '0:0\n0:0\n0:0');
  await e.ok(['rmi', 'usernscommit:1']);

  // rm releases the range: the next container gets the first range again
  await e.ok(['rm', '-f', 'u1']);
  const r = await e.berth(['run', '--rm', '--userns=auto', e.image, 'cat', '/proc/self/uid_map']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number), [0, POOL, 65536]);
  await e.ok(['rm', '-f', 'u2']);
  assert.deepEqual(leftovers(e), []);
});

test('--userns=<uid>:<gid>:<size>, host default and bad values', async (t) => {
  const time = async (args: string[]) => {
    const t0 = performance.now();
    await e.ok(['run', '--rm', ...args, e.image, 'true']);
    return Math.round(performance.now() - t0);
  };
  t.diagnostic(`run --rm true: host ${await time([])} ms, --userns=auto ${await time(['--userns=auto'])} ms (chown copy)`);
  let r = await e.berth(['run', '--rm', '--userns=300000:310000:65536', e.image, 'sh', '-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number), [0, 0, 300000, 65536, 0, 310000, 65536]);
  r = await e.berth(['run', '--rm', e.image, 'cat', '/proc/self/uid_map']);
  assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number), [0, 0, 4294967295], 'default: the host user namespace');
  // the shifted copies were the containers' own: the image's layers still belong to host root
  assert.equal(await e.ok(['run', '--rm', e.image, 'stat', '-c', '%u:%g', '/bin/sh', '/etc']), '0:0\n0:0');
  for (const bad of ['0:0:65536', 'sometimes', '1:2']) {
    r = await e.berth(['run', '--rm', `--userns=${bad}`, e.image, 'true']);
    assert.equal(r.code, 125, bad);
    assert.match(r.stderr, /invalid --userns/);
  }
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e), []);
});
