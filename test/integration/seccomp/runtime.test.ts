/**
 * linux.seccomp through the runtime: containers run by bin/berth-runtime (and by runc, side by
 * side, when it is installed) under docker's default profile and a small deny profile. What the
 * container sees is compared with what runc gives for the same bundle.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dockerDefaultProfile } from '../../../src/runtime/seccomp/index.js';
import type { Seccomp } from '../../../src/spec/runtime.js';
import { Bundle, describe as describeRun, fixture, leakCheckFile, RuntimeCli, runtimeBinary, Scope } from '../../harness/index.js';

const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const root = process.getuid?.() === 0;
const runc = spawnSync('runc', ['--version']).status === 0;
const scope = new Scope('seccomp-runtime');
leakCheckFile(scope);

const SCRIPT = [
  'grep -E "^(Seccomp|Seccomp_filters|NoNewPrivs):" /proc/self/status',
  'unshare -U true 2>/dev/null && echo unshare-user=ok || echo unshare-user=denied',
  'unshare -m true 2>/dev/null && echo unshare-mount=ok || echo unshare-mount=denied',
  'mkdir /dev/shm/d 2>&1 && echo mkdir=ok',
  'echo done',
].join('; ');

function bundle(seccomp: Seccomp, nnp: boolean): Bundle {
  return Bundle.create(scope, { args: ['sh', '-c', SCRIPT] }).update((s) => {
    s.process!.capabilities = { bounding: [...DOCKER_CAPS], effective: [...DOCKER_CAPS], permitted: [...DOCKER_CAPS] };
    s.process!.noNewPrivileges = nnp;
    s.linux!.seccomp = seccomp;
  });
}

async function runIn(binary: string, b: Bundle): Promise<string> {
  const rt = new RuntimeCli(scope, binary);
  const r = await rt.run(['run', '--bundle', b.dir, scope.uid()]);
  assert.equal(r.code, 0, describeRun(r));
  return r.stdout;
}

const runtimes = [runtimeBinary(), ...(runc ? ['runc'] : [])];

describe('seccomp through the runtime', { skip: root ? false : 'needs root (namespaces, mounts)' }, () => {
  for (const nnp of [false, true]) {
    it(`docker's default profile, noNewPrivileges=${nnp}: filter on, user and mount namespaces denied`, async () => {
      const b = bundle(dockerDefaultProfile({ capabilities: DOCKER_CAPS }), nnp);
      for (const bin of runtimes) {
        const out = await runIn(bin, b);
        assert.match(out, /^Seccomp:\s+2$/m, `${bin}: ${out}`);
        assert.match(out, /^Seccomp_filters:\s+1$/m, `${bin}: ${out}`);
        assert.match(out, new RegExp(`^NoNewPrivs:\\s+${nnp ? 1 : 0}$`, 'm'), `${bin}: ${out}`);
        assert.match(out, /^unshare-user=denied$/m, `${bin}: ${out}`);
        assert.match(out, /^unshare-mount=denied$/m, `${bin}: ${out}`);
        assert.match(out, /^mkdir=ok$/m, `${bin}: ${out}`);
        assert.match(out, /^done$/m, `${bin}: ${out}`);
      }
    });
  }

  it('a deny profile: mkdir answers EPERM, everything else runs', async () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    };
    const b = bundle(s, true);
    const outs: string[] = [];
    for (const bin of runtimes) {
      const out = await runIn(bin, b);
      assert.match(out, /mkdir: can't create directory '\/dev\/shm\/d': Operation not permitted/, `${bin}: ${out}`);
      assert.doesNotMatch(out, /mkdir=ok/);
      assert.match(out, /^done$/m, `${bin}: ${out}`);
      outs.push(out);
    }
    if (outs.length === 2) assert.equal(outs[0], outs[1], 'berth-runtime and runc differ');
  });

  it('exec gets the container filter too', async () => {
    const b = Bundle.create(scope, { args: ['sleep', '60'] }).update((s) => {
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 }] };
    });
    const rt = new RuntimeCli(scope);
    const id = scope.uid();
    try {
      // The init holds its stdio until it execs: give it none, so create returns at once.
      const c = spawnSync(rt.binary, ['--root', rt.root, 'create', '--bundle', b.dir, id], { stdio: 'ignore', timeout: 30_000 });
      assert.equal(c.status, 0, `create: ${c.status} ${c.signal}`);
      await rt.ok(['start', id]);
      const r = await rt.run(['exec', id, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; mkdir /dev/shm/e']);
      assert.match(r.stdout, /^Seccomp:\s+2$/m, describeRun(r));
      assert.match(r.stderr + r.stdout, /Invalid cross-device link/, describeRun(r));
    } finally {
      await rt.run(['delete', '--force', id]);
    }
  });

  /** Run test/fixtures/seccomp-agent on a fresh socket; resolves once it listens. */
  async function startAgent(errno: number, at?: string): Promise<{ path: string; done: Promise<{ code: number | null; out: string; err: string }> }> {
    const path = at ?? join(scope.mkdtemp('agent'), 'listener.sock');
    const child = spawn(fixture('seccomp-agent'), [path, String(errno)], { stdio: ['ignore', 'pipe', 'pipe'] });
    scope.defer('seccomp-agent', () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<{ code: number | null; out: string; err: string }>((res) => child.on('close', (code) => res({ code, out, err })));
    await new Promise<void>((res, rej) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('listening')) res();
      });
      child.on('close', (code) => rej(new Error(`seccomp-agent exited ${code}: ${err}`)));
    });
    return { path, done };
  }

  function notifyBundle(listenerPath: string, args: string[]): Bundle {
    return Bundle.create(scope, { args }).update((s) => {
      s.annotations = { 'org.example.k': 'v' };
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath,
        listenerMetadata: 'meta "quoted" \\ text',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      };
    });
  }

  for (const nnp of [false, true]) {
    it(`listenerPath, noNewPrivileges=${nnp}: the agent gets the fd and the state, and its answer reaches the container`, async () => {
      const agent = await startAgent(18); // EXDEV
      const b = notifyBundle(agent.path, ['sh', '-c', 'mkdir /dev/shm/n; echo rc=$?; test -d /dev/shm/n && echo made; echo end']);
      b.update((s) => {
        s.process!.noNewPrivileges = nnp;
      });
      const rt = new RuntimeCli(scope);
      const id = scope.uid();
      const r = await rt.run(['run', '--bundle', b.dir, id]);
      const a = await agent.done;
      assert.equal(r.code, 0, describeRun(r));
      assert.match(r.stderr + r.stdout, /Invalid cross-device link/, describeRun(r));
      assert.match(r.stdout, /^rc=1$/m, describeRun(r));
      assert.doesNotMatch(r.stdout, /made/);
      assert.equal(a.code, 0, a.err);
      const [json, answered] = a.out.trim().split('\n');
      assert.match(answered!, /^answered (83|258)$/, a.out); // mkdir or mkdirat on x86_64
      const st = JSON.parse(json!) as { ociVersion: string; fds: string[]; pid: number; metadata: string; state: Record<string, unknown> };
      assert.deepEqual(st.fds, ['seccompFd']);
      assert.equal(st.metadata, 'meta "quoted" \\ text');
      assert.equal(typeof st.ociVersion, 'string');
      assert.ok(Number.isInteger(st.pid) && st.pid > 1, json);
      assert.deepEqual(st.state, { ociVersion: st.ociVersion, id, status: 'creating', pid: st.pid, bundle: b.dir, annotations: { 'org.example.k': 'v' } });
    });
  }

  it('listenerPath: an agent answering success makes the call succeed without running it (create + start), and exec gets its own listener', async () => {
    const agent = await startAgent(0);
    const b = notifyBundle(agent.path, ['sh', '-c', 'mkdir /dev/shm/n; echo rc=$? > /dev/shm/rc; test -d /dev/shm/n || echo not-made >> /dev/shm/rc; sleep 60']);
    const rt = new RuntimeCli(scope);
    const id = scope.uid();
    try {
      const c = spawnSync(rt.binary, ['--root', rt.root, 'create', '--bundle', b.dir, id], { stdio: 'ignore', timeout: 30_000 });
      assert.equal(c.status, 0, `create: ${c.status} ${c.signal}`);
      const state = JSON.parse((await rt.ok(['state', id])).stdout) as { pid: number };
      await rt.ok(['start', id]);
      const a = await agent.done;
      assert.equal(a.code, 0, a.err);
      const st = JSON.parse(a.out.split('\n')[0]!) as { pid: number };
      // the pid is the container process as the host sees it
      assert.equal(st.pid, state.pid);
      // what the container saw, read through its root from the host
      const rcFile = `/proc/${state.pid}/root/dev/shm/rc`;
      let rc = '';
      for (let i = 0; i < 100 && !/not-made/.test(rc); i++) {
        try {
          rc = readFileSync(rcFile, 'utf8');
        } catch {
          // not written yet
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.equal(rc, 'rc=0\nnot-made\n');
      // exec: the process gets the container's filter and the agent a new listener
      const agent2 = await startAgent(18, agent.path);
      const r = await rt.run(['exec', id, 'sh', '-c', 'mkdir /dev/shm/e; echo rc=$?']);
      const a2 = await agent2.done;
      assert.equal(a2.code, 0, a2.err);
      assert.match(r.stderr + r.stdout, /Invalid cross-device link/, describeRun(r));
      assert.match(r.stdout, /^rc=1$/m, describeRun(r));
      const st2 = JSON.parse(a2.out.split('\n')[0]!) as { pid: number; state: { status: string; pid: number; id: string } };
      assert.equal(st2.state.status, 'running');
      assert.equal(st2.state.pid, state.pid);
      assert.equal(st2.state.id, id);
      assert.ok(st2.pid > 1 && st2.pid !== state.pid, a2.out);
    } finally {
      await rt.run(['delete', '--force', id]);
    }
  });

  it('listenerPath that nobody listens on: create fails naming it, and leaves nothing behind', async () => {
    const path = join(scope.mkdtemp('agent'), 'none.sock');
    const b = notifyBundle(path, ['true']);
    const rt = new RuntimeCli(scope);
    const id = scope.uid();
    const r = await rt.run(['run', '--bundle', b.dir, id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /connect seccomp listener socket .*none\.sock/, describeRun(r));
    const list = await rt.run(['list', '--format', 'json']);
    assert.ok(!list.stdout.includes(id), list.stdout);
  });

  it('refuses a bad profile at create, naming the field, and leaves nothing behind', async () => {
    // Shape and names are checked by validateSpec; the flag values only by the compiler.
    const b = bundle({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }, true);
    const rt = new RuntimeCli(scope);
    const id = scope.uid();
    const r = await rt.run(['run', '--bundle', b.dir, id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /compile seccomp profile: flags: unknown flag "SECCOMP_FILTER_FLAG_BOGUS"/, describeRun(r));
    const list = await rt.run(['list', '--format', 'json']);
    assert.ok(!list.stdout.includes(id), list.stdout);
  });
});
