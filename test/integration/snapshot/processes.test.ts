/**
 * Several berth processes on one snapshot root: two unpacking the same chain ID at once
 * commit it once; one killed mid-unpack leaves nothing that breaks the next unpack.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OverlaySnapshotter, unpackLayer } from '../../../src/snapshot/index.js';
import { leakCheckFile, Scope } from '../../harness/index.js';
import { layerTar } from './layers.js';

const scope = new Scope('snapshot-processes');
leakCheckFile(scope);

const index = fileURLToPath(new URL('../../../src/snapshot/index.js', import.meta.url));

/**
 * A child process that waits for `go` to exist, then unpacks `tarFile` (in slices, slowly
 * when `slow`) as chainId, and prints the result as JSON.
 */
function unpackInChild(root: string, tarFile: string, go: string, slow: boolean): { done: Promise<{ code: number | null; out: string }>; pid: number } {
  const src = `
    import { readFileSync, existsSync } from 'node:fs';
    import { Readable } from 'node:stream';
    import { OverlaySnapshotter, unpackLayer } from ${JSON.stringify(index)};
    while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5));
    const tar = readFileSync(${JSON.stringify(tarFile)});
    async function* slices() {
      for (let i = 0; i < tar.length; i += 65536) {
        if (${slow}) await new Promise((r) => setTimeout(r, 20));
        yield tar.subarray(i, i + 65536);
      }
    }
    const r = await unpackLayer(new OverlaySnapshotter(${JSON.stringify(root)}), { chainId: 'sha256:race', tar: Readable.from(slices()) });
    process.stdout.write(JSON.stringify(r));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.on('close', (code) => resolve({ code, out })));
  return { done, pid: child.pid as number };
}

const files = Array.from({ length: 400 }, (_, i) => ({ name: `d${i % 10}/f${i}`, content: `file ${i}`.repeat(50) }));

describe('several processes on one snapshot root', () => {
  it('two processes unpacking one chain ID at once commit it once', async () => {
    const root = scope.mkdtemp('race');
    const tarFile = `${scope.dir}/race.tar`;
    writeFileSync(tarFile, await layerTar(files));
    const go = `${scope.dir}/go-race`;
    const a = unpackInChild(root, tarFile, go, false);
    const b = unpackInChild(root, tarFile, go, false);
    writeFileSync(go, '');
    const results = await Promise.all([a.done, b.done]);
    for (const r of results) assert.equal(r.code, 0);
    const unpacked = results.map((r) => (JSON.parse(r.out) as { key: string; unpacked: boolean }).unpacked);
    assert.equal(unpacked.filter(Boolean).length, 1, `unpacked: ${JSON.stringify(unpacked)}`);
    const sn = new OverlaySnapshotter(root);
    assert.deepEqual((await sn.walk()).map((i) => [i.key, i.kind]), [['sha256:race', 'committed']]);
    assert.equal(readdirSync(`${root}/snapshots/overlay`).filter((n) => /^\d+$/.test(n)).length, 1);
  });

  it('a process killed mid-unpack leaves an extract snapshot for GC, and the next unpack succeeds', async () => {
    const root = scope.mkdtemp('kill');
    const tarFile = `${scope.dir}/kill.tar`;
    writeFileSync(tarFile, await layerTar(files));
    const go = `${scope.dir}/go-kill`;
    const child = unpackInChild(root, tarFile, go, true);
    writeFileSync(go, '');
    const sn = new OverlaySnapshotter(root);
    // Wait until its active snapshot exists and has content, then kill -9.
    for (let i = 0; i < 500; i++) {
      const active = (await sn.walk()).find((s) => s.kind === 'active');
      if (active && readdirSync(await sn.layerDir(active.key)).length > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    process.kill(child.pid, 'SIGKILL');
    const { code } = await child.done;
    assert.equal(code, null);
    const left = await sn.walk();
    assert.equal(left.length, 1);
    assert.match(left[0].key, /^extract-[0-9a-f]+-sha256:race$/);
    const r = await unpackLayer(sn, { chainId: 'sha256:race', tar: Readable.from([await layerTar(files)]) });
    assert.equal(r.unpacked, true);
    await sn.remove(left[0].key); // what the image GC does with dead extract-* snapshots
    await sn.cleanup();
    assert.deepEqual((await sn.walk()).map((i) => i.key), ['sha256:race']);
    // Only the committed snapshot's dir is left: no new-*/rm-* leftovers, no orphan ids.
    assert.deepEqual(readdirSync(`${root}/snapshots/overlay`).filter((n) => n !== 'l').length, 1);
  });
});
