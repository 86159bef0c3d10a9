/**
 * The shared snapshotter conformance suite (one body, every snapshotter), in the manner of
 * containerd's core/snapshots/testsuite: chains, views, removal rules, merged mounts with
 * whiteouts and opaque dirs, usage, walk, crash garbage, unpack once per chain ID.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { isBerthError } from '../../../src/errors/index.js';
import { unpackLayer, type Snapshotter } from '../../../src/snapshot/index.js';
import { compactOptions, mountAll, unmountAll } from '../../../src/sys/mount.js';
import type { Scope } from '../../harness/index.js';
import { layerTar, type LayerEntry } from './layers.js';

export type SnapshotterFactory = (root: string) => Snapshotter;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isBerthError(err), `expected a BerthError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** Mount `mounts` on a fresh dir, run fn, always unmount. */
async function withMounted<T>(scope: Scope, sn: Snapshotter, key: string, fn: (dir: string) => Promise<T> | T): Promise<T> {
  const target = scope.mkdtemp('mnt');
  await mountAll(await sn.mounts(key), target);
  try {
    return await fn(target);
  } finally {
    await unmountAll(target);
  }
}

async function unpack(sn: Snapshotter, chainId: string, parentChainId: string | undefined, entries: LayerEntry[]): Promise<void> {
  const tar = Readable.from([await layerTar(entries)]);
  await unpackLayer(sn, { chainId, parentChainId, tar });
}

