import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges } from './challenge.js';

test('parses Bearer and Basic challenges', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.test/token",service="reg.test",scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.test/token', service: 'reg.test', scope: 'repository:a/b:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="x \\"y\\"", Bearer realm=r'), [
    { scheme: 'basic', params: { realm: 'x "y"' } },
    { scheme: 'bearer', params: { realm: 'r' } },
  ]);
  assert.deepEqual(parseChallenges(undefined), []);
  assert.deepEqual(parseChallenges('Basic'), [{ scheme: 'basic', params: {} }]);
});
