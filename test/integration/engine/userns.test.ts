// berth run --userns: the container's root is an unprivileged host range (auto from the pool,
// one per container, released on rm); the rootfs is made the mapped root's by idmapped overlay
// layers where the kernel allows (nothing copied, owners unchanged on disk: layers by fd on
// Linux 6.15+, attached for the mount on 5.19-6.14, forced here with BERTH_USERNS_IDMAP=attached),
// else by a chown copy (forced with BERTH_USERNS_IDMAP=0).
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { execOk, mountsUnder } from '../../harness/index.js';
import { BERTH, engineEnv, leftovers, type EngineEnv } from './_env.js';

const { scope, ready } = engineEnv('userns');
let e: EngineEnv;
const POOL = 165536;
/** Layers as idmapped detached mounts handed to overlayfs by fd: Linux 6.15. */
const [major, minor] = release().split('.').map(Number);
const KERNEL_IDMAPS = major > 6 || (major === 6 && minor >= 15);

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

async function ownership(ref: string): Promise<string> {
  return JSON.parse(await e.ok(['inspect', ref]))[0].GraphDriver.Data?.RootfsOwnership;
}

/** Every `<snapshot>/fs/<rel>` on disk under the root: the image's layer dirs and the containers' upper dirs. */
function onDisk(rel: string): string[] {
  const base = join(e.root, 'snapshots', 'overlay');
  return readdirSync(base)
    .map((id) => join(base, id, 'fs', rel))
    .filter((p) => {
      try {
        lstatSync(p);
        return true;
      } catch {
        return false;
      }
    });
}

const owner = (p: string) => {
  const st = lstatSync(p);
  return [st.uid, st.gid];
};

