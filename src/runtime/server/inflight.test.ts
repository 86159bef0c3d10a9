import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimOf } from './inflight.js';
import { encodeBytes, parseRequest } from './protocol.js';

const req = (argv: string[], cwd = '/work') => ({ buildId: 'b', cwd, umask: 0o22, argv });

test('claimOf finds the root and id of create and run, whatever the flag forms', () => {
  assert.deepEqual(claimOf(req(['create', 'c1'])), { root: '/run/berth-runtime', id: 'c1' });
  assert.deepEqual(claimOf(req(['--root', 'state', '--log=l', 'create', '--bundle', 'b', '--pid-file=p', 'c2'])), { root: '/work/state', id: 'c2' });
  assert.deepEqual(claimOf(req(['--root=/r', '--debug', 'run', '-d', '--keep', '-b', '.', '--preserve-fds', '2', 'c3'])), { root: '/r', id: 'c3' });
  assert.deepEqual(claimOf(req(['run', '--', 'c4'])), { root: '/run/berth-runtime', id: 'c4' });
  assert.equal(claimOf(req(['state', 'c1'])), undefined);
  assert.equal(claimOf(req(['exec', 'c1', 'create'])), undefined);
  assert.equal(claimOf(req(['create'])), undefined);
});

test('requests parse from percent-encoded lines; output bytes encode losslessly', () => {
  const r = parseRequest(['BERTH-RUNTIME 1 id%20x', 'CWD /a%20b', 'UMASK 27', 'ARG ~', 'ARG state', 'ARG %E2%9C%93']);
  assert.deepEqual(r, { buildId: 'id x', cwd: '/a b', umask: 0o27, argv: ['', 'state', '✓'] });
  assert.throws(() => parseRequest(['HELLO']), /bad request head/);
  assert.throws(() => parseRequest(['BERTH-RUNTIME 1 x', 'CWD rel']), /not absolute/);
  assert.equal(encodeBytes(Buffer.from('a b\n\0~')), 'a%20b%0A%00%7E');
  assert.equal(encodeBytes(Buffer.alloc(0)), '~');
});
