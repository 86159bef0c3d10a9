// File descriptors: nothing of the caller reaches the container unless --preserve-fds says so.
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Bundle, RuntimeCli, Scope, describe as show, leakCheckFile, parseReport } from '../../harness/index.js';

const scope = new Scope('runtime-fds');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

function openExtra(name: string): number {
  const p = join(scope.dir, name);
  writeFileSync(p, 'extra');
  const fd = openSync(p, 'r');
  scope.defer(`close ${name}`, () => closeSync(fd));
  return fd;
}

test('an fd inherited from the caller does not reach the container without --preserve-fds', async () => {
  const fd = openExtra('inherited');
  const r = await rt.runForeground(scope.uid(), Bundle.create(scope).dir, [], { extraFds: [fd, fd] });
  assert.equal(r.code, 0, show(r));
  const rep = parseReport(r.stdout);
  assert.deepEqual(rep.fds.map((f) => f.fd).sort(), [0, 1, 2], JSON.stringify(rep.fds));
  assert.ok(!rep.fds.some((f) => f.target.includes('inherited')));
});

test('--preserve-fds N passes fds 3..3+N-1 and no more', async () => {
  const a = openExtra('preserved-a');
  const b = openExtra('preserved-b');
  const c = openExtra('not-preserved-c');
  const r = await rt.runForeground(scope.uid(), Bundle.create(scope).dir, ['--preserve-fds', '2'], { extraFds: [a, b, c] });
  assert.equal(r.code, 0, show(r));
  const rep = parseReport(r.stdout);
  const byFd = new Map(rep.fds.map((f) => [f.fd, f.target]));
  assert.match(byFd.get(3) ?? '', /preserved-a$/);
  assert.match(byFd.get(4) ?? '', /preserved-b$/);
  assert.ok(!byFd.has(5), `fd 5 was not preserved: ${JSON.stringify(rep.fds)}`);
  assert.deepEqual([...byFd.keys()].sort(), [0, 1, 2, 3, 4]);
});

test('the stdio of a detached container are those of the create call', async () => {
  const b = Bundle.create(scope).args('sh', '-c', 'echo to-stdout; echo to-stderr >&2');
  const id = scope.uid();
  assert.equal((await rt.create(id, b.dir)).code, 0);
  assert.equal((await rt.start(id)).code, 0);
  await rt.waitStatus(id, 'stopped');
  assert.match(rt.output(id), /to-stdout/);
  assert.match(rt.errorOutput(id), /to-stderr/);
  assert.equal((await rt.delete(id)).code, 0);
});