test('--userns=auto: idmapped layers; root inside, a pool range outside; nothing copied; two containers, two ranges; rm releases', async () => {
  const script = 'touch /made; mkdir -p /tmp/d && echo x > /tmp/d/f; rm /bin/yes; touch /ready; sleep 1000';
  const [layerBusybox] = onDisk('bin/busybox');
  assert.ok(layerBusybox, 'the image layer holds bin/busybox');
  const layerBefore = lstatSync(layerBusybox);
  await e.ok(['run', '-d', '--name', 'u1', '--userns=auto', e.image, 'sh', '-c', script]);
  await e.ok(['run', '-d', '--name', 'u2', '--userns=auto', e.image, 'sh', '-c', script]);
  const c1 = await started('u1');
  const c2 = await started('u2');
  assert.equal(await ownership('u1'), KERNEL_IDMAPS ? 'idmapped' : 'chown', `kernel ${release()}`);
  if (!KERNEL_IDMAPS) return; // the chown copy is tested below

  assert.equal(await e.ok(['exec', 'u1', 'id', '-u']), '0');
  assert.equal(await e.ok(['exec', 'u1', 'id', '-g']), '0');
  assert.deepEqual((await e.ok(['exec', 'u1', 'cat', '/proc/self/uid_map'])).split(/\s+/).map(Number), [0, POOL, 65536]);
  assert.deepEqual((await e.ok(['exec', 'u2', 'cat', '/proc/self/uid_map'])).split(/\s+/).map(Number), [0, POOL + 65536, 65536], 'the second container gets the next range');
  assert.deepEqual((await e.ok(['exec', 'u1', 'cat', '/proc/self/gid_map'])).split(/\s+/).map(Number), [0, POOL, 65536]);
  // the image's files are root's inside, and root can write where the image lets root write
  assert.equal(await e.ok(['exec', 'u1', 'stat', '-c', '%u:%g', '/bin/busybox', '/etc']), '0:0\n0:0');
  assert.equal(await e.ok(['exec', 'u1', 'sh', '-c', 'echo hi > /etc/motd && cat /etc/motd']), 'hi');
  // from the host: the container's process runs as the mapped uid, never as host root
  assert.deepEqual(hostUid(c1.pid), [POOL, POOL, POOL, POOL]);
  assert.deepEqual(hostUid(c2.pid), [POOL + 65536, POOL + 65536, POOL + 65536, POOL + 65536]);
  // through the mount the host sees the mapped ids; on disk the owners stay the container's
  const rootfs1 = join(e.state, 'c', c1.id.slice(0, 20), 'rootfs');
  assert.deepEqual(owner(join(rootfs1, 'made')), [POOL, POOL]);
  for (const f of ['made', 'tmp/d/f', 'etc/motd']) {
    const copies = onDisk(f);
    assert.equal(copies.length, f === 'etc/motd' ? 1 : 2, `${f}: one in each upper dir`);
    for (const p of copies) assert.deepEqual(owner(p), [0, 0], `${p} on disk`);
  }
  // nothing copied: the image's files are in its layer only, untouched (a chown copy would
  // have put every one into each container's upper dir)
  assert.deepEqual(onDisk('bin/busybox'), [layerBusybox]);
  const layerAfter = lstatSync(layerBusybox);
  assert.deepEqual([layerAfter.uid, layerAfter.gid, layerAfter.mode, layerAfter.ctimeMs], [layerBefore.uid, layerBefore.gid, layerBefore.mode, layerBefore.ctimeMs]);
  // diff lists what the container did (and the mount points of /etc's bind-mounted files),
  // not the whole image
  assert.deepEqual((await e.ok(['diff', 'u1'])).split('\n'), [
    'C /bin',
    'D /bin/yes',
    'C /etc',
    'A /etc/hostname',
    'A /etc/hosts',
    'A /etc/motd',
    'A /etc/resolv.conf',
    'A /made',
    'A /ready',
    'C /tmp',
    'A /tmp/d',
    'A /tmp/d/f',
  ]);
  // no mount of the container's but its rootfs: the layers were handed to overlayfs as fds of
  // detached mounts, so there is no temporary mount to leak (not even on kill -9 of the CLI)
  assert.deepEqual(mountsUnder(e.state).sort(), [rootfs1, join(e.state, 'c', c2.id.slice(0, 20), 'rootfs')].sort());
  assert.deepEqual(mountsUnder(e.root), []);

  // a rootfs mounted again (start after a reboot) is idmapped again
  await e.ok(['stop', '-t', '0', 'u1']);
  await execOk('umount', [rootfs1]);
  await e.ok(['start', 'u1']);
  await started('u1');
  assert.equal(await e.ok(['exec', 'u1', 'stat', '-c', '%u:%g', '/made', '/bin/busybox']), '0:0\n0:0');
  assert.equal(await e.ok(['exec', 'u1', 'sh', '-c', 'touch /again && stat -c %u /again']), '0');

  // commit: the layer holds the container's changes with container ids; a two-layer image runs
  // idmapped with its layers in order (motd from the top layer, /bin/yes whited out)
  await e.ok(['commit', 'u1', 'usernscommit:1']);
  assert.equal(
    await e.ok(['run', '--rm', '--userns=auto', 'usernscommit:1', 'sh', '-c', 'stat -c %u:%g /bin/busybox /made /tmp/d/f; cat /etc/motd; test ! -e /bin/yes && echo gone']),
    '0:0\n0:0\n0:0\nhi\ngone',
  );
  assert.equal(await e.ok(['run', '--rm', 'usernscommit:1', 'stat', '-c', '%u:%g', '/made', '/again']), '0:0\n0:0');
  await e.ok(['rmi', 'usernscommit:1']);

  // rm releases the range: the next container gets the first range again
  await e.ok(['rm', '-f', 'u1']);
  const r = await e.berth(['run', '--rm', '--userns=auto', e.image, 'cat', '/proc/self/uid_map']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number), [0, POOL, 65536]);
  await e.ok(['rm', '-f', 'u2']);
  assert.deepEqual(leftovers(e), []);
});

