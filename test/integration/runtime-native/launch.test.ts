/**
 * launchContainer/releaseContainer against the real kernel, on a busybox bundle: what the
 * container sees from inside (written to a bind-mounted /out) and what is left outside.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsMod from 'node:fs';
import { existsSync, readlinkSync } from 'node:fs';
import { isBerthError } from '../../../src/errors/index.js';
import { launchContainer, releaseContainer } from '../../../src/runtime/launch.js';
import { validateSpec } from '../../../src/spec/validate.js';
import { Scope, leakCheckFile } from '../../harness/index.js';
import { makeBundle as makeBundleIn, type TestBundle } from './_bundle.js';
import { mountsUnder, processesIn, runScript } from './_run.js';

const root = process.getuid?.() === 0;
const scope = new Scope('runtime-native-launch');
leakCheckFile(scope);
const makeBundle = () => makeBundleIn(scope.dir);
const bundles: TestBundle[] = [];
function bundle(): TestBundle {
  const b = makeBundle();
  bundles.push(b);
  return b;
}

describe('runtime-native: launch', { skip: root ? false : 'needs root (namespaces, mounts)', timeout: 180_000 }, () => {
  after(() => {
    for (const b of bundles) {
      assert.deepEqual(mountsUnder(b.dir), [], `mounts left under ${b.dir}`);
      assert.deepEqual(processesIn(b.dir), [], `processes left in ${b.dir}`);
      b.remove();
    }
  });

  it('runs echo hi in new namespaces with pivot_root, hostname and a read-only root', async () => {
    const b = bundle();
    b.spec.hostname = 'berth-test';
    const r = await runScript(
      b,
      'echo hi; hostname; echo pid=$$; echo home=$HOME; ls /; touch /x && echo WROTE || echo ROFAIL; cat /proc/self/status; cat /proc/self/mountinfo',
    );
    assert.equal(r.status, 0, r.out);
    const lines = r.out.split('\n');
    assert.equal(lines[0], 'hi');
    assert.equal(lines[1], 'berth-test');
    assert.equal(lines[2], 'pid=1');
    assert.equal(lines[3], 'home=/root', 'HOME from the container\'s /etc/passwd');
    assert.ok(r.out.includes('ROFAIL') && !r.out.includes('WROTE'), 'root must be read-only');
    assert.match(r.out, /NoNewPrivs:\s+1/);
    assert.match(r.out, /SigIgn:\s+0000000000000000/, 'no signal ignored by the helper leaks in');
    assert.match(r.out, /SigBlk:\s+0000000000000000/);
    // CAP_AUDIT_WRITE(29) CAP_KILL(5) CAP_NET_BIND_SERVICE(10) = 0x20000420
    assert.match(r.out, /CapBnd:\s+0000000020000420/);
    assert.match(r.out, /CapEff:\s+0000000020000420/);
    assert.match(r.out, /CapInh:\s+0000000000000000/);
    // the host's root is not in the container's mount table
    const points = r.out.split('\n').filter((l) => /^\d+ \d+ \d+:\d+ /.test(l)).map((l) => l.split(' ')[4]);
    assert.ok(points.includes('/') && points.includes('/proc') && points.includes('/out'), points.join(' '));
    assert.ok(!points.some((p) => p.includes(b.dir)), 'no mount point outside the container');
    // namespaces differ from ours
    assert.notEqual(readlinkSync('/proc/self/ns/pid'), '');
  });

  it('applies user, groups, umask, cwd, env and rlimits', async () => {
    const b = bundle();
    b.spec.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o077 };
    b.spec.process!.cwd = '/tmp/work';
    b.spec.process!.env!.push('GREETING=hello world');
    b.spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 512, soft: 256 }];
    b.spec.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
    const r = await runScript(b, 'id -u; id -g; id -G; umask; pwd; echo "$GREETING"; ulimit -n; ulimit -Hn; echo $HOME');
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(r.out.trim().split('\n'), ['1000', '1000', '1000 10 20', '0077', '/tmp/work', 'hello world', '256', '512', '/']);
  });

  it('masks and read-only paths take effect; /dev has the default devices', async () => {
    const b = bundle();
    const r = await runScript(
      b,
      'cat /proc/timer_list | wc -c; ls /proc/acpi | wc -l; echo 1 > /proc/sys/kernel/ns_last_pid && echo SYSW || echo SYSRO; ' +
        'ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; readlink /dev/ptmx; readlink /dev/fd; ' +
        'echo x > /dev/null && echo NULLOK; head -c 4 /dev/zero | wc -c',
    );
    assert.equal(r.status, 0, r.out);
    const lines = r.out.split('\n');
    assert.equal(lines[0], '0', '/proc/timer_list masked by /dev/null');
    assert.equal(lines[1], '0', '/proc/acpi masked by an empty tmpfs');
    assert.ok(r.out.includes('SYSRO'), '/proc/sys is read-only');
    assert.match(r.out, /crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* \/dev\/null/);
    assert.match(r.out, /crw-rw-rw-\s+1 root\s+root\s+5,\s+0 .* \/dev\/tty/);
    assert.ok(r.out.includes('pts/ptmx') && r.out.includes('/proc/self/fd'));
    assert.ok(r.out.includes('NULLOK'));
  });

  it('refuses a cwd outside the container (CVE-2024-21626 class)', async () => {
    for (const cwd of ['/proc/self/fd/3', '/proc/self/fd/4', '/proc/self/fd/5', '/proc/self/fd/7']) {
      const b = bundle();
      b.spec.process!.cwd = cwd;
      await assert.rejects(runScript(b, 'pwd'), (e: unknown) => {
        assert.ok(isBerthError(e), String(e));
        assert.match((e as Error).message, /cwd/);
        return true;
      });
    }
  });

  it('a failing mount is a clear error and leaves nothing behind', async () => {
    const b = bundle();
    b.spec.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent-berth-source', options: ['rbind'] });
    await assert.rejects(runScript(b, 'true'), (e: unknown) => {
      assert.ok(isBerthError(e, 'NOT_FOUND'), String(e));
      assert.match((e as Error).message, /^mount \/nonexistent-berth-source at \/data: stat source: no such file or directory$/);
      return true;
    });
    const c = bundle();
    c.spec.mounts!.push({ destination: '/x', type: 'nosuchfs', source: 'none' });
    await assert.rejects(runScript(c, 'true'), /mount nosuchfs at \/x: no such device/);
    assert.deepEqual(processesIn(c.dir), []);
    assert.deepEqual(mountsUnder(c.dir), []);
  });

  it('an rlimit above the host hard limit fails naming the rlimit', async () => {
    const b = bundle();
    b.spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 10_000_000, soft: 10_000_000 }];
    await assert.rejects(runScript(b, 'true'), (e: unknown) => {
      assert.ok(isBerthError(e, 'PERMISSION_DENIED'), String(e));
      assert.match((e as Error).message, /set rlimit RLIMIT_NOFILE/);
      return true;
    });
  });

  it('create waits for start; start twice is refused; a missing executable fails create', async () => {
    const b = bundle();
    const out = `${b.dir}/out`;
    runScriptSpec(b, out);
    const spec = validateSpec(JSON.parse(JSON.stringify(b.spec)), b.dir);
    const l = await launchContainer({ id: 'w', bundle: b.dir, spec, stateDir: b.stateDir, cgroupProcsFiles: [] });
    assert.ok(l.pid > 0 && l.wait === undefined);
    // created, not started: the init is blocked, the user process has not run
    assert.ok(existsSync(`${b.stateDir}/exec.fifo`));
    assert.ok(!existsSync(`${out}/started`));
    // CVE-2019-5736: the waiting init runs from a sealed memfd, not from a file on disk
    assert.match(readlinkSync(`/proc/${l.pid}/exe`), /^\/memfd:berth-init/);
    assert.throws(() => fsMod.openSync(`/proc/${l.pid}/exe`, 'r+'), /EPERM|ETXTBSY|EACCES/);
    await releaseContainer(b.stateDir, l.pid);
    await waitGone(l.pid);
    assert.ok(existsSync(`${out}/started`));
    await assert.rejects(releaseContainer(b.stateDir, l.pid), (e: unknown) => isBerthError(e, 'FAILED_PRECONDITION'));

    const c = bundle();
    c.spec.process!.args = ['/bin/no-such-program'];
    await assert.rejects(
      launchContainer({ id: 'w2', bundle: c.dir, spec: c.spec, stateDir: c.stateDir, cgroupProcsFiles: [] }),
      /exec "\/bin\/no-such-program"/,
    );
  });

  it('start of a process that exits at once always succeeds (the byte outlives the init)', async () => {
    const b = bundle();
    b.spec.process!.args = ['true'];
    const spec = validateSpec(b.spec, b.dir);
    for (let i = 0; i < 15; i++) {
      const l = await launchContainer({ id: `q${i}`, bundle: b.dir, spec, stateDir: b.stateDir, cgroupProcsFiles: [] });
      await releaseContainer(b.stateDir, l.pid);
      await waitGone(l.pid);
    }
  });

  it('hooks run while the init waits, and a failing hook aborts create', async () => {
    const b = bundle();
    const seen: string[] = [];
    const l = await launchContainer({
      id: 'h', bundle: b.dir, spec: b.spec, stateDir: b.stateDir, cgroupProcsFiles: [],
      onCreateRuntime: async (pid) => {
        seen.push(`runtime ${pid}`);
      },
      onCreateContainer: async (pid) => {
        // before pivot_root: the init's mount ns already has the container's /proc mounted
        seen.push(`container ${readlinkSync(`/proc/${pid}/ns/mnt`) !== readlinkSync('/proc/self/ns/mnt')}`);
      },
    });
    assert.deepEqual(seen, [`runtime ${l.pid}`, 'container true']);
    process.kill(l.pid, 'SIGKILL');
    await waitGone(l.pid);

    const c = bundle();
    let hookPid = 0;
    await assert.rejects(
      launchContainer({
        id: 'h2', bundle: c.dir, spec: c.spec, stateDir: c.stateDir, cgroupProcsFiles: [],
        onCreateRuntime: async (pid) => {
          hookPid = pid;
          throw new Error('hook says no');
        },
      }),
      /hook says no/,
    );
    assert.ok(hookPid > 0);
    assert.ok(!existsSync(`/proc/${hookPid}/stat`) || readState(hookPid) === 'Z', 'init killed after a failed hook');
  });
});

function runScriptSpec(b: TestBundle, out: string): void {
  const { mkdirSync } = fsMod;
  mkdirSync(out, { recursive: true });
  b.spec.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
  b.spec.process!.args = ['sh', '-c', 'touch /out/started'];
}

function readState(pid: number): string {
  try {
    const s = fsMod.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  } catch {
    return '';
  }
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const s = readState(pid);
    if (s === '' || s === 'Z') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pid ${pid} still running`);
}

