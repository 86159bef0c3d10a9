// Hooks: each kind runs at its point of the lifecycle, in order, with the state on stdin.
// Every hook appends "<name> <state JSON>" to one log: host-side hooks through its host
// path, startContainer (which runs in the container, path resolved there) through a bind.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Bundle, RuntimeCli, Scope, describe as show, leakCheckFile, runtimeName, type HookKind } from '../../harness/index.js';

const scope = new Scope('runtime-hooks');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

// Portable between the host's sh and busybox sh; the state has no newline of its own.
const HOOK = '#!/bin/sh\nname=$1; log=$2; state=$(cat); printf "%s %s\\n" "$name" "$state" >> "$log"\n';

interface Line {
  name: string;
  state: { id: string; status: string; pid?: number; bundle: string };
}

function readLog(path: string): Line[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(' ');
      return { name: l.slice(0, i), state: JSON.parse(l.slice(i + 1)) as Line['state'] };
    });
}

function hookedBundle(extraHost: HookKind[] = []): { b: Bundle; log: string } {
  const logDir = scope.mkdtemp('hooklog');
  chmodSync(logDir, 0o777);
  const log = join(logDir, 'log');
  const b = Bundle.create(scope).readonlyRoot(false).args('sleep', '60');
  const hostHook = join(scope.dir, 'hook.sh');
  writeFileSync(hostHook, HOOK);
  chmodSync(hostHook, 0o755);
  writeFileSync(join(b.rootfs, 'hook.sh'), HOOK);
  chmodSync(join(b.rootfs, 'hook.sh'), 0o755);
  b.mount({ destination: '/hooklog', type: 'bind', source: logDir, options: ['rbind', 'rw'] });
  for (const kind of ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop', ...extraHost] as HookKind[])
    b.hook(kind, { path: hostHook, args: ['hook.sh', kind, log] });
  b.hook('startContainer', { path: '/hook.sh', args: ['hook.sh', 'startContainer', '/hooklog/log'] });
  return { b, log };
}

// runc 1.1 runs poststart hooks at the end of create, not of start (fixed in runc 1.2); the
// spec (runtime.md, lifecycle step 9) says after the user process started, before start returns.
const POSTSTART_IN_CREATE = runtimeName() === 'runc';

test('hooks run in lifecycle order: create, start, delete', async () => {
  const { b, log } = hookedBundle();
  const id = scope.uid();
  const c = await rt.create(id, b.dir);
  assert.equal(c.code, 0, show(c));
  const created = readLog(log).map((l) => l.name);
  const createPhase = ['createContainer', 'createRuntime', ...(POSTSTART_IN_CREATE ? ['poststart'] : []), 'prestart'];
  assert.deepEqual(created.slice().sort(), createPhase);
  assert.ok(created.indexOf('createRuntime') < created.indexOf('createContainer'), `createRuntime before createContainer: ${created}`);
  assert.ok(created.indexOf('prestart') < created.indexOf('createContainer'), `prestart before createContainer: ${created}`);
  assert.equal((await rt.state(id)).status, 'created');
  assert.equal((await rt.start(id)).code, 0);
  const startPhase = ['startContainer', ...(POSTSTART_IN_CREATE ? [] : ['poststart'])];
  assert.deepEqual(readLog(log).slice(createPhase.length).map((l) => l.name), startPhase, 'start runs startContainer, then poststart');
  assert.equal((await rt.kill(id, 'KILL')).code, 0);
  await rt.waitStatus(id, 'stopped');
  assert.equal(readLog(log).length, 5, 'nothing runs on kill');
  assert.equal((await rt.delete(id)).code, 0);
  const lines = readLog(log);
  assert.deepEqual(lines.slice(5).map((l) => l.name), ['poststop']);
  const { pid } = lines[0].state;
  assert.ok(pid && pid > 0, 'prestart got the container pid');
  for (const l of lines) {
    assert.equal(l.state.id, id, `${l.name}: id`);
    assert.equal(l.state.bundle, b.dir, `${l.name}: bundle`);
    // Hooks in the runtime namespace see the host pid (createContainer and startContainer run
    // in the container, where runc reports the pid as seen from there).
    if (['prestart', 'createRuntime', 'poststart'].includes(l.name)) assert.equal(l.state.pid, pid, `${l.name}: the container pid`);
  }
  if (!POSTSTART_IN_CREATE) assert.equal(lines.find((l) => l.name === 'poststart')!.state.status, 'running');
  assert.equal(lines.find((l) => l.name === 'poststop')!.state.status, 'stopped');
});

test('a failing createRuntime hook fails create, runs no later hook and leaves nothing', async () => {
  const { b, log } = hookedBundle();
  b.update((s) => void s.hooks!.createRuntime!.unshift({ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }));
  const id = scope.uid();
  const c = await rt.create(id, b.dir);
  assert.notEqual(c.code, 0, 'create fails');
  const names = readLog(log).map((l) => l.name);
  assert.ok(!names.includes('createContainer') && !names.includes('startContainer'), `later hooks did not run: ${names}`);
  assert.notEqual((await rt.run(['state', id])).code, 0, 'no container left');
});

test('a hook that outlives its timeout is killed and fails the operation', async () => {
  const b = Bundle.create(scope).args('true');
  // exec: the runtime kills the hook process; a shell's child would keep its pipes open.
  b.hook('createRuntime', { path: '/bin/sh', args: ['sh', '-c', 'exec sleep 30'], timeout: 1 });
  const id = scope.uid();
  const started = Date.now();
  const c = await rt.create(id, b.dir, [], { timeoutMs: 20_000 });
  assert.notEqual(c.code, 0);
  assert.ok(Date.now() - started < 10_000, 'the hook was not waited for 30 s');
  assert.notEqual((await rt.run(['state', id])).code, 0, 'no container left');
});
