import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOST_ROOT_IN_IDMAP, idmapLines, overlayLayers } from './idmap.js';

test('overlayLayers: an active overlay snapshot; anything else cannot be idmapped here', () => {
  const active = {
    type: 'overlay',
    source: 'overlay',
    options: ['index=off', 'workdir=/r/snapshots/overlay/9/work', 'upperdir=/r/snapshots/overlay/9/fs', 'lowerdir=/r/snapshots/overlay/2/fs:/r/l/1'],
  };
  assert.deepEqual(overlayLayers([active]), {
    lowers: ['/r/snapshots/overlay/2/fs', '/r/l/1'],
    upperParent: '/r/snapshots/overlay/9',
    upperName: 'fs',
    workName: 'work',
    data: ['index=off'],
  });
  // a snapshot without parents or a native one is a bind mount; a view has no upper dir
  assert.equal(overlayLayers([{ type: 'bind', source: '/r/snapshots/native/3', options: ['rw', 'rbind'] }]), undefined);
  assert.equal(overlayLayers([{ type: 'overlay', source: 'overlay', options: ['ro', 'lowerdir=/a:/b'] }]), undefined);
  // upper and work on different parents cannot share one idmapped clone
  assert.equal(overlayLayers([{ ...active, options: ['workdir=/x/work', 'upperdir=/y/fs', 'lowerdir=/a'] }]), undefined);
  // relative lowers (mount(8) in a cwd) and mount flags are left to the plain path
  assert.equal(overlayLayers([{ ...active, options: ['workdir=/x/work', 'upperdir=/x/fs', 'lowerdir=a:b'] }]), undefined);
  assert.equal(overlayLayers([{ ...active, options: ['nosuid', 'workdir=/x/work', 'upperdir=/x/fs', 'lowerdir=/a'] }]), undefined);
  assert.equal(overlayLayers([active, active]), undefined);
});

test('idmapLines: the container range, and host root at (uid_t)-2', () => {
  assert.equal(idmapLines(165536, 65536), `0 165536 65536\n${HOST_ROOT_IN_IDMAP} 0 1\n`);
  assert.equal(HOST_ROOT_IN_IDMAP, 2 ** 32 - 2);
});
