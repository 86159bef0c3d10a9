/**
 * The spec features the helper implements, checked from inside the container (its shell
 * writes to a bind-mounted /out) and from outside (namespaces, cgroups, leftovers).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, readFileSync, readlinkSync, rmdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { isBerthError } from '../../../src/errors/index.js';
import { dockerDefaultProfile } from '../../../src/runtime/seccomp/index.js';
import { execProcess } from '../../../src/runtime/exec.js';
import { launchContainer, releaseContainer } from '../../../src/runtime/launch.js';
import { validateSpec } from '../../../src/spec/validate.js';
import { Scope, leakCheckFile } from '../../harness/index.js';
import { makeBundle as makeBundleIn, type TestBundle } from './_bundle.js';
import { mountsUnder, processesIn, runScript, withOut } from './_run.js';

const root = process.getuid?.() === 0;
const scope = new Scope('runtime-native-features');
leakCheckFile(scope);
const makeBundle = () => makeBundleIn(scope.dir);
const bundles: TestBundle[] = [];
const cgroups: string[] = [];
function bundle(): TestBundle {
  const b = makeBundle();
  bundles.push(b);
  return b;
}
const noCgroupMount = (b: TestBundle) => (b.spec.mounts = b.spec.mounts!.filter((m) => m.type !== 'cgroup'));

describe('runtime-native: features', { skip: root ? false : 'needs root (namespaces, mounts)', timeout: 180_000 }, () => {
  after(() => {
    for (const b of bundles) {
      assert.deepEqual(mountsUnder(b.dir), [], `mounts left under ${b.dir}`);
      assert.deepEqual(processesIn(b.dir), [], `processes left in ${b.dir}`);
      b.remove();
    }
    for (const c of cgroups) if (existsSync(c)) rmdirSync(c);
  });

  it('user namespace: id maps, root inside, devices bound from the host', async () => {
    const b = bundle();
    // the bundle sits in 0700 temp dirs: the helper reaches it before it becomes the mapped root
    mkdirSync(join(b.rootfs, 'out')); // the rootfs is not owned by the mapped root: no mkdir inside
    // cgroup v1 cannot be mounted from a non-initial user namespace: the container's own
    // cgroup dirs are bound instead
    const cg = `/sys/fs/cgroup/pids/${scope.uid('cg')}`;
    mkdirSync(cg);
    cgroups.push(cg);
    b.spec.linux!.namespaces!.push({ type: 'user' });
    b.spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    b.spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const r = await runScript(
      b,
      'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; echo x > /dev/null && echo DEVOK; ls /sys/fs/cgroup; grep -c . /sys/fs/cgroup/pids/cgroup.procs',
      { cgroupProcsFiles: [`${cg}/cgroup.procs`] },
    );
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^pids$/m);
    // only the container's processes (sh, maybe grep): the pids dir is its own cgroup
    assert.match(r.out.trim().split('\n').at(-1)!, /^[12]$/);
    const lines = r.out.split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    assert.deepEqual(lines.slice(0, 4), ['0', '0', '0 100000 65536', '0 100000 65536']);
    assert.ok(r.out.includes('DEVOK'), r.out);
  });

  it('joins an existing user namespace by path (user first) and creates the others in it', async () => {
    const mkUserBundle = () => {
      const b = bundle();
      mkdirSync(join(b.rootfs, 'out'));
      noCgroupMount(b);
      return b;
    };
    const a = mkUserBundle();
    a.spec.linux!.namespaces!.push({ type: 'user' });
    a.spec.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    a.spec.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    a.spec.process!.args = ['sleep', '1000'];
    const outA = withOut(a);
    const la = await launchContainer({ id: 'ua', bundle: a.dir, spec: validateSpec(a.spec, a.dir), stateDir: a.stateDir, cgroupProcsFiles: [], foreground: true });
    try {
      const b = mkUserBundle();
      b.spec.linux!.namespaces!.push({ type: 'user', path: `/proc/${la.pid}/ns/user` });
      const r = await runScript(b, 'id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user; hostname');
      assert.equal(r.status, 0, r.out);
      const lines = r.out.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
      assert.deepEqual(lines.slice(0, 3), ['0', '0 200000 65536', readlinkSync(`/proc/${la.pid}/ns/user`)]);
      // and exec into the user-namespaced container joins its user ns first
      const e = await execProcess({
        pid: la.pid,
        spec: a.spec,
        process: { user: { uid: 1000, gid: 1000 }, cwd: '/', env: ['PATH=/bin'], args: ['sh', '-c', 'id -u > /out/exec; cat /proc/self/uid_map >> /out/exec'] },
        cgroupProcsFiles: [],
        detach: false,
      });
      assert.equal(await e.wait!(), 0);
      assert.match(readFileSync(join(outA, 'exec'), 'utf8'), /^1000\n\s*0\s+200000\s+65536\n$/);
    } finally {
      process.kill(la.pid, 'SIGKILL');
      await la.wait!();
    }
  });

  it('terminal: the pty master goes over the console socket, the slave is the controlling tty', async () => {
    const b = bundle();
    const sock = join(b.dir, 'console.sock');
    const out = join(b.dir, 'console.out');
    const recv = spawn('python3', [join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../../../test/integration/runtime-native/console-receiver.py'), sock, out], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // listen for the exit now: the receiver may finish before the process's status arrives
    const recvExit = once(recv, 'exit');
    await once(recv.stdout!, 'data');
    b.spec.process!.terminal = true;
    b.spec.process!.consoleSize = { height: 33, width: 111 };
    b.spec.process!.args = ['sh', '-c', 'tty; stty size; stat -c %t:%T /dev/console; echo done'];
    const spec = validateSpec(b.spec, b.dir);
    const l = await launchContainer({ id: 'tty', bundle: b.dir, spec, stateDir: b.stateDir, cgroupProcsFiles: [], consoleSocket: sock, foreground: true });
    await releaseContainer(b.stateDir, l.pid);
    assert.equal(await l.wait!(), 0);
    await recvExit;
    const got = readFileSync(out, 'utf8').replace(/\r/g, '');
    // /dev/console is the pty slave: major 136 (0x88), minor 0
    assert.match(got, /^\/dev\/pts\/0\n33 111\n88:0\ndone\n$/);
    assert.equal(readFileSync(`${out}.name`, 'utf8'), '/dev/pts/0');
  });

  it('a detached terminal without a console socket is refused', async () => {
    const b = bundle();
    b.spec.process!.terminal = true;
    await assert.rejects(
      launchContainer({ id: 'nt', bundle: b.dir, spec: validateSpec(b.spec, b.dir), stateDir: b.stateDir, cgroupProcsFiles: [] }),
      (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && /console socket/.test((e as Error).message),
    );
  });

  it('terminal without a console socket in the foreground: the helper relays the pty', async () => {
    const child = spawn(process.execPath, [new URL('./_foreground-child.js', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let sent = false;
    child.stdout!.on('data', (d) => {
      out += d;
      if (!sent && out.includes('/dev/pts/0')) {
        sent = true;
        child.stdin!.write('hello\n');
      }
    });
    child.stderr!.on('data', (d) => (err += d));
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, err);
    assert.match(err, /status 3/);
    assert.match(out.replace(/\r/g, ''), /\/dev\/pts\/0\n(hello\n)?got hello\n/);
  });

  it('preserve-fds passes fds 3.. through; without it only 0-2 reach the process', async () => {
    const b = bundle();
    // `[` is a shell builtin: it checks the shell's own fds without opening any
    const probe = 'for f in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do [ -e /proc/$$/fd/$f ] && echo -n "$f "; done; echo';
    const r0 = await runScript(b, probe);
    assert.equal(r0.out.trim(), '0 1 2');
    const c = bundle();
    const r1 = await runScript(c, `${probe}; readlink /proc/$$/fd/3`, { preserveFds: 1 });
    const lines = r1.out.trim().split('\n');
    assert.equal(lines[0].trim(), '0 1 2 3');
    assert.equal(lines[1], readlinkSync('/proc/self/fd/3'));
  });

  it('--no-pivot: MS_MOVE + chroot', async () => {
    const b = bundle();
    const r = await runScript(b, 'ls / | tr "\\n" " "; cat /proc/1/cmdline >/dev/null && echo OK', { noPivot: true });
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^bin dev etc out proc root sys tmp var OK/);
  });

  it('joins namespaces by path (a pod): same net, uts, ipc and pid namespaces', async () => {
    const a = bundle();
    noCgroupMount(a);
    const outA = withOut(a);
    a.spec.hostname = 'pod-infra';
    a.spec.process!.args = ['sh', '-c', 'touch /out/ready; exec sleep 1000'];
    const la = await launchContainer({ id: 'pa', bundle: a.dir, spec: validateSpec(a.spec, a.dir), stateDir: a.stateDir, cgroupProcsFiles: [], foreground: true });
    await releaseContainer(a.stateDir, la.pid);
    try {
      for (let i = 0; i < 300 && !existsSync(join(outA, 'ready')); i++) await new Promise((r) => setTimeout(r, 10));
      const b = bundle();
      noCgroupMount(b);
      b.spec.hostname = undefined;
      b.spec.linux!.namespaces = [
        { type: 'mount' },
        { type: 'network', path: `/proc/${la.pid}/ns/net` },
        { type: 'uts', path: `/proc/${la.pid}/ns/uts` },
        { type: 'ipc', path: `/proc/${la.pid}/ns/ipc` },
        { type: 'pid', path: `/proc/${la.pid}/ns/pid` },
      ];
      const r = await runScript(b, 'hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; ps -o comm | grep -c sleep');
      assert.equal(r.status, 0, r.out);
      const lines = r.out.trim().split('\n');
      assert.equal(lines[0], 'pod-infra');
      assert.equal(lines[1], readlinkSync(`/proc/${la.pid}/ns/net`));
      assert.equal(lines[2], readlinkSync(`/proc/${la.pid}/ns/ipc`));
      assert.equal(lines[3], '1', 'sees the infra container\'s sleep');
    } finally {
      process.kill(la.pid, 'SIGKILL');
      await la.wait!();
    }
  });

  it('time namespace offsets, sysctls, domainname, devices, oomScoreAdj, ioPriority, personality', async () => {
    const b = bundle();
    b.spec.linux!.namespaces!.push({ type: 'time' });
    b.spec.linux!.timeOffsets = { monotonic: { secs: 864000 }, boottime: { secs: 864000 } };
    b.spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '12345678' };
    b.spec.linux!.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 }];
    b.spec.domainname = 'example.test';
    b.spec.process!.oomScoreAdj = 500;
    b.spec.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
    b.spec.linux!.personality = { domain: 'LINUX32' };
    const r = await runScript(
      b,
      'cut -d. -f1 /proc/uptime; cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/kernel/domainname; ls -l /dev/fuse; cat /proc/self/oom_score_adj; uname -m; cat /proc/self/personality; ionice -p $$',
    );
    assert.equal(r.status, 0, r.out);
    const lines = r.out.trim().split('\n');
    assert.ok(Number(lines[0]) >= 864000, `uptime ${lines[0]} includes the boottime offset`);
    assert.deepEqual(lines.slice(1, 4), ['1', '12345678', 'example.test']);
    assert.match(lines[4], /^crw-------\s+1 root\s+root\s+10,\s+229 .*\/dev\/fuse$/);
    assert.equal(lines[5], '500');
    assert.equal(lines[6], 'i686', 'LINUX32 personality');
    assert.equal(lines[7], '00000008');
    assert.match(lines[8], /^idle/);
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim().length, 1, 'host value untouched');
  });

  it('an oomScoreAdj below the caller\'s fails clearly', async () => {
    const b = bundle();
    b.spec.process!.oomScoreAdj = -500;
    await assert.rejects(runScript(b, 'true'), (e: unknown) => {
      assert.ok(isBerthError(e), String(e));
      assert.match((e as Error).message, /set oomScoreAdj -500 \(lowering it needs CAP_SYS_RESOURCE\)/);
      return true;
    });
  });

  it('bind mounts: ro needs a remount, rw stays writable, flags and propagation apply', async () => {
    const b = bundle();
    const src = join(b.dir, 'src');
    mkdirSync(src);
    b.spec.mounts!.push(
      { destination: '/ro', type: 'bind', source: src, options: ['rbind', 'ro', 'nosuid', 'nodev'] },
      { destination: '/rw', type: 'bind', source: src, options: ['bind', 'rw', 'noexec', 'rprivate'] },
      { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=700', 'noatime'] },
    );
    const r = await runScript(
      b,
      'touch /ro/x && echo ROWRITE; touch /rw/y && echo RWOK; stat -c %a /t; grep -E " /(ro|rw|t) " /proc/self/mountinfo',
    );
    assert.equal(r.status, 0, r.out);
    assert.ok(!r.out.includes('ROWRITE') && r.out.includes('RWOK'), r.out);
    assert.ok(existsSync(join(src, 'y')));
    assert.match(r.out, /^700$/m);
    assert.match(r.out, / \/ro ro,nosuid,nodev/);
    assert.match(r.out, / \/rw rw,noexec/);
    assert.match(r.out, / \/t rw,noatime .* tmpfs tmpfs rw,size=1024k,mode=700/);
  });

  it('a symlink in the image cannot send a mount or a device to the host', async () => {
    const b = bundle();
    const outside = join(b.dir, 'outside');
    mkdirSync(outside);
    // absolute and relative links that point out of the rootfs on the host
    symlinkSync(outside, join(b.rootfs, 'abs'));
    symlinkSync('../../outside', join(b.rootfs, 'rel'));
    b.spec.mounts!.push(
      { destination: '/abs/m', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/rel/m', type: 'tmpfs', source: 'tmpfs' },
    );
    b.spec.linux!.devices = [{ type: 'c', path: '/dev/../abs/null2', major: 1, minor: 3 }];
    const r = await runScript(b, 'grep -c " /[^ ]*outside/m " /proc/self/mountinfo; ls /abs /rel');
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(readdirSync(outside), [], 'nothing created outside the rootfs');
    // inside, the links resolve as if the rootfs were /: the mounts landed under the rootfs
    assert.ok(existsSync(join(b.rootfs, outside.slice(1), 'm')), 'absolute link followed inside the rootfs');
    assert.ok(existsSync(join(b.rootfs, outside.slice(1), 'null2')), 'the device too');
  });

  it('starts inside the given cgroups, with a cgroup namespace rooted there', async () => {
    const b = bundle();
    const cg = `/sys/fs/cgroup/pids/${scope.uid('cg')}`;
    mkdirSync(cg);
    cgroups.push(cg);
    const r = await runScript(b, 'grep pids /proc/self/cgroup; ls /sys/fs/cgroup/pids/cgroup.procs; cat /sys/fs/cgroup/pids/cgroup.procs | wc -l', {
      cgroupProcsFiles: [`${cg}/cgroup.procs`],
    });
    assert.equal(r.status, 0, r.out);
    const lines = r.out.trim().split('\n');
    assert.match(lines[0], /^\d+:pids:\/$/);
    assert.equal(lines[1], '/sys/fs/cgroup/pids/cgroup.procs');
    assert.ok(Number(lines[2]) >= 1);

    // a helper that stays (foreground run, waited exec) leaves the cgroup: only the
    // container's processes count against its limits
    const c = bundle();
    c.spec.process!.args = ['sleep', '1000'];
    const l = await launchContainer({ id: 'cg', bundle: c.dir, spec: validateSpec(c.spec, c.dir), stateDir: c.stateDir, cgroupProcsFiles: [`${cg}/cgroup.procs`], foreground: true });
    try {
      await releaseContainer(c.stateDir, l.pid);
      assert.deepEqual(readFileSync(`${cg}/cgroup.procs`, 'utf8').trim().split('\n'), [String(l.pid)]);
      const e = await execProcess({
        pid: l.pid, spec: c.spec, cgroupProcsFiles: [`${cg}/cgroup.procs`], detach: false,
        process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['sh', '-c', 'cat /sys/fs/cgroup/pids/cgroup.procs | wc -l > /dev/null; exit $(grep -c . /sys/fs/cgroup/pids/cgroup.procs)'] },
      });
      // sleep, sh and grep: no helper
      assert.equal(await e.wait!(), 3);
    } finally {
      process.kill(l.pid, 'SIGKILL');
      await l.wait!();
    }
  });

  it('seccomp: the compiled profile is installed, with and without no_new_privs', async () => {
    for (const nnp of [true, false]) {
      const b = bundle();
      b.spec.process!.noNewPrivileges = nnp;
      b.spec.process!.user = { uid: 1000, gid: 1000 };
      b.spec.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
      b.spec.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
          { names: ['uname'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        ],
      };
      const r = await runScript(b, 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /tmp/d || echo MKDIRFAIL; touch /tmp/f && echo TOUCHOK');
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /Seccomp:\s+2/);
      assert.match(r.out, new RegExp(`NoNewPrivs:\\s+${nnp ? 1 : 0}`));
      assert.match(r.out, /Operation not permitted/);
      assert.ok(r.out.includes('MKDIRFAIL') && r.out.includes('TOUCHOK'), r.out);
    }
  });

  it('seccomp: docker\'s deny-by-default profile lets the helper finish and the process run', async () => {
    for (const nnp of [true, false]) {
      const b = bundle();
      b.spec.process!.noNewPrivileges = nnp;
      b.spec.process!.user = { uid: 1000, gid: 1000 };
      b.spec.linux!.seccomp = dockerDefaultProfile({ capabilities: b.spec.process!.capabilities!.bounding! });
      const r = await runScript(b, 'grep "^Seccomp:" /proc/self/status; unshare -U true || echo UNSHAREDENIED; echo ok');
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /Seccomp:\s+2/);
      assert.ok(r.out.includes('UNSHAREDENIED') && r.out.endsWith('ok\n'), r.out);
    }
  });

  it('carries long values and many entries through the plan', async () => {
    const b = bundle();
    const big = 'x'.repeat(100_000);
    for (let i = 0; i < 2000; i++) b.spec.process!.env!.push(`V${i}=${i} with spaces %and% ~`);
    b.spec.process!.env!.push(`BIG=${big}`);
    const r = await runScript(b, 'echo "$V1999"; echo ${#BIG}; env | grep -c "^V"');
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(r.out.trim().split('\n'), ['1999 with spaces %and% ~', '100000', '2000']);
  });

  it('relays death by signal as 128+signal', async () => {
    const b = bundle();
    b.spec.process!.args = ['sleep', '1000'];
    const l = await launchContainer({ id: 'sig', bundle: b.dir, spec: validateSpec(b.spec, b.dir), stateDir: b.stateDir, cgroupProcsFiles: [], foreground: true });
    await releaseContainer(b.stateDir, l.pid);
    // SIGKILL from outside reaches a pid-namespace init even without a handler
    process.kill(l.pid, 'SIGKILL');
    assert.equal(await l.wait!(), 137);
  });
});
