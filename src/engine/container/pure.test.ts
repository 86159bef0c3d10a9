import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFailureKind } from '../start-failure.js';
import { humanDuration } from './list.js';
import { parseRestartPolicy, restartPolicyView } from './restart-policy.js';
import { parseSignalName } from './signal.js';

test('startFailureKind: the runtimes\' words for 127 and 126', () => {
  assert.equal(startFailureKind('create container "x": exec "nosuch": executable file not found in $PATH: no such file or directory'), 'not-found');
  assert.equal(startFailureKind('runc create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH'), 'not-found');
  assert.equal(startFailureKind('exec "/etc/passwd": permission denied'), 'cannot-invoke');
  assert.equal(startFailureKind('mount rootfs: permission denied'), undefined);
  assert.equal(startFailureKind('set capabilities: operation not permitted'), undefined);
});

test('restart policies', () => {
  assert.equal(parseRestartPolicy('always'), 'always');
  assert.equal(parseRestartPolicy('on-failure:3'), 'on-failure:3');
  assert.throws(() => parseRestartPolicy('sometimes'), /invalid restart policy/);
  assert.deepEqual(restartPolicyView('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(restartPolicyView(undefined), { Name: 'no', MaximumRetryCount: 0 });
});

test('signals by name or number', () => {
  assert.deepEqual(parseSignalName('TERM'), { name: 'SIGTERM', number: 15 });
  assert.deepEqual(parseSignalName('sigkill'), { name: 'SIGKILL', number: 9 });
  assert.deepEqual(parseSignalName('10'), { name: 'SIGUSR1', number: 10 });
  assert.throws(() => parseSignalName('NOSUCH'), /invalid signal/);
});

test('humanDuration: docker\'s wording', () => {
  assert.equal(humanDuration(400), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(45_000), '45 seconds');
  assert.equal(humanDuration(70_000), 'About a minute');
  assert.equal(humanDuration(10 * 60_000), '10 minutes');
  assert.equal(humanDuration(3 * 3600_000), '3 hours');
});
