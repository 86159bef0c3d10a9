/**
 * The compiled BPF in the real kernel: a small C program (seccomp-try.c, built here with gcc)
 * installs a filter as berth's init helper does (no_new_privs, then seccomp(2)) and tries
 * syscalls. Needs gcc and an x86_64 kernel with seccomp filters; root is not needed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileSeccomp, dockerDefaultProfile } from '../../../src/runtime/seccomp/index.js';
import type { Seccomp } from '../../../src/spec/runtime.js';

const root = new URL('../../../../', import.meta.url).pathname;
const source = join(root, 'test/integration/seccomp/seccomp-try.c');
const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

function prerequisite(): string | undefined {
  if (process.arch !== 'x64') return `the kernel test drives x86_64 syscalls, this host is ${process.arch}`;
  if (spawnSync('gcc', ['--version']).status !== 0) return 'gcc is not installed (scripts/setup.sh installs it)';
  return undefined;
}
const skip = prerequisite();

describe('seccomp BPF in the kernel', { skip }, () => {
  let dir = '';
  let tool = '';
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-'));
    tool = join(dir, 'seccomp-try');
    execFileSync('gcc', ['-O2', '-Wall', '-o', tool, source]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the ops under the compiled profile: their results by op, and how the process ended. */
  function attempt(s: Seccomp, ops: string[]): { results: Record<string, string>; signal: NodeJS.Signals | null; status: number | null } {
    const c = compileSeccomp(s);
    const file = join(dir, `filter-${n++}.bpf`);
    writeFileSync(file, c.filter);
    const r = spawnSync(tool, [file, String(c.flags), ...ops], { encoding: 'utf8', timeout: 20_000 });
    const results: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) results[line.slice(0, i)] = line.slice(i + 1);
      else if (line.startsWith('notified:')) results.notified = line.slice('notified:'.length);
    }
    assert.match(results.install ?? r.stderr, /^ok:/, `install: ${r.stdout} ${r.stderr}`);
    return { results, signal: r.signal, status: r.status };
  }
  const ok = (v: string | undefined) => assert.match(v ?? 'missing', /^ok:/);

  it("docker's default profile: namespaces, mount, clone3, socket and personality rules", () => {
    const mk = join(dir, 'made-by-container');
    const { results: r } = attempt(dockerDefaultProfile({ capabilities: DOCKER_CAPS }), [
      'getpid',
      `mkdir:${mk}`,
      'unshare:0x10000000', // CLONE_NEWUSER
      'unshare:0x20000', // CLONE_NEWNS
      'clone3',
      'clone:0',
      'clone:0x20000000', // CLONE_NEWPID
      'sys:165', // mount
      'socket:2',
      'socket:40', // AF_VSOCK
      'personality:0xffffffff',
      'personality:0x400000',
      'int80:20', // i386 getpid: x86 is in docker's architectures
      'sys:0x40000027', // x32 getpid: allowed by the filter, then ENOSYS without CONFIG_X86_X32_ABI
      'sys:999', // above every syscall the profile names: ENOSYS (runc's stub), not EPERM
      'sys:156', // _sysctl: named by nobody, below the last named: EPERM
    ]);
    ok(r.getpid);
    ok(r[`mkdir:${mk}`]);
    assert.equal(r['unshare:0x10000000'], 'EPERM');
    assert.equal(r['unshare:0x20000'], 'EPERM');
    assert.equal(r.clone3, 'ENOSYS');
    ok(r['clone:0']);
    assert.equal(r['clone:0x20000000'], 'EPERM');
    assert.equal(r['sys:165'], 'EPERM');
    ok(r['socket:2']);
    assert.equal(r['socket:40'], 'EPERM');
    ok(r['personality:0xffffffff']);
    assert.equal(r['personality:0x400000'], 'EPERM');
    ok(r['int80:20']);
    assert.match(r['sys:0x40000027'], /^(ok:|ENOSYS)/);
    assert.equal(r['sys:999'], 'ENOSYS');
    assert.equal(r['sys:156'], 'EPERM');
  });

  it('denies mkdir with EPERM and answers ERRNO, TRACE, LOG, TRAP as the kernel defines them', () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' },
        { names: ['rmdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 /* EXDEV */ },
        { names: ['getppid'], action: 'SCMP_ACT_TRACE' }, // no tracer: ENOSYS (seccomp(2))
        { names: ['getuid'], action: 'SCMP_ACT_LOG' },
        { names: ['getgid'], action: 'SCMP_ACT_TRAP' },
      ],
    };
    const { results: r } = attempt(s, ['getpid', `mkdir:${join(dir, 'denied')}`, 'sys:84:0', 'sys:110', 'sys:102', 'sys:104']);
    ok(r.getpid);
    assert.equal(r[`mkdir:${join(dir, 'denied')}`], 'EPERM');
    assert.equal(r['sys:84:0'], 'EXDEV');
    assert.equal(r['sys:110'], 'ENOSYS');
    ok(r['sys:102']);
    assert.equal(r['sys:104'], 'SIGSYS:104:0');
  });

  it('kills with SIGSYS for KILL_PROCESS, KILL_THREAD, a foreign architecture and x32', () => {
    for (const [action, op] of [
      ['SCMP_ACT_KILL_PROCESS', 'getpid'],
      ['SCMP_ACT_KILL', 'getpid'],
      ['SCMP_ACT_ALLOW', 'int80:20'], // i386 not in the filter: bad arch
      ['SCMP_ACT_ALLOW', 'sys:0x40000027'], // x32 not in the filter: rejected as libseccomp does
    ]) {
      const s: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['getpid'], action }] };
      const r = attempt(s, [op, 'getppid']);
      assert.equal(r.signal, 'SIGSYS', `${action} ${op}: ${JSON.stringify(r)}`);
      assert.equal(r.results.getppid, undefined);
    }
  });

  it('compares 64-bit arguments on both words in the kernel', () => {
    // getpid ignores its arguments, but the kernel still hands the registers to the filter.
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['getpid'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: 33, // EDOM
          args: [
            { index: 0, value: 0x100000004, op: 'SCMP_CMP_GT' },
            { index: 1, value: 0xff00000000ff, valueTwo: 0x120000000034, op: 'SCMP_CMP_MASKED_EQ' },
          ],
        },
      ],
    };
    const { results: r } = attempt(s, [
      'sys:39:0x100000005:0x1200000FF034',
      'sys:39:0x100000004:0x120000000034',
      'sys:39:0xffffffff:0x120000000034',
      'sys:39:0x200000000:0x130000000034',
      'sys:39:0x200000000:0x120000000035',
    ]);
    assert.equal(r['sys:39:0x100000005:0x1200000FF034'], 'EDOM');
    ok(r['sys:39:0x100000004:0x120000000034']);
    ok(r['sys:39:0xffffffff:0x120000000034']);
    ok(r['sys:39:0x200000000:0x130000000034']);
    ok(r['sys:39:0x200000000:0x120000000035']);
  });

  it('ORs rules whose args differ (a case libseccomp 2.5.4 gets wrong)', () => {
    // The second rule holds for getppid(0, 0, 0, 0, 0, 0); libseccomp 2.5.4 merges the two
    // rules into a tree that never reaches it and allows the call.
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['getppid'],
          action: 'SCMP_ACT_KILL_PROCESS',
          args: [
            { index: 3, value: 0xffffffff, op: 'SCMP_CMP_EQ' },
            { index: 4, value: 0, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' },
          ],
        },
        {
          names: ['getppid'],
          action: 'SCMP_ACT_KILL_PROCESS',
          args: [
            { index: 0, value: 0x80000000, op: 'SCMP_CMP_NE' },
            { index: 3, value: 0xffffffff, op: 'SCMP_CMP_NE' },
            { index: 4, value: 0x7fffffffffffffffn as unknown as number, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' },
          ],
        },
      ],
    };
    const r = attempt(s, ['getpid', 'sys:110:0:0:0:0:0:0']);
    assert.equal(r.signal, 'SIGSYS', JSON.stringify(r));
    ok(r.results.getpid);
  });

  it('hands SCMP_ACT_NOTIFY to a listener (NEW_LISTENER and WAIT_KILLABLE_RECV)', () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/nonexistent/only-sets-the-flag.sock',
      flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_NOTIFY' }],
    };
    const { results: r } = attempt(s, ['notify:sys:110']);
    assert.equal(r.notified, '110');
    assert.equal(r['sys:110'], 'ok:4242');
  });
});
