// The runtime server behind the C front end (docs/runtime-server.md): fallback and start,
// stale builds, a server killed mid-create, concurrent creates of one id, non-root callers.
// Each test uses a private socket (BERTH_RUNTIME_SERVER_SOCKET) in the scope, and stops the
// servers it started.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Bundle, RuntimeCli, Scope, describe as show, exec, leakCheckFile, repoRoot } from '../../harness/index.js';

const scope = new Scope('runtime-server');
leakCheckFile(scope);

const FRONT = join(repoRoot(), 'native/build/berth-runtime');
const SERVER = join(repoRoot(), 'dist/bin/berth-runtime-server.mjs');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

/** A private server place: socket, log, and a runtime CLI (the front end) that uses it. */
class Place {
  readonly dir = scope.mkdtemp('srv');
  readonly socket = join(this.dir, 's.sock');
  readonly log = join(this.dir, 'log');
  readonly env = { ...process.env, BERTH_RUNTIME_SERVER_SOCKET: this.socket, BERTH_RUNTIME_SERVER_LOG: this.log, BERTH_RUNTIME_NO_SERVER: '' };
  readonly rt = new RuntimeCli(scope, FRONT);

  constructor() {
    scope.defer(`stop the servers of ${this.dir}`, () => this.stopAll());
  }

  run(args: string[], opts: { stdioFiles?: { stdout: string; stderr: string } } = {}) {
    return this.rt.run(args, { env: this.env, ...opts });
  }