export function snapshotterSuite(kind: string, scope: Scope, make: SnapshotterFactory): void {
  describe(`snapshotter conformance: ${kind}`, () => {
    it('prepares and commits a chain, and stat/walk report it', async () => {
      const sn = make(scope.mkdtemp(`${kind}-root`));
      const m = await sn.prepare('a-active');
      assert.equal(m.length, 1);
      writeFileSync(`${await sn.layerDir('a-active')}/hello`, 'one');
      await sn.commit('a', 'a-active', { layer: '1' });
      await rejectsWith(sn.stat('a-active'), 'NOT_FOUND');
      await sn.prepare('b-active', 'a');
      const b = await sn.stat('b-active');
      assert.equal(b.kind, 'active');
      assert.equal(b.parent, 'a');
      await sn.commit('b', 'b-active');
      const all = await sn.walk();
      assert.deepEqual(
        all.map((i) => [i.key, i.kind, i.parent ?? null]),
        [
          ['a', 'committed', null],
          ['b', 'committed', 'a'],
        ],
      );
      assert.deepEqual(all[0].labels, { layer: '1' });
      await rejectsWith(sn.prepare('b'), 'ALREADY_EXISTS');
      await rejectsWith(sn.prepare('c', 'missing'), 'NOT_FOUND');
      await sn.prepare('c', 'b');
      await rejectsWith(sn.prepare('d', 'c'), 'FAILED_PRECONDITION'); // a parent must be committed
      await rejectsWith(sn.commit('b', 'c'), 'ALREADY_EXISTS');
      await rejectsWith(sn.mounts('b'), 'FAILED_PRECONDITION');
    });

    it('views are read-only and cannot be committed', async () => {
      const sn = make(scope.mkdtemp(`${kind}-root`));
      await unpack(sn, 'l1', undefined, [{ name: 'f', content: 'lower' }]);
      await unpack(sn, 'l2', 'l1', [{ name: 'g', content: 'upper' }]);
      for (const parent of ['l1', 'l2']) {
        const key = `view-${parent}`;
        await sn.view(key, parent);
        await withMounted(scope, sn, key, (dir) => {
          assert.equal(readFileSync(`${dir}/f`, 'utf8'), 'lower');
          assert.throws(() => writeFileSync(`${dir}/new`, 'x'), { code: 'EROFS' });
        });
        await rejectsWith(sn.commit(`c-${parent}`, key), 'FAILED_PRECONDITION');
        await sn.remove(key);
      }
    });

    it('refuses to remove a snapshot with children (FAILED_PRECONDITION), then removes bottom-up', async () => {
      const sn = make(scope.mkdtemp(`${kind}-root`));
      await unpack(sn, 'p', undefined, [{ name: 'x', content: 'x' }]);
      await sn.prepare('child', 'p');
      await rejectsWith(sn.remove('p'), 'FAILED_PRECONDITION');
      await sn.remove('child');
      await sn.remove('p');
      await rejectsWith(sn.remove('p'), 'NOT_FOUND');
      assert.deepEqual(await sn.walk(), []);
      assert.deepEqual(readdirSync(`${sn.root}/snapshots/${sn.name}`).filter((n) => /^\d+$/.test(n)), []);
    });

    it('mounts a 3-layer chain as the merged view, whiteouts and opaque dirs hiding lower content', async () => {
      const sn = make(scope.mkdtemp(`${kind}-root`));
      await unpack(sn, 'c1', undefined, [
        { name: 'etc/', mode: 0o755 },
        { name: 'etc/keep', content: 'keep' },
        { name: 'etc/gone', content: 'gone' },
        { name: 'opq/', mode: 0o755 },
        { name: 'opq/old', content: 'old' },
        { name: 'opq/sub/', mode: 0o755 },
        { name: 'opq/sub/deep', content: 'deep' },
        { name: 'dir-gone/', mode: 0o755 },
        { name: 'dir-gone/inner', content: 'inner' },
      ]);
      await unpack(sn, 'c2', 'c1', [
        { name: 'etc/', mode: 0o755 },
        { name: 'etc/.wh.gone' },
        { name: 'etc/keep', content: 'keep2' },
        { name: '.wh.dir-gone' },
        { name: 'opq/', mode: 0o750 },
        { name: 'opq/new', content: 'new' },
        { name: 'opq/.wh..wh..opq' },
      ]);
      await unpack(sn, 'c3', 'c2', [{ name: 'top', content: 'top' }, { name: 'etc/', mode: 0o755 }, { name: 'etc/gone', content: 'back' }]);
      await sn.prepare('rw', 'c3');
      await withMounted(scope, sn, 'rw', (dir) => {
        assert.deepEqual(readdirSync(dir).sort(), ['etc', 'opq', 'top']);
        assert.deepEqual(readdirSync(`${dir}/etc`).sort(), ['gone', 'keep']);
        assert.equal(readFileSync(`${dir}/etc/keep`, 'utf8'), 'keep2');
        assert.equal(readFileSync(`${dir}/etc/gone`, 'utf8'), 'back');
        assert.deepEqual(readdirSync(`${dir}/opq`), ['new']);
        writeFileSync(`${dir}/written`, 'rw');
      });
      // The write landed in the active snapshot only.
      await sn.view('v3', 'c3');
      await withMounted(scope, sn, 'v3', (dir) => assert.equal(existsSync(`${dir}/written`), false));
    });

    it('mounts a chain of 45 layers under a long root (overlay: options fit one page)', async () => {
      const sn = make(scope.mkdtemp(`${kind}-root-with-a-long-name-to-push-the-mount-options-past-one-page`));
      let parent: string | undefined;
      for (let i = 0; i < 45; i++) {
        await unpack(sn, `deep-${i}`, parent, [{ name: `f${i}`, content: String(i) }]);
        parent = `deep-${i}`;
      }
      await sn.prepare('deep-top', parent);
      for (const m of await sn.mounts('deep-top')) assert.ok(compactOptions(m.options).options.join(',').length < 4096);
      await withMounted(scope, sn, 'deep-top', (dir) => {
        assert.equal(readdirSync(dir).length, 45);
        assert.equal(readFileSync(`${dir}/f0`, 'utf8'), '0');
        assert.equal(readFileSync(`${dir}/f44`, 'utf8'), '44');
      });
    });

    it('reports usage of a layer and its inodes', async () => {
      const sn = make(scope.mkdtemp(`${kind}-root`));
      await sn.prepare('u');
      const dir = await sn.layerDir('u');
      mkdirSync(`${dir}/d`);
      writeFileSync(`${dir}/d/big`, Buffer.alloc(1 << 20, 1));
      const active = await sn.usage('u');
      assert.equal(active.inodes, 3);
      assert.ok(active.size >= 1 << 20, `size ${active.size}`);
      await sn.commit('u1', 'u');
      assert.deepEqual(await sn.usage('u1'), active);
    });

    it('treats a directory without a committed record as garbage', async () => {
      const sn = make(scope.mkdtemp(`${kind}-root`));
      await unpack(sn, 'kept', undefined, [{ name: 'k', content: 'k' }]);
      const base = `${sn.root}/snapshots/${sn.name}`;
      mkdirSync(`${base}/9999/fs`, { recursive: true });
      mkdirSync(`${base}/new-999999999-abc/fs`, { recursive: true }); // a dead process's half-made snapshot
      await sn.cleanup();
      assert.equal(existsSync(`${base}/9999`), false);
      assert.equal(existsSync(`${base}/new-999999999-abc`), false);
      assert.deepEqual((await sn.walk()).map((i) => i.key), ['kept']);
      // And a fresh snapshot never picks up such a dir's content.
      mkdirSync(`${base}/2/fs`, { recursive: true });
      writeFileSync(`${base}/2/fs/stale`, 'x');
      await sn.prepare('fresh');
      assert.deepEqual(readdirSync(await sn.layerDir('fresh')), []);
    });

    it('unpacks a chain ID once, and two concurrent unpacks commit once', async () => {
      const sn = make(scope.mkdtemp(`${kind}-root`));
      const entries = [{ name: 'once', content: 'x' }];
      const [a, b] = await Promise.all([
        unpackLayer(sn, { chainId: 'sha256:one', tar: Readable.from([await layerTar(entries)]) }),
        unpackLayer(make(sn.root), { chainId: 'sha256:one', tar: Readable.from([await layerTar(entries)]) }),
      ]);
      assert.equal(a.key, 'sha256:one');
      assert.equal(b.key, 'sha256:one');
      const again = await unpackLayer(sn, { chainId: 'sha256:one', tar: Readable.from([await layerTar(entries)]) });
      assert.equal(again.unpacked, false);
      assert.deepEqual((await sn.walk()).map((i) => [i.key, i.kind]), [['sha256:one', 'committed']]);
      // A failed unpack leaves no active snapshot behind.
      await rejectsWith(
        unpackLayer(sn, { chainId: 'sha256:bad', parentChainId: 'sha256:one', tar: Readable.from([await layerTar([{ name: '../x', content: 'x' }])]) }),
        'INVALID_ARGUMENT',
      );
      assert.deepEqual((await sn.walk()).map((i) => i.key), ['sha256:one']);
    });
  });
}
