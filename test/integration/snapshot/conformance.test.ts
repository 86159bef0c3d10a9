import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { it } from 'node:test';
import { defaultSnapshotterName, NativeSnapshotter, OverlaySnapshotter } from '../../../src/snapshot/index.js';
import { mountAll, unmountAll } from '../../../src/sys/mount.js';
import { leakCheckFile, Scope } from '../../harness/index.js';
import { snapshotterSuite } from './suite.js';

const scope = new Scope('snapshot-conformance');
leakCheckFile(scope);
snapshotterSuite('overlay', scope, (root) => new OverlaySnapshotter(root));
snapshotterSuite('native', scope, (root) => new NativeSnapshotter(root));

it('picks native for a root on overlayfs, overlay elsewhere', async () => {
  const d = scope.mkdtemp('ovl');
  for (const sub of ['lower', 'upper', 'work', 'mnt']) mkdirSync(`${d}/${sub}`);
  await mountAll([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${d}/lower`, `upperdir=${d}/upper`, `workdir=${d}/work`] }], `${d}/mnt`);
  try {
    assert.equal(defaultSnapshotterName(`${d}/mnt/berth-root/not-yet`), 'native');
    assert.equal(defaultSnapshotterName(d), (await import('node:fs')).statfsSync(d).type === 0x794c7630 ? 'native' : 'overlay');
  } finally {
    await unmountAll(`${d}/mnt`);
  }
});
