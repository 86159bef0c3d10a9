import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBerthError } from '../errors/index.js';
import { compactOptions } from './mount.js';

describe('compactOptions', () => {
  const root = `/var/lib/${'x'.repeat(80)}/snapshots/overlay`;
  const lowers = (n: number): string => Array.from({ length: n }, (_, i) => `${root}/${n - i}/fs`).join(':');

  it('leaves short options alone', () => {
    const opts = ['index=off', `upperdir=${root}/9/fs`, `lowerdir=${lowers(3)}`];
    assert.deepEqual(compactOptions(opts), { options: opts });
  });
  it('makes long lowerdir lists relative to their common dir', () => {
    const opts = ['index=off', `workdir=${root}/99/work`, `upperdir=${root}/99/fs`, `lowerdir=${lowers(60)}`];
    const { options, cwd } = compactOptions(opts);
    assert.equal(cwd, root);
    assert.ok(options.join(',').length <= 4095);
    assert.ok(options[3].startsWith('lowerdir=60/fs:59/fs:'));
    assert.equal(options[2], opts[2]);
  });
  it('fails clearly when even relative paths do not fit', () => {
    assert.throws(() => compactOptions([`lowerdir=${lowers(900)}`]), (e: unknown) => isBerthError(e, 'RESOURCE_EXHAUSTED'));
  });
});
