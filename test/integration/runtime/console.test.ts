// Terminals: --console-socket (the pty master handed over SCM_RIGHTS) and `run` in the
// foreground on the caller's own terminal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bundle, ConsoleReceiver, RuntimeCli, Scope, describe as show, execPty, leakCheckFile, parseReport } from '../../harness/index.js';

const scope = new Scope('runtime-console');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

test('create --console-socket: the process runs on /dev/pts/0 and its output comes through the pty', async () => {
  const b = Bundle.create(scope, { terminal: true }).args('sh', '-c', 'tty; /checker; echo done');
  const rx = await ConsoleReceiver.start(scope);
  const id = scope.uid();
  const c = await rt.create(id, b.dir, ['--console-socket', rx.socketPath]);
  assert.equal(c.code, 0, show(c));
  assert.ok(rx.received, 'the runtime sent the pty master during create');
  assert.equal((await rt.start(id)).code, 0);
  const out = await rx.waitFor(/done\r?\n/);
  assert.match(out, /^\/dev\/pts\/0\r?\n/);
  const json = out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1);
  const rep = parseReport(json);
  assert.deepEqual(rep.tty, ['/dev/pts/0', '/dev/pts/0', '/dev/pts/0'], 'stdin, stdout and stderr are the pty');
  assert.ok(rep.fds.every((f) => f.fd > 2 || f.target === '/dev/pts/0'), JSON.stringify(rep.fds));
  await rt.waitStatus(id, 'stopped');
  assert.equal((await rt.delete(id)).code, 0);
});

test('keystrokes written to the pty master reach the process', async () => {
  const b = Bundle.create(scope, { terminal: true }).args('sh', '-c', 'stty -echo; echo ready; read line; echo "got:$line"');
  const rx = await ConsoleReceiver.start(scope);
  const id = scope.uid();
  assert.equal((await rt.runDetached(id, b.dir, ['--console-socket', rx.socketPath])).code, 0);
  await rx.waitFor('ready');
  rx.write('hello pty\n');
  await rx.waitFor('got:hello pty');
  await rt.waitStatus(id, 'stopped');
  assert.equal((await rt.delete(id)).code, 0);
});

test('consoleSize sets the window size of the pty', async () => {
  const b = Bundle.create(scope, { terminal: true })
    .update((s) => void (s.process!.consoleSize = { height: 33, width: 101 }))
    .args('stty', 'size');
  const rx = await ConsoleReceiver.start(scope);
  const id = scope.uid();
  assert.equal((await rt.create(id, b.dir, ['--console-socket', rx.socketPath])).code, 0);
  assert.equal((await rt.start(id)).code, 0);
  await rx.waitFor(/33 101/);
  await rt.waitStatus(id, 'stopped');
  assert.equal((await rt.delete(id)).code, 0);
});

test('terminal: true without --console-socket on a detached create is refused', async () => {
  const b = Bundle.create(scope, { terminal: true }).args('true');
  const id = scope.uid();
  const r = await rt.create(id, b.dir);
  assert.notEqual(r.code, 0, 'nowhere to send the pty master');
  assert.notEqual((await rt.run(['state', id])).code, 0, 'no container left behind');
});

test('run in the foreground with terminal: true uses the caller terminal', async () => {
  const b = Bundle.create(scope, { terminal: true }).args('sh', '-c', 'tty; exit 5');
  const id = scope.uid();
  const r = await execPty(rt.binary, ['--root', rt.root, 'run', '--bundle', b.dir, id], { timeoutMs: 20_000 });
  assert.equal(r.code, 5, show(r));
  assert.match(r.stdout, /\/dev\/pts\/0/);
});

test('exec --tty --console-socket gives the exec\'d process its own pty', async () => {
  const b = Bundle.create(scope).args('sleep', '60');
  const id = scope.uid();
  assert.equal((await rt.runDetached(id, b.dir)).code, 0);
  const rx = await ConsoleReceiver.start(scope);
  const e = await rt.run(['exec', '--tty', '--console-socket', rx.socketPath, '--detach', id, 'sh', '-c', 'tty; echo exec-done'], {
    stdioFiles: rt.stdioFiles(`${id}-exec`),
  });
  assert.equal(e.code, 0, show(e));
  const out = await rx.waitFor('exec-done');
  assert.match(out, /^\/dev\/pts\/\d+\r?\n/);
  assert.equal((await rt.delete(id, true)).code, 0);
});
