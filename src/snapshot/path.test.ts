import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../errors/index.js';
import { cleanEntryPath, RootDirs } from './path.js';

const invalid = (err: unknown): boolean => isBerthError(err, 'INVALID_ARGUMENT');

describe('cleanEntryPath', () => {
  it('normalizes harmless names', () => {
    assert.equal(cleanEntryPath('./etc/passwd'), 'etc/passwd');
    assert.equal(cleanEntryPath('usr//bin/'), 'usr/bin');
    assert.equal(cleanEntryPath('a/../b'), 'b');
    assert.equal(cleanEntryPath('a/b/../../c/./d'), 'c/d');
    assert.equal(cleanEntryPath('./'), '');
    assert.equal(cleanEntryPath('..foo/..bar'), '..foo/..bar');
  });
  it('refuses absolute paths, climbing out, and NUL', () => {
    for (const bad of ['/etc/passwd', '../x', '../../etc/x', 'a/../../x', './..', 'a/b/../../../x', 'a\0b']) {
      assert.throws(() => cleanEntryPath(bad), invalid, bad);
    }
  });
});

describe('RootDirs', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-path-unit-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates missing parents as real directories', () => {
    const dirs = new RootDirs(root);
    assert.equal(dirs.dir('a/b/c', 'a/b/c/x', true), `${root}/a/b/c`);
    assert.ok(existsSync(`${root}/a/b/c`));
    assert.equal(dirs.dir('missing/x', 'missing/x/y', false), null);
  });
  it('refuses a symlink anywhere in the parent path, wherever it points', () => {
    mkdirSync(`${root}/s`);
    symlinkSync('/', `${root}/s/up`);
    symlinkSync('../..', `${root}/s/rel`);
    symlinkSync('.', `${root}/s/self`);
    const dirs = new RootDirs(root);
    for (const p of ['s/up', 's/up/etc', 's/rel', 's/self/x']) assert.throws(() => dirs.dir(p, p, true), invalid, p);
    assert.equal(existsSync('/etc/x'), false);
  });
  it('refuses a file used as a directory', () => {
    writeFileSync(`${root}/file`, 'x');
    const dirs = new RootDirs(root);
    assert.throws(() => dirs.dir('file/x', 'file/x/y', true), invalid);
  });
  it('re-checks a path after forget (a dir replaced by a symlink)', () => {
    const dirs = new RootDirs(root);
    mkdirSync(`${root}/swap`);
    assert.ok(dirs.dir('swap', 'swap/x', true));
    rmSync(`${root}/swap`, { recursive: true });
    symlinkSync('/', `${root}/swap`);
    dirs.forget('swap');
    assert.throws(() => dirs.dir('swap', 'swap/x', true), invalid);
  });
});
