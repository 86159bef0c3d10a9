import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isBerthError } from '../../errors/index.js';
import type { Seccomp } from '../../spec/runtime.js';
import { runFilter } from './_interpret.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from './arch.js';
import { compileSeccomp } from './compile.js';
import { dockerDefaultProfile } from './docker-default.js';
import { parseDockerProfile } from './docker-profile.js';
import { SYSCALL_TABLES } from './syscalls.generated.js';

const root = new URL('../../../../', import.meta.url).pathname;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
/** Docker's default capability set. */
const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const X64 = SYSCALL_TABLES.x86_64;

/** name -> "always" | "args" for the syscalls a resolved profile allows. */
function allowedNames(s: Seccomp): Map<string, 'always' | 'args'> {
  const out = new Map<string, 'always' | 'args'>();
  for (const r of s.syscalls ?? []) {
    if (r.action !== 'SCMP_ACT_ALLOW') continue;
    for (const n of r.names) {
      if (r.args?.length) {
        if (!out.has(n)) out.set(n, 'args');
      } else out.set(n, 'always');
    }
  }
  return out;
}

describe('dockerDefaultProfile', () => {
  it('allows on amd64 with the default capabilities exactly the fixture set derived from moby default.json', () => {
    const fixture = new Map<string, 'always' | 'args'>();
    for (const line of readFileSync(`${root}/test/fixtures/seccomp/docker-default-amd64.txt`, 'utf8').split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const [name, args] = line.split(' ');
      fixture.set(name, args ? 'args' : 'always');
    }
    const got = allowedNames(dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'x86_64', kernel: '6.1.0' }));
    assert.deepEqual(new Map([...got].sort()), new Map([...fixture].sort()));
  });

  it('resolves the architectures, default errno and clone3 ENOSYS like docker', () => {
    const p = dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'x86_64' });
    assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(p.defaultErrnoRet, 1);
    const f = compileSeccomp(p, { arch: 'x86_64' }).filter;
    const r = (nr: number, args: (number | bigint)[] = [], arch = AUDIT_ARCH_X86_64) => runFilter(f, { nr, arch, args }).ret;
    assert.equal(r(X64.clone3), ENOSYS);
    assert.equal(r(X64.getpid), ALLOW);
    assert.equal(r(X64.mount), EPERM);
    assert.equal(r(X64.unshare), EPERM);
    assert.equal(r(X64.chroot), ALLOW); // CAP_SYS_CHROOT is a default capability
    assert.equal(r(X64.clone, [0x11 /* SIGCHLD */ | 0x100 /* CLONE_VM */]), ALLOW);
    assert.equal(r(X64.clone, [0x10000000 /* CLONE_NEWUSER */ | 0x11]), EPERM);
    assert.equal(r(X64.clone, [0x00020000 /* CLONE_NEWNS */]), EPERM);
    assert.equal(r(X64.clone, [0x100000011n]), ALLOW); // high bits are not namespace flags
    assert.equal(r(X64.socket, [2 /* AF_INET */]), ALLOW);
    assert.equal(r(X64.socket, [38 /* AF_ALG */]), EPERM);
    assert.equal(r(X64.socket, [39]), ALLOW);
    assert.equal(r(X64.socket, [40 /* AF_VSOCK */]), EPERM);
    assert.equal(r(X64.personality, [0xffffffff]), ALLOW);
    assert.equal(r(X64.personality, [0x0400000 /* READ_IMPLIES_EXEC */]), EPERM);
    assert.equal(r(SYSCALL_TABLES.x86.getpid, [], AUDIT_ARCH_I386), ALLOW);
    assert.equal(r(SYSCALL_TABLES.x32.getpid), ALLOW);
    assert.equal(r(SYSCALL_TABLES.x32.arch_prctl), ALLOW);
  });

  it('unlocks the capability groups', () => {
    const f = (caps: string[]) => compileSeccomp(dockerDefaultProfile({ capabilities: caps, arch: 'x86_64' }), { arch: 'x86_64' }).filter;
    const admin = f([...DOCKER_CAPS, 'CAP_SYS_ADMIN']);
    const r = (filter: Buffer, nr: number, args: number[] = []) => runFilter(filter, { nr, arch: AUDIT_ARCH_X86_64, args }).ret;
    for (const n of ['mount', 'umount2', 'unshare', 'setns', 'clone3', 'fsopen', 'sethostname']) assert.equal(r(admin, X64[n]), ALLOW, n);
    assert.equal(r(admin, X64.clone, [0x10000000]), ALLOW);
    const groups: [string, string[]][] = [
      ['CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise']],
      ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
      ['CAP_SYS_BOOT', ['reboot']],
      ['CAP_SYS_TIME', ['settimeofday', 'clock_settime']],
      ['CAP_SYS_NICE', ['mbind', 'set_mempolicy']],
      ['CAP_SYSLOG', ['syslog']],
      ['CAP_SYS_PACCT', ['acct']],
      ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
      ['CAP_BPF', ['bpf']],
      ['CAP_PERFMON', ['perf_event_open']],
      ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
      ['CAP_SYS_TTY_CONFIG', ['vhangup']],
    ];
    const base = f(DOCKER_CAPS);
    for (const [cap, names] of groups) {
      const g = f([...DOCKER_CAPS, cap]);
      for (const n of names) {
        assert.equal(r(base, X64[n]), EPERM, `${n} without ${cap}`);
        assert.equal(r(g, X64[n]), ALLOW, `${n} with ${cap}`);
      }
    }
    assert.equal(r(f(DOCKER_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT')), X64.chroot), EPERM);
  });

  it('matches the real moby default.json at the BPF level when the moby mirror is fetched', (t) => {
    const git = '/work/.mirror/moby+moby/repo';
    if (!existsSync(git)) {
      t.skip('moby mirror not fetched (/work/.mirror/moby+moby/repo); the fixture test covers the name set');
      return;
    }
    let json: string;
    try {
      json = execFileSync('git', ['--git-dir', git, 'show', 'HEAD:vendor/github.com/moby/profiles/seccomp/default.json'], { encoding: 'utf8' });
    } catch {
      t.skip('moby mirror has no vendor/github.com/moby/profiles/seccomp/default.json');
      return;
    }
    for (const caps of [DOCKER_CAPS, [...DOCKER_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'], []]) {
      const real = parseDockerProfile(JSON.parse(json), { capabilities: caps, arch: 'x86_64', kernel: '6.1.0' })!;
      const ours = dockerDefaultProfile({ capabilities: caps, arch: 'x86_64', kernel: '6.1.0' });
      const fr = compileSeccomp(real, { arch: 'x86_64' }).filter;
      const fo = compileSeccomp(ours, { arch: 'x86_64' }).filter;
      const probes: (number | bigint)[][] = [[], [0x11], [0x10000000], [0x20000], [2], [38], [40], [41], [0xffffffff], [8], [0x20008]];
      for (const [arch, table] of [
        [AUDIT_ARCH_X86_64, SYSCALL_TABLES.x86_64],
        [AUDIT_ARCH_I386, SYSCALL_TABLES.x86],
        [AUDIT_ARCH_X86_64, SYSCALL_TABLES.x32],
      ] as const) {
        for (const [n, nr] of Object.entries(table)) {
          for (const args of probes) {
            assert.equal(runFilter(fo, { nr, arch, args }).ret, runFilter(fr, { nr, arch, args }).ret, `${n} ${args}`);
          }
        }
      }
    }
  });
});

describe('parseDockerProfile', () => {
  const rejects = (json: unknown, re: RegExp) =>
    assert.throws(
      () => parseDockerProfile(json, { capabilities: [], arch: 'x86_64' }),
      (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && re.test(e.message),
    );
  it('resolves includes and excludes by caps, arch and kernel, and the old "name" field', () => {
    const p = parseDockerProfile(
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [
          { name: 'read', action: 'SCMP_ACT_ALLOW' },
          { names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_X', 'CAP_Y'] } },
          { names: ['b'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_X'] } },
          { names: ['c'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_Y', 'CAP_X'] } },
          { names: ['d'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
          { names: ['e'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
          { names: ['f'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.11' } },
          { names: ['g'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.9' } },
          { names: ['h'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.10' }, includes: null },
          { names: ['i'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
        ],
      },
      { capabilities: ['CAP_X'], arch: 'amd64', kernel: '5.10.0-28-amd64' },
    )!;
    assert.deepEqual(p, {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['b'], action: 'SCMP_ACT_ALLOW' },
        { names: ['g'], action: 'SCMP_ACT_ALLOW' },
        { names: ['i'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
      ],
    });
  });
  it('picks the archMap entry of the host', () => {
    const json = {
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [
        { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
        { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null },
      ],
    };
    assert.deepEqual(parseDockerProfile(json, { capabilities: [], arch: 'aarch64' })!.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.deepEqual(parseDockerProfile(json, { capabilities: [], arch: 'x86_64' })!.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });
  it('treats an empty profile as no seccomp, as docker does', () => {
    assert.equal(parseDockerProfile({}, { capabilities: [] }), undefined);
  });
  it('refuses malformed profiles with the failing field named', () => {
    rejects([], /profile: must be a JSON object/);
    rejects({ defaultAction: 3 }, /defaultAction: must be a string/);
    rejects({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] }, /both 'architectures' and 'archMap'/);
    rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }, /syscalls\[0\]: both 'name' and 'names'/);
    rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'] }] }, /syscalls\[0\]\.action: must be a string/);
    rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0 }] }] }, /args\[0\]: needs a numeric index and an op/);
    rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: 'x' } }] }, /includes\.minKernel: invalid kernel version "x"/);
  });
});