  lines(): string[] {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** Pids of the servers that logged "listening" here. */
  pids(): number[] {
    return this.lines()
      .filter((l) => l.includes(' listening on '))
      .map((l) => Number(l.split(' ')[1]));
  }

  requests(): string[] {
    return this.lines().filter((l) => l.includes(' request from '));
  }

  /** Wait until a server (not one of `except`) listens; returns its pid. */
  async waitListening(except: number[] = []): Promise<number> {
    for (let i = 0; i < 200; i++) {
      const p = this.pids().find((x) => !except.includes(x) && alive(x));
      if (p && existsSync(this.socket)) return p;
      await sleep(50);
    }
    throw new Error(`no runtime server listening on ${this.socket}; log:\n${this.lines().join('\n')}`);
  }

  async stopAll(): Promise<void> {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (let i = 0; i < 100 && this.pids().some(alive); i++) await sleep(50);
  }
}


test('the first call without a server runs the Node command and starts a server; the next call uses it', async () => {
  const p = new Place();
  const first = await p.run(['list']);
  assert.equal(first.code, 0, show(first));
  const pid = await p.waitListening();
  assert.equal(p.requests().length, 0, 'the first call was not served by the server');
  const second = await p.run(['list']);
  assert.equal(second.code, 0, show(second));
  assert.equal(second.stdout, first.stdout, 'same output either way');
  assert.equal(p.requests().length, 1, 'the second call went to the server');
  const missing = await p.run(['state', 'no-such-container']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /container "no-such-container" does not exist/);
  assert.ok(alive(pid));
});

test('a server of another build exits on the first call, and the call still succeeds', async () => {
  const p = new Place();
  mkdirSync(p.dir, { recursive: true });
  const stale = spawn(process.execPath, [SERVER, '--socket', p.socket, '--build-id', 'some-older-build'], {
    env: p.env,
    stdio: 'ignore',
    detached: true,
  });
  const stalePid = await p.waitListening();
  assert.equal(stalePid, stale.pid);
  const r = await p.run(['list']);
  assert.equal(r.code, 0, show(r));
  for (let i = 0; i < 100 && alive(stalePid); i++) await sleep(50);
  assert.ok(!alive(stalePid), 'the stale server exited');
  const fresh = await p.waitListening([stalePid]);
  const again = await p.run(['list']);
  assert.equal(again.code, 0, show(again));
  assert.ok(p.requests().some((l) => l.includes(` ${fresh} request`)), 'the new server served the next call');
});

test('a server killed in the middle of create leaves nothing behind, and the next call works', async () => {
  const p = new Place();
  assert.equal((await p.run(['list'])).code, 0);
  const server = await p.waitListening();
  const marker = join(p.dir, 'hook-started');
  const hookPid = join(p.dir, 'hook-pid');
  const hook = join(p.dir, 'hook.sh');
  writeFileSync(hook, `#!/bin/sh\necho $$ > ${hookPid}\ntouch ${marker}\nexec sleep 30\n`);
  chmodSync(hook, 0o755);
  const b = Bundle.create(scope).args('true').hook('createRuntime', { path: hook });
  const id = scope.uid();
  const files = { stdout: join(p.dir, 'out'), stderr: join(p.dir, 'err') };
  const creating = p.run(['create', '--bundle', b.dir, id], { stdioFiles: files });
  for (let i = 0; i < 200 && !existsSync(marker); i++) await sleep(50);
  assert.ok(existsSync(marker), 'the createRuntime hook runs');
  assert.ok(existsSync(join(p.rt.root, id)), 'the container is half created');
  process.kill(server, 'SIGKILL');
  const r = await creating;
  assert.notEqual(r.code, 0, `create fails when its server dies: ${show(r)}`);
  // the hook was the dead server's child; this test made it, this test ends it
  process.kill(Number(readFileSync(hookPid, 'utf8')), 'SIGKILL');
  // the next call runs the Node command and starts a server, which sweeps what was left
  const list = await p.run(['list']);
  assert.equal(list.code, 0, show(list));
  await p.waitListening([server]);
  for (let i = 0; i < 100 && existsSync(join(p.rt.root, id)); i++) await sleep(50);
  assert.ok(!existsSync(join(p.rt.root, id)), `the half-created state dir is gone; server log:\n${p.lines().join('\n')}`);
  assert.deepEqual(readdirSync(`${p.socket}.inflight`), [], 'the journal is empty');
  // and the id can be used again, through the new server
  const b2 = Bundle.create(scope).args('true');
  const c = await p.run(['create', '--bundle', b2.dir, id], { stdioFiles: files });
  assert.equal(c.code, 0, show(c));
  assert.equal((await p.run(['delete', '--force', id])).code, 0);
});

test('concurrent creates of one id through the server: exactly one succeeds', async () => {
  const p = new Place();
  await p.run(['list']);
  await p.waitListening();
  const b = Bundle.create(scope).args('true');
  const id = scope.uid();
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      p.run(['create', '--bundle', b.dir, id], { stdioFiles: { stdout: join(p.dir, `o${i}`), stderr: join(p.dir, `e${i}`) } }),
    ),
  );
  const ok = results.filter((r) => r.code === 0);
  assert.equal(ok.length, 1, results.map(show).join('\n'));
  for (const r of results.filter((x) => x.code !== 0)) assert.match(r.stderr, /already exists/, show(r));
  assert.equal(p.requests().length, 6, 'all six went through the server');
  const st = await p.rt.state(id);
  assert.equal(st.status, 'created');
  assert.equal((await p.run(['delete', '--force', id])).code, 0);
});

test('a caller that is not root is refused by the server (SO_PEERCRED), even when it can reach the socket', async (t) => {
  const nobody = await exec('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'true']);
  if (nobody.code !== 0) return t.skip(`setpriv cannot switch to uid 65534: ${nobody.stderr.trim()}`);
  const p = new Place();
  await p.run(['list']);
  await p.waitListening();
  // open the way on purpose: the dirs and the socket are root-only by default
  chmodSync(scope.dir, 0o711);
  chmodSync(p.dir, 0o711);
  chmodSync(p.socket, 0o666);
  const client = `const s=require('net').connect(${JSON.stringify(p.socket)});let d='';
s.on('data',(b)=>d+=b);s.on('close',()=>{process.stdout.write(d);});s.on('error',(e)=>{process.stdout.write('ERR '+e.code);});
s.write('BERTH-RUNTIME 1 x\\nCWD /\\nUMASK 22\\nARG list\\nEND\\n');`;
  const r = await exec('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '-e', client]);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'DENIED\n', show(r));
  assert.ok(p.lines().some((l) => l.includes('refused uid 65534')), 'the server logged the refusal');
  // root is still served
  assert.equal((await p.run(['list'])).code, 0);
});