test('--userns on Linux 5.19-6.14: layers attached for the mount (BERTH_USERNS_IDMAP=attached); rm never deletes through a leftover clone', async () => {
  const env = { ...e.env, BERTH_USERNS_IDMAP: 'attached' };
  await e.ok(['run', '-d', '--name', 'a1', '--userns=auto', e.image, 'sh', '-c', 'touch /made /ready; sleep 1000'], { env });
  const c = await started('a1');
  assert.equal(await ownership('a1'), 'idmapped');
  assert.equal(await e.ok(['exec', 'a1', 'sh', '-c', 'id -u; stat -c %u:%g /bin/busybox /made']), '0\n0:0\n0:0');
  assert.deepEqual(hostUid(c.pid), [POOL, POOL, POOL, POOL]);
  assert.deepEqual(onDisk('made').map(owner), [[0, 0]]);
  const [layerBusybox] = onDisk('bin/busybox');
  assert.deepEqual(onDisk('bin/busybox'), [layerBusybox], 'nothing copied');
  // the clones were detached and their dirs removed once the overlay was mounted
  const bundle = join(e.state, 'c', c.id.slice(0, 20));
  assert.deepEqual(mountsUnder(e.state), [join(bundle, 'rootfs')]);
  assert.equal(existsSync(join(bundle, 'idmap')), false);
  // what a create killed inside the attach step would leave: an image layer mounted under the
  // bundle. rm detaches it before it deletes the bundle: the layer's files survive
  const layerDir = dirname(dirname(layerBusybox));
  mkdirSync(join(bundle, 'idmap', '0'), { recursive: true });
  await execOk('mount', ['--bind', layerDir, join(bundle, 'idmap', '0')]);
  await e.ok(['rm', '-f', 'a1']);
  assert.ok(existsSync(layerBusybox), 'the image layer was not deleted through the leftover mount');
  assert.deepEqual(leftovers(e), []);
});

test('--userns fallback: the chown copy (BERTH_USERNS_IDMAP=0)', async () => {
  const env = { ...e.env, BERTH_USERNS_IDMAP: '0' };
  await e.ok(['run', '-d', '--name', 'f1', '--userns=auto', e.image, 'sh', '-c', 'touch /made /ready; sleep 1000'], { env });
  const c = await started('f1');
  assert.equal(await ownership('f1'), 'chown');
  assert.equal(await e.ok(['exec', 'f1', 'sh', '-c', 'id -u; stat -c %u:%g /bin/busybox /made']), '0\n0:0\n0:0');
  assert.deepEqual(hostUid(c.pid), [POOL, POOL, POOL, POOL]);
  // the copy: the image's files are in the container's upper dir, shifted; the layer is not
  const copies = onDisk('bin/busybox');
  assert.equal(copies.length, 2);
  assert.deepEqual(copies.map(owner).sort(), [[0, 0], [POOL, POOL]]);
  assert.deepEqual(onDisk('made').map(owner), [[POOL, POOL]]);
  assert.match(await e.ok(['diff', 'f1']), /^C \/bin\/busybox$/m, 'the copy shows in diff');
  // commit writes the container's own ids, not the host range
  await e.ok(['commit', 'f1', 'usernscommit:2']);
  assert.equal(await e.ok(['run', '--rm', 'usernscommit:2', 'stat', '-c', '%u:%g', '/bin/sh', '/made']), '0:0\n0:0');
  await e.ok(['rmi', 'usernscommit:2']);
  await e.ok(['rm', '-f', 'f1']);
  assert.deepEqual(leftovers(e), []);
});

