/**
 * Layer unpacking against the real kernel: every entry type across 3 layers, unpacked with
 * both snapshotters and mounted, must equal what `umoci unpack` makes of the same image;
 * hostile layers fail and write nothing outside their snapshot.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { isBerthError } from '../../../src/errors/index.js';
import { applyLayer, NativeSnapshotter, OverlaySnapshotter, unpackLayer, type Snapshotter } from '../../../src/snapshot/index.js';
import { mountAll, unmountAll } from '../../../src/sys/mount.js';
import { leakCheckFile, Scope } from '../../harness/index.js';
import { layerTar, rawEntry, rawTar, type LayerEntry } from './layers.js';
import { chainIds, sha256, writeOciLayout } from './oci-layout.js';
import { describeTree, diffTrees } from './tree.js';

const scope = new Scope('snapshot-unpack');
leakCheckFile(scope);

// security.capability, VFS_CAP_REVISION_2 with the effective flag, permitting cap_net_bind_service (bit 10).
const CAP = String.fromCharCode(1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const T1 = new Date('2023-01-02T03:04:05Z');

const LAYER1: LayerEntry[] = [
  { name: 'bin/', mode: 0o755 },
  { name: 'bin/tool', mode: 0o4755, content: '#!/bin/sh\necho tool\n' },
  { name: 'bin/sgid', mode: 0o2711, gid: 5, content: 'sgid' },
  { name: 'bin/ping', mode: 0o755, content: 'ping', xattrs: { 'security.capability': CAP, 'user.note': 'hello' } },
  { name: 'etc/', mode: 0o755, mtime: T1 },
  { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
  { name: 'etc/shadow', mode: 0o640, gid: 42, content: 'root:*:1::::::\n' },
  { name: 'home/', mode: 0o755 },
  { name: 'home/user/', mode: 0o700, uid: 1000, gid: 1000 },
  { name: 'home/user/notes', mode: 0o600, uid: 1000, gid: 1000, content: 'mine' },
  { name: 'tmp/', mode: 0o1777 },
  { name: 'srv/', mode: 0o2775, gid: 50 },
  { name: 'srv/data', gid: 50, content: 'data' },
  { name: 'srv/root-owned', content: 'gid 0 in a setgid dir' },
  { name: 'srv/sub/', mode: 0o755 },
  { name: `deep/${'long-directory-name/'.repeat(8)}`, mode: 0o755 },
  { name: `deep/${'long-directory-name/'.repeat(8)}file-with-a-long-name`, content: 'long' },
  { name: 'deep/long-link', type: 'symlink', linkname: `${'../target/'.repeat(12)}end` },
  { name: 'café/', mode: 0o755 },
  { name: 'café/naïve €', content: 'utf-8' },
  { name: 'lib/', mode: 0o755 },
  { name: 'lib/libx.so.1', mode: 0o755, content: Buffer.alloc(300_000, 7) },
  { name: 'lib/libx.so', type: 'symlink', linkname: 'libx.so.1' },
  { name: 'lib/libx-hard.so', type: 'link', linkname: 'lib/libx.so.1' },
  { name: 'lib/abs', type: 'symlink', linkname: '/etc/passwd' },
  { name: 'lib/dangling', type: 'symlink', linkname: '../../../nowhere' },
  { name: 'dev/', mode: 0o755 },
  { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 },
  { name: 'dev/loop-x', type: 'block-device', mode: 0o660, gid: 6, devmajor: 7, devminor: 200 },
  { name: 'run/', mode: 0o755 },
  { name: 'run/fifo', type: 'fifo', mode: 0o620 },
  { name: 'opq/', mode: 0o755 },
  { name: 'opq/old', content: 'old' },
  { name: 'opq/sub/', mode: 0o755 },
  { name: 'opq/sub/deep', content: 'deep' },
  { name: 'gone/', mode: 0o755 },
  { name: 'gone/x', content: 'x' },
  { name: 'rm-me', content: 'rm' },
  { name: 'empty', content: '' },
  { name: 'srv2/', mode: 0o755 },
  { name: 'srv2/a', content: 'a' },
  { name: 'swap1/', mode: 0o755 },
  { name: 'swap1/in', content: 'in' },
  { name: 'swap2', content: 'file first' },
];
const LAYER2: LayerEntry[] = [
  { name: '.wh.rm-me' },
  { name: '.wh.gone' },
  { name: 'opq/', mode: 0o750 },
  { name: 'opq/.wh..wh..opq' },
  { name: 'opq/new', content: 'new' },
  { name: 'bin/', mode: 0o755 },
  { name: 'bin/new', content: 'new binary' },
  { name: 'bin/new-link', type: 'link', linkname: 'bin/new' },
  { name: 'etc/', mode: 0o755, mtime: T1 },
  { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' },
  { name: 'etc/.wh.shadow' },
];
const LAYER3: LayerEntry[] = [
  { name: 'gone/', mode: 0o711 },
  { name: 'gone/y', content: 'back again' },
  { name: 'lib/', mode: 0o755 },
  { name: 'lib/libx.so', type: 'symlink', linkname: 'libx-hard.so' },
  { name: 'home/', mode: 0o755 },
  { name: 'home/user/', mode: 0o750, uid: 1000, gid: 100 },
  { name: 'etc/', mode: 0o755, mtime: T1 },
  { name: 'etc/shadow', mode: 0o600, content: 'new shadow' },
  { name: 'run/', mode: 0o755 },
  { name: '.wh.run' },
  { name: '.wh.srv2' },
  { name: 'srv2/', mode: 0o755 },
  { name: 'srv2/b', content: 'b' },
  { name: 'swap1', content: 'a file now' },
  { name: 'swap2/', mode: 0o700 },
  { name: 'swap2/in', content: 'a dir now' },
];

let layers: Buffer[];
let umociTree: ReturnType<typeof describeTree>;

async function unpackAll(sn: Snapshotter): Promise<string> {
  const ids = chainIds(layers.map((l) => sha256(l)));
  for (let i = 0; i < layers.length; i++) {
    await unpackLayer(sn, { chainId: ids[i], parentChainId: i ? ids[i - 1] : undefined, tar: Readable.from([layers[i]]) });
  }
  const key = `rootfs-${scope.uid()}`;
  await sn.prepare(key, ids[ids.length - 1]);
  return key;
}

describe('applyLayer and unpackLayer against umoci', () => {
  before(async () => {
    layers = [await layerTar(LAYER1), await layerTar(LAYER2), await layerTar(LAYER3)];
    const layout = scope.mkdtemp('layout');
    writeOciLayout(layout, 'test', layers);
    const bundle = `${scope.mkdtemp('umoci')}/bundle`;
    execFileSync('umoci', ['unpack', '--image', `${layout}:test`, bundle], { stdio: 'pipe' });
    umociTree = describeTree(`${bundle}/rootfs`);
    umociTree.delete(''); // the rootfs dir itself is the mount point, not the image's
  });

  for (const [kind, make] of [
    ['overlay', (root: string) => new OverlaySnapshotter(root)],
    ['native', (root: string) => new NativeSnapshotter(root)],
  ] as const) {
    it(`${kind}: the mounted rootfs equals umoci's (paths, types, modes, owners, contents, xattrs, links, mtimes)`, async () => {
      const sn = make(scope.mkdtemp(`${kind}-root`));
      const key = await unpackAll(sn);
      const target = scope.mkdtemp('mnt');
      await mountAll(await sn.mounts(key), target);
      try {
        const got = describeTree(target);
        got.delete('');
        assert.deepEqual(diffTrees(umociTree, got), []);
        // The cases the comparison exists for, spelled out.
        assert.equal(got.get('bin/tool')?.mode, '4755');
        assert.equal(got.get('tmp')?.mode, '1777');
        assert.ok(got.get('bin/ping')?.xattrs.some((x) => x.startsWith('security.capability=0100000200040000')));
        assert.equal(got.get('lib/libx.so.1')?.linkOf, 'lib/libx-hard.so');
        assert.deepEqual([...got.keys()].filter((p) => p.startsWith('srv2/')), ['srv2/b']);
        assert.equal(got.get('dev/null')?.content, '1:3');
        assert.equal(got.has('gone/x'), false);
        assert.equal(lstatSync(`${target}/etc`).mtimeMs, T1.getTime(), 'an explicit dir keeps its mtime');
        assert.equal(lstatSync(`${target}/srv/sub`).mode & 0o7777, 0o755, 'no setgid inherited from srv/');
        assert.equal(got.has('opq/old'), false);
      } finally {
        await unmountAll(target);
      }
    });
  }
});

describe('parallel small-file creation keeps tar order semantics', () => {
  // Later entries win, replacements and whiteouts wait for the files they touch.
  const tricky: LayerEntry[] = [
    { name: 'dup', content: 'first' },
    { name: 'dup', content: 'second', mode: 0o600 },
    { name: 'f-then-d', content: 'file' },
    { name: 'f-then-d/', mode: 0o700 },
    { name: 'f-then-d/in', content: 'in' },
    { name: 'd-then-f/', mode: 0o755 },
    { name: 'd-then-f/in', content: 'in' },
    { name: 'd-then-f', content: 'now a file' },
    { name: 'wh-same-layer', content: 'kept' },
    { name: '.wh.wh-same-layer' },
    { name: 'target', content: 'linked' },
    { name: 'link', type: 'link', linkname: 'target' },
    { name: 'sym', type: 'symlink', linkname: 'target' },
    { name: 'sym', content: 'a file replaces the symlink' },
    ...Array.from({ length: 300 }, (_, i) => ({ name: `many/f${i}`, content: `n${i}`, mode: i % 2 ? 0o4755 : 0o640, uid: i % 7, gid: i % 5 })),
    { name: 'many/f7', content: 'rewritten after 300 others' },
  ];
  for (const format of ['overlay', 'native'] as const) {
    it(`${format}: concurrency 8 gives the same tree as 1`, async () => {
      const tar = await layerTar(tricky);
      const one = scope.mkdtemp('c1');
      const eight = scope.mkdtemp('c8');
      await applyLayer(Readable.from([tar]), one, { format, concurrency: 1 });
      // Small input chunks, so that conflicts straddle chunk boundaries too.
      const chunks = Array.from({ length: Math.ceil(tar.length / 700) }, (_, i) => tar.subarray(i * 700, (i + 1) * 700));
      await applyLayer(Readable.from(chunks), eight, { format, concurrency: 8 });
      const a = describeTree(one);
      assert.deepEqual(diffTrees(a, describeTree(eight)), []);
      assert.equal(a.get('dup')?.mode, '600');
      assert.equal(a.get('d-then-f')?.type, 'file');
      assert.equal(a.get('f-then-d/in')?.type, 'file');
      assert.equal(a.get('many/f1')?.mode, '4755');
      assert.equal(a.get('link')?.linkOf ?? a.get('target')?.linkOf, 'link');
    });
  }
  it('a path through a file being created is still refused', async () => {
    const tar = await layerTar([{ name: 'x', content: 'file' }, { name: 'x/y', content: 'under a file' }]);
    await assert.rejects(applyLayer(Readable.from([tar]), scope.mkdtemp('cx'), { format: 'overlay', concurrency: 8 }), /not a directory/);
  });
});

describe('hostile layers fail and write nothing outside the snapshot', () => {
  const listing = (dir: string): string[] => {
    const out: string[] = [];
    const walk = (p: string, rel: string): void => {
      for (const e of readdirSync(p, { withFileTypes: true })) {
        if (e.name.startsWith('metadata.db')) continue;
        out.push(`${rel}${e.name}`);
        if (e.isDirectory()) walk(`${p}/${e.name}`, `${rel}${e.name}/`);
      }
    };
    walk(dir, '');
    return out.sort();
  };
  const escaped = `${scope.dir}/escaped`;
  const cases: [string, () => Buffer, 'overlay' | 'native' | 'both'][] = [
    ['../../etc/x', () => rawTar(rawEntry('../../etc/x', '0', Buffer.from('x'))), 'both'],
    ['/abs', () => rawTar(rawEntry('/abs', '0', Buffer.from('x'))), 'both'],
    ['symlink a -> / then a/<path>', () => rawTar(rawEntry('a', '2', Buffer.alloc(0), '/'), rawEntry(`a${escaped}`, '0', Buffer.from('x'))), 'both'],
    ['symlink a -> ../.. then a/x', () => rawTar(rawEntry('a', '2', Buffer.alloc(0), '../..'), rawEntry('a/x', '0', Buffer.from('x'))), 'both'],
    ['hardlink to ../../x', () => rawTar(rawEntry('h', '1', Buffer.alloc(0), '../../x')), 'both'],
    ['hardlink through a symlink', () => rawTar(rawEntry('a', '2', Buffer.alloc(0), '/'), rawEntry('h', '1', Buffer.alloc(0), 'a/etc/hostname')), 'both'],
    ['dir replaced by a symlink, then written through', () => rawTar(rawEntry('d/', '5', Buffer.alloc(0), '', 0o755), rawEntry('d', '2', Buffer.alloc(0), '/'), rawEntry(`d${escaped}`, '0', Buffer.from('x'))), 'both'],
  ];
  for (const kind of ['overlay', 'native'] as const) {
    for (const [name, tar, only] of cases) {
      if (only !== 'both' && only !== kind) continue;
      it(`${kind}: ${name}`, async () => {
        const sn = kind === 'overlay' ? new OverlaySnapshotter(scope.mkdtemp('hostile')) : new NativeSnapshotter(scope.mkdtemp('hostile'));
        await unpackLayer(sn, { chainId: 'base', tar: Readable.from([await layerTar([{ name: 'etc/', mode: 0o755 }, { name: 'etc/hostname', content: 'h' }])]) });
        const before = listing(sn.root);
        await assert.rejects(unpackLayer(sn, { chainId: 'evil', parentChainId: 'base', tar: Readable.from([tar()]) }), (err: unknown) => {
          assert.ok(isBerthError(err, 'INVALID_ARGUMENT'), String(err));
          return true;
        });
        assert.deepEqual(listing(sn.root), before);
        assert.equal(existsSync(escaped), false);
        assert.equal(existsSync('/etc/x'), false);
        assert.deepEqual((await sn.walk()).map((i) => i.key), ['base']);
      });
    }
  }

  it('native: a symlink in the parent snapshot is not followed by a later layer', async () => {
    const sn = new NativeSnapshotter(scope.mkdtemp('hostile'));
    await unpackLayer(sn, { chainId: 'l1', tar: Readable.from([rawTar(rawEntry('a', '2', Buffer.alloc(0), '/'))]) });
    await assert.rejects(
      unpackLayer(sn, { chainId: 'l2', parentChainId: 'l1', tar: Readable.from([rawTar(rawEntry(`a${escaped}`, '0', Buffer.from('x')))]) }),
      /symlink/,
    );
    assert.equal(existsSync(escaped), false);
  });

  it('native links to a file of a lower layer; overlay, unpacking alone, refuses', async () => {
    for (const sn of [new NativeSnapshotter(scope.mkdtemp('lowlink')), new OverlaySnapshotter(scope.mkdtemp('lowlink'))]) {
      await unpackLayer(sn, { chainId: 'l1', tar: Readable.from([await layerTar([{ name: 'a', content: 'shared' }])]) });
      const l2 = unpackLayer(sn, { chainId: 'l2', parentChainId: 'l1', tar: Readable.from([await layerTar([{ name: 'b', type: 'link', linkname: 'a' }])]) });
      if (sn.name === 'overlay') {
        await assert.rejects(l2, /hardlink target "a" not found in this layer/);
        continue;
      }
      await l2;
      await sn.view('v', 'l2');
      const [m] = await sn.mounts('v');
      assert.equal(lstatSync(`${m.source}/b`).ino, lstatSync(`${m.source}/a`).ino);
      assert.equal(lstatSync(`${m.source}/a`).nlink, 2);
    }
  });

  it('device nodes are refused when not allowed', async () => {
    const dir = scope.mkdtemp('nodev');
    const tar = await layerTar([{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }]);
    await assert.rejects(applyLayer(Readable.from([tar]), dir, { format: 'overlay', allowDevices: false }), (err: unknown) =>
      isBerthError(err, 'PERMISSION_DENIED'),
    );
    assert.deepEqual(readdirSync(dir), []);
  });
});
