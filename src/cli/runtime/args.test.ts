import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, parseArgs, str, bool, list } from './args.js';
import { isBerthError } from '../../errors/index.js';

const FLAGS = [
  { name: 'bundle', alias: 'b', value: true },
  { name: 'force', alias: 'f' },
  { name: 'env', alias: 'e', value: true, repeat: true },
  { name: 'memory', value: true },
];

test('runc flag forms: --f v, --f=v, -f v, aliases, booleans', () => {
  const p = parseArgs(['--bundle', '/b', '-f', 'id1', '-e', 'A=1', '--env=B=2', '-force=false'], FLAGS, { what: 't' });
  assert.equal(str(p, 'bundle'), '/b');
  assert.equal(bool(p, 'force'), false);
  assert.deepEqual(list(p, 'env'), ['A=1', 'B=2']);
  assert.deepEqual(p.positional, ['id1']);
  assert.equal(str(parseArgs(['-bundle=/x'], FLAGS, { what: 't' }), 'bundle'), '/x');
});

test('exec form keeps everything after the id verbatim', () => {
  const p = parseArgs(['-e', 'X=1', 'ctr', 'sh', '-c', 'echo --bundle'], FLAGS, { what: 'exec', stopAtPositional: true });
  assert.deepEqual(p.positional, ['ctr', 'sh', '-c', 'echo --bundle']);
});

test('unknown flags and missing values are clear errors', () => {
  assert.throws(() => parseArgs(['--nope'], FLAGS, { what: 'create' }), (e) => isBerthError(e, 'INVALID_ARGUMENT') && /not defined: -nope/.test(e.message));
  assert.throws(() => parseArgs(['--bundle'], FLAGS, { what: 'create' }), /needs an argument: -bundle/);
  assert.throws(() => parseArgs(['--force=maybe'], FLAGS, { what: 'create' }), /invalid boolean/);
});

test('sizes as docker reads them', () => {
  const get = (v: string) => bytes(parseArgs(['--memory', v], FLAGS, { what: 't' }), 'memory');
  assert.equal(get('512'), 512);
  assert.equal(get('100m'), 100 * 1024 * 1024);
  assert.equal(get('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(get('64MiB'), 64 * 1024 * 1024);
  assert.equal(get('-1'), -1);
  assert.throws(() => get('lots'), /invalid size/);
});
