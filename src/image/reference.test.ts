import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/index.js';
import { familiarString, formatReference, parseReference } from './reference.js';

const D = 'sha256:' + 'ab'.repeat(32);

test('normalizes references the way docker does', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['team/app', 'docker.io/team/app:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/team/app:1.2', 'localhost:5000/team/app:1.2'],
    ['127.0.0.1:5000/a/b/c:v_1.0-rc', '127.0.0.1:5000/a/b/c:v_1.0-rc'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`],
    ['Registry.Example:443/x', 'Registry.Example:443/x:latest'],
    ['a.b/c__d-e.f', 'a.b/c__d-e.f:latest'],
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseReference(input)), want, input);
});

test('familiar form leaves the defaults out', () => {
  assert.equal(familiarString(parseReference('busybox')), 'busybox:latest');
  assert.equal(familiarString(parseReference('team/app:2')), 'team/app:2');
  assert.equal(familiarString(parseReference('localhost:5000/x:1')), 'localhost:5000/x:1');
});

test('refuses malformed references', () => {
  const bad = [
    '',
    'Busybox',
    'busybox:',
    'busybox:-x',
    'busybox@sha256:abc',
    `busybox@sha256:${'AB'.repeat(32)}`,
    'a//b',
    '/a',
    'a/',
    'a b',
    'host:5000/UPPER',
    '-a',
    'a--',
    'x:' + 't'.repeat(129),
    'h.example/' + 'a'.repeat(250),
    'ab'.repeat(32),
    ':tag',
    '@' + D,
    `a@md5:${'0'.repeat(32)}`,
  ];
  for (const input of bad) {
    assert.throws(() => parseReference(input), (e: unknown) => isBerthError(e), JSON.stringify(input));
  }
});
