/**
 * execProcess into a running container: same namespaces as its init, the process's own
 * user/env/cwd, exit status relayed, errors named.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isBerthError } from '../../../src/errors/index.js';
import { execProcess } from '../../../src/runtime/exec.js';
import { launchContainer, releaseContainer } from '../../../src/runtime/launch.js';
import { validateSpec } from '../../../src/spec/validate.js';
import type { Process } from '../../../src/spec/runtime.js';
import { Scope, leakCheckFile } from '../../harness/index.js';
import { makeBundle as makeBundleIn, type TestBundle } from './_bundle.js';
import { mountsUnder, processesIn, withOut } from './_run.js';

const root = process.getuid?.() === 0;
const scope = new Scope('runtime-native-exec');
leakCheckFile(scope);
const makeBundle = () => makeBundleIn(scope.dir);

describe('runtime-native: exec', { skip: root ? false : 'needs root (namespaces, mounts)', timeout: 180_000 }, () => {
  let b: TestBundle;
  let pid = 0;
  let wait: (() => Promise<number>) | undefined;
  let out = '';

  after(async () => {
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await wait?.();
    }
    assert.deepEqual(processesIn(b.dir), []);
    assert.deepEqual(mountsUnder(b.dir), []);
    b.remove();
  });

  const proc = (script: string, extra: Partial<Process> = {}): Process => ({
    user: { uid: 0, gid: 0 },
    cwd: '/',
    env: ['PATH=/bin', 'WHO=exec'],
    args: ['sh', '-c', script],
    ...extra,
  });

  it('starts a long-running container', async () => {
    b = makeBundle();
    out = withOut(b);
    b.spec.hostname = 'exec-test';
    b.spec.process!.args = ['sleep', '1000'];
    const spec = validateSpec(b.spec, b.dir);
    const l = await launchContainer({ id: 'e', bundle: b.dir, spec, stateDir: b.stateDir, cgroupProcsFiles: [], foreground: true });
    pid = l.pid;
    wait = l.wait;
    await releaseContainer(b.stateDir, pid);
    // start returns once the init is released; its execve follows at once
    for (let i = 0; i < 500 && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'); i++) {
      await new Promise((r) => setTimeout(r, 2));
    }
  });

  it('joins the init\'s namespaces and root, and relays the exit status', async () => {
    const e = await execProcess({
      pid,
      spec: b.spec,
      process: proc('exec >/out/exec 2>&1; hostname; echo $WHO; cat /proc/1/cmdline | tr "\\0" " "; echo; ls /proc | grep -c "^[0-9]"; readlink /proc/self/ns/pid; exit 7'),
      cgroupProcsFiles: [],
      detach: false,
    });
    assert.ok(e.pid > 0 && e.wait);
    assert.equal(await e.wait!(), 7);
    const lines = readFileSync(`${out}/exec`, 'utf8').split('\n');
    assert.equal(lines[0], 'exec-test');
    assert.equal(lines[1], 'exec');
    assert.equal(lines[2], 'sleep 1000 ');
    assert.equal(lines[4], readlinkSync(`/proc/${pid}/ns/pid`), 'same pid namespace as the init');
    for (const ns of ['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup']) {
      assert.notEqual(readlinkSync(`/proc/${pid}/ns/${ns}`), readlinkSync(`/proc/self/ns/${ns}`), ns);
    }
  });

  it('applies the process user, capabilities and no_new_privs; detach returns at once', async () => {
    const e = await execProcess({
      pid,
      spec: b.spec,
      process: proc('exec >/out/exec2 2>&1; id; grep -E "CapEff|NoNewPrivs" /proc/self/status; pwd', {
        user: { uid: 1000, gid: 1000, additionalGids: [5] },
        cwd: '/tmp',
        noNewPrivileges: true,
        // a non-root user keeps capabilities across execve only through the ambient set
        capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] },
      }),
      cgroupProcsFiles: [],
      detach: true,
    });
    assert.ok(e.pid > 0 && !e.wait);
    const done = () => existsSync(`${out}/exec2`) && readFileSync(`${out}/exec2`, 'utf8').includes('/tmp');
    for (let i = 0; i < 300 && !done(); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const got = readFileSync(`${out}/exec2`, 'utf8');
    assert.match(got, /uid=1000 gid=1000 groups=5/);
    assert.match(got, /CapEff:\s+0000000000000020/);
    assert.match(got, /NoNewPrivs:\s+1/);
    assert.match(got, /\/tmp/);
  });

  it('exec with a terminal sends its own pty master over the console socket', async () => {
    const sock = join(b.dir, 'exec-console.sock');
    const got = join(b.dir, 'exec-console.out');
    const recv = spawn('python3', [new URL('../../../../test/integration/runtime-native/console-receiver.py', import.meta.url).pathname, sock, got], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // listen for the exit now: the receiver may finish before the process's status arrives
    const recvExit = once(recv, 'exit');
    await once(recv.stdout!, 'data');
    const e = await execProcess({
      pid,
      spec: b.spec,
      process: proc('tty; stty size; hostname', { terminal: true, consoleSize: { height: 10, width: 20 } }),
      cgroupProcsFiles: [],
      consoleSocket: sock,
      detach: false,
    });
    assert.equal(await e.wait!(), 0);
    await recvExit;
    assert.match(readFileSync(got, 'utf8').replace(/\r/g, ''), /^\/dev\/pts\/\d+\n10 20\nexec-test\n$/);
  });

  it('reports a missing program and a bad cwd as errors', async () => {
    await assert.rejects(
      execProcess({ pid, spec: b.spec, process: proc('x', { args: ['nope'] }), cgroupProcsFiles: [], detach: false }),
      (e: unknown) => isBerthError(e, 'NOT_FOUND') && /exec "nope": executable file not found/.test((e as Error).message),
    );
    await assert.rejects(
      execProcess({ pid, spec: b.spec, process: proc('true', { cwd: '/proc/self/fd/5' }), cgroupProcsFiles: [], detach: false }),
      /cwd/,
    );
  });

  it('fails cleanly once the container is gone', async () => {
    process.kill(pid, 'SIGKILL');
    assert.equal(await wait!(), 137);
    const dead = pid;
    pid = 0;
    await assert.rejects(
      execProcess({ pid: dead, spec: b.spec, process: proc('true'), cgroupProcsFiles: [], detach: false }),
      (e: unknown) => isBerthError(e, 'FAILED_PRECONDITION'),
    );
  });
});
