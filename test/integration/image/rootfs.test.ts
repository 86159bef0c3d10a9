// End to end: an image with whiteouts, an opaque dir, hardlinks and symlinks goes through a
// real registry; berth pull's rootfs (the top chain ID's snapshot, mounted) is entry for entry
// what `umoci unpack` makes of the same image, for both snapshotters.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { Scope, execOk, leakCheckFile, startRegistry, type Registry } from '../../harness/index.js';
import { newSnapshotter } from '../../../src/snapshot/index.js';
import { mountAll, unmountAll } from '../../../src/sys/mount.js';
import { closeDatabases } from '../../../src/util/sqlite.js';
import { describeTree, diffTrees } from '../snapshot/tree.js';
import { berth } from './_berth.js';
import { Layout, busyboxEntries, type BuiltImage } from './_layout.js';
import { chainIds } from '../../../src/image/index.js';

const scope = new Scope('image-rootfs');
leakCheckFile(scope);

let reg: Registry;
let img: BuiltImage;
let umociTree: ReturnType<typeof describeTree>;

test('setup: an image with whiteouts, an opaque dir, links; umoci unpacks it', async () => {
  reg = await startRegistry(scope);
  const l = new Layout(scope.mkdtemp('layout'));
  img = await l.image(
    [
      { entries: busyboxEntries() },
      {
        entries: [
          { path: 'srv/', type: 'dir' },
          { path: 'srv/a', type: 'file', content: 'a\n' },
          { path: 'srv/b', type: 'file', content: 'b\n', mode: 0o600 },
          { path: 'opt/', type: 'dir' },
          { path: 'opt/old', type: 'file', content: 'old\n' },
          { path: 'opt/tool', type: 'file', content: '#!/bin/sh\n', mode: 0o4755 },
          { path: 'opt/tool-hard', type: 'link', target: 'opt/tool' },
          { path: 'opt/tool-soft', type: 'symlink', target: 'tool' },
        ],
        // gzip: this umoci cannot read zstd layers
        compression: 'gzip',
      },
      {
        entries: [
          { path: 'srv/', type: 'dir' },
          { path: 'srv/.wh..wh..opq', type: 'file', content: '' },
          { path: 'srv/c', type: 'file', content: 'c\n' },
          { path: 'opt/.wh.old', type: 'file', content: '' },
          { path: 'etc/.wh.passwd', type: 'file', content: '' },
        ],
        compression: 'none',
      },
    ],
    { tag: 'v1' },
  );
  await execOk('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests', `oci:${l.dir}:v1`, `docker://${reg.host}/test/rootfs:v1`], { timeoutMs: 60_000 });
  const bundle = `${scope.mkdtemp('umoci')}/bundle`;
  execFileSync('umoci', ['unpack', '--image', `${l.dir}:v1`, bundle], { stdio: 'pipe' });
  umociTree = describeTree(`${bundle}/rootfs`);
  umociTree.delete('');
});

for (const kind of ['overlay', 'native'] as const) {
  test(`${kind}: berth pull's rootfs equals umoci's`, async () => {
    const root = scope.mkdtemp(`root-${kind}`);
    const r = await berth(root, ['pull', `${reg.host}/test/rootfs:v1`], { env: { ...process.env, BERTH_SNAPSHOTTER: kind } });
    assert.equal(r.code, 0, r.stderr);
    const sn = newSnapshotter(kind, root);
    const top = chainIds(img.layers.map((x) => x.diffId)).at(-1)!;
    const key = `${scope.uid('view')}`;
    const target = scope.mkdtemp('mnt');
    await mountAll(await sn.view(key, top), target);
    try {
      const got = describeTree(target);
      got.delete('');
      assert.deepEqual(diffTrees(umociTree, got), []);
      assert.deepEqual([...got.keys()].filter((p) => p.startsWith('srv/')), ['srv/c']);
      assert.equal(got.has('opt/old'), false);
      assert.equal(got.has('etc/passwd'), false);
      assert.equal(got.get('opt/tool-hard')?.linkOf, 'opt/tool');
      assert.equal(got.get('opt/tool')?.mode, '4755');
    } finally {
      await unmountAll(target);
      await sn.remove(key);
      closeDatabases();
    }
    // rmi frees every snapshot and blob.
    const rm = await berth(root, ['rmi', `${reg.host}/test/rootfs:v1`], { env: { ...process.env, BERTH_SNAPSHOTTER: kind } });
    assert.equal(rm.code, 0, rm.stderr);
    const left = await newSnapshotter(kind, root).walk();
    closeDatabases();
    assert.deepEqual(left.map((s) => s.key), []);
  });
}