test('cp into and out of a --userns container speaks the container\'s ids (idmapped and chown copy)', async () => {
  const src = join(scope.mkdtemp('cpsrc'), 'in.txt');
  writeFileSync(src, 'x\n');
  for (const [name, idmap] of [['cp1', '1'], ['cp2', '0']] as const) {
    const env = { ...e.env, BERTH_USERNS_IDMAP: idmap };
    await e.ok(['run', '-d', '--name', name, '--userns=auto', e.image, 'sh', '-c', 'touch /ready; exec sleep 1000'], { env });
    await started(name);
    await e.ok(['cp', src, `${name}:/tmp/in.txt`], { env });
    // docker cp: the file is the container's root's, as inside
    assert.equal(await e.ok(['exec', name, 'stat', '-c', '%u:%g', '/tmp/in.txt']), '0:0', `${name} (idmap ${idmap})`);
    const list = await execOk('sh', ['-c', `"$0" cp ${name}:/bin/busybox - | tar -tvf - --numeric-owner`, BERTH], { env });
    assert.match(list.stdout, /^-\S+ 0\/0 /, `${name}: the archive shows the container's ids`);
    await e.ok(['rm', '-f', name]);
  }
  assert.deepEqual(leftovers(e), []);
});

test('volumes of a --userns container are its root\'s: a new empty one, and one filled from the image', async () => {
  for (const idmap of ['1', '0']) {
    const env = { ...e.env, BERTH_USERNS_IDMAP: idmap };
    const out = await e.ok(['run', '--rm', '--userns=auto', '-v', 'uv-new:/data', '-v', 'uv-etc:/etc', e.image, 'sh', '-c',
      'echo x > /data/f && echo y > /etc/f && stat -c %u:%g /data /data/f /etc /etc/passwd /etc/f'], { env });
    assert.equal(out, '0:0\n0:0\n0:0\n0:0\n0:0', `idmap ${idmap}`);
    await e.ok(['volume', 'rm', 'uv-new', 'uv-etc']);
  }
  assert.deepEqual(leftovers(e), []);
});

test('--userns=<uid>:<gid>:<size>, host default, bad values, a create that fails after the mount', async (t) => {
  const time = async (args: string[], env?: NodeJS.ProcessEnv) => {
    const t0 = performance.now();
    await e.ok(['run', '--rm', ...args, e.image, 'true'], env ? { env } : {});
    return Math.round(performance.now() - t0);
  };
  t.diagnostic(
    `run --rm true: host ${await time([])} ms, --userns=auto ${await time(['--userns=auto'])} ms, chown copy ${await time(['--userns=auto'], { ...e.env, BERTH_USERNS_IDMAP: '0' })} ms`,
  );
  let r = await e.berth(['run', '--rm', '--userns=300000:310000:65536', e.image, 'sh', '-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g /bin/busybox']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split(/\s+/).map((x) => (x.includes(':') ? x : Number(x))), [0, 0, 300000, 65536, 0, 310000, 65536, '0:0']);
  r = await e.berth(['run', '--rm', e.image, 'cat', '/proc/self/uid_map']);
  assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number), [0, 0, 4294967295], 'default: the host user namespace');
  assert.equal(JSON.parse(await e.ok(['inspect', (await e.ok(['create', e.image, 'true']))]))[0].GraphDriver.Data, null);
  // the image's layers still belong to host root
  assert.equal(await e.ok(['run', '--rm', e.image, 'stat', '-c', '%u:%g', '/bin/sh', '/etc']), '0:0\n0:0');
  for (const bad of ['0:0:65536', 'sometimes', '1:2']) {
    r = await e.berth(['run', '--rm', `--userns=${bad}`, e.image, 'true']);
    assert.equal(r.code, 125, bad);
    assert.match(r.stderr, /invalid --userns/);
  }
  // fails after the rootfs is mounted (the user is looked up in it): everything undone, each way
  for (const env of [e.env, { ...e.env, BERTH_USERNS_IDMAP: 'attached' }, { ...e.env, BERTH_USERNS_IDMAP: '0' }]) {
    r = await e.berth(['run', '--rm', '--userns=auto', '--user', 'nosuchuser', e.image, 'true'], { env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nosuchuser/);
  }
  await e.ok(['rm', '-f', ...(await e.ok(['ps', '-aq'])).split('\n').filter(Boolean)]);
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e), []);
  assert.deepEqual(readdirSync(join(e.root, 'snapshots', 'overlay')).filter((n) => statSync(join(e.root, 'snapshots', 'overlay', n)).isDirectory() && n !== 'l').length, 1, 'only the image layer is left');
});
