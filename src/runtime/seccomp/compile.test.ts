import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Seccomp, SeccompArg } from '../../spec/runtime.js';
import { isBerthError } from '../../errors/index.js';
import { runFilter } from './_interpret.js';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from './arch.js';
import { decodeFilter } from './bpf.js';
import { compileSeccomp } from './compile.js';
import { SYSCALL_TABLES } from './syscalls.generated.js';

const ALLOW = 0x7fff0000;
const KILL_PROCESS = 0x80000000;
const errno = (e: number) => 0x00050000 | e;
const X64 = SYSCALL_TABLES.x86_64;
const I386 = SYSCALL_TABLES.x86;

const run = (s: Seccomp, nr: number, args: (bigint | number)[] = [], arch = AUDIT_ARCH_X86_64, host: 'x86_64' | 'aarch64' = 'x86_64') =>
  runFilter(compileSeccomp(s, { arch: host }).filter, { nr, arch, args }).ret;

const rejects = (s: Seccomp, re: RegExp) =>
  assert.throws(
    () => compileSeccomp(s, { arch: 'x86_64' }),
    (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && re.test(e.message),
  );

describe('compileSeccomp: actions', () => {
  const cases: [string, number | undefined, number][] = [
    ['SCMP_ACT_KILL', undefined, 0x00000000],
    ['SCMP_ACT_KILL_THREAD', undefined, 0x00000000],
    ['SCMP_ACT_KILL_PROCESS', undefined, 0x80000000],
    ['SCMP_ACT_TRAP', undefined, 0x00030000],
    ['SCMP_ACT_ERRNO', undefined, errno(1)],
    ['SCMP_ACT_ERRNO', 38, errno(38)],
    ['SCMP_ACT_TRACE', undefined, 0x7ff00001],
    ['SCMP_ACT_TRACE', 7, 0x7ff00007],
    ['SCMP_ACT_ALLOW', undefined, ALLOW],
    ['SCMP_ACT_LOG', undefined, 0x7ffc0000],
  ];
  for (const [action, e, want] of cases) {
    it(`${action}${e === undefined ? '' : ` errnoRet ${e}`} as rule and as default`, () => {
      const asRule: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action, errnoRet: e }] };
      assert.equal(run(asRule, X64.mkdir), want);
      assert.equal(run(asRule, X64.getpid), ALLOW);
      const asDefault: Seccomp = { defaultAction: action, defaultErrnoRet: e, syscalls: [{ names: ['getpid', 'exit_group'], action: 'SCMP_ACT_ALLOW' }] };
      assert.equal(run(asDefault, X64.mkdir), want);
      // Above the last named syscall a denying default becomes ENOSYS (enosysAfterLast).
      const permissive = ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(action);
      assert.equal(run(asDefault, 9999), permissive ? want : errno(38));
      assert.equal(run(asDefault, X64.getpid), ALLOW);
    });
  }
  it('SCMP_ACT_NOTIFY returns USER_NOTIF and needs listenerPath; sets NEW_LISTENER', () => {
    const s: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/x.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
    assert.equal(run(s, X64.mkdir), 0x7fc00000);
    const c = compileSeccomp(s, { arch: 'x86_64' });
    assert.equal(c.flags, 8);
    assert.equal(c.listenerPath, '/run/x.sock');
    rejects({ ...s, listenerPath: undefined }, /SCMP_ACT_NOTIFY needs linux\.seccomp\.listenerPath/);
    rejects({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }, /cannot be the default action/);
  });
  it('refuses unknown actions, errnoRet on other actions, bad errno', () => {
    rejects({ defaultAction: 'SCMP_ACT_NOPE' }, /defaultAction: unknown action "SCMP_ACT_NOPE"/);
    rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', errnoRet: 3 }] }, /syscalls\[0\]\.action: errnoRet is only valid/);
    rejects({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 70000 }, /errnoRet 70000/);
  });
  it('maps flags', () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 'SECCOMP_FILTER_FLAG_TSYNC'],
    };
    assert.equal(compileSeccomp(s, { arch: 'x86_64' }).flags, 2 | 4 | 32 | 1);
    assert.equal(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, { arch: 'x86_64' }).listenerPath, undefined);
    rejects({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, /unknown flag/);
  });
});

// Reference semantics: unsigned 64-bit comparisons, as libseccomp does them.
function holds(op: SeccompArg['op'], arg: bigint, value: bigint, valueTwo: bigint): boolean {
  switch (op) {
    case 'SCMP_CMP_NE':
      return arg !== value;
    case 'SCMP_CMP_LT':
      return arg < value;
    case 'SCMP_CMP_LE':
      return arg <= value;
    case 'SCMP_CMP_EQ':
      return arg === value;
    case 'SCMP_CMP_GE':
      return arg >= value;
    case 'SCMP_CMP_GT':
      return arg > value;
    case 'SCMP_CMP_MASKED_EQ':
      return (arg & value) === valueTwo;
  }
}

const M64 = (1n << 64n) - 1n;
const OPS: SeccompArg['op'][] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT'];
// Values chosen so that high words differ while low words compare the other way, and the sign bit.
const VALUES = [0n, 1n, 5n, 0xffffffffn, 0x100000000n, 0x100000005n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xfffffffffffffffen, M64];
const probes = (v: bigint) =>
  [...new Set([0n, 1n, v, v - 1n, v + 1n, v + (1n << 32n), v - (1n << 32n), v ^ (1n << 63n), (v & 0xffffffffn) | 0x200000000n, 0xffffffffn, 0x100000000n, M64].map((x) => BigInt.asUintN(64, x)))];

describe('compileSeccomp: argument comparisons', () => {
  for (const op of OPS) {
    it(`${op} on 64-bit values (x86_64)`, () => {
      for (const v of VALUES) {
        // JSON numbers cannot carry all of these exactly: the compiler takes bigints too.
        const s: Seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value: v as unknown as number, op }] }] };
        const f = compileSeccomp(s, { arch: 'x86_64' }).filter;
        for (const a of probes(v)) {
          const got = runFilter(f, { nr: X64.read, arch: AUDIT_ARCH_X86_64, args: [0, 0, a] }).ret;
          assert.equal(got === ALLOW, holds(op, a, v, 0n), `${op} arg=0x${a.toString(16)} value=0x${v.toString(16)}`);
        }
      }
    });
  }
  it('SCMP_CMP_MASKED_EQ on both words', () => {
    const masks: [bigint, bigint][] = [
      [0x7e020000n, 0n],
      [0xff00000000n, 0x1200000000n],
      [0xffff0000ffffn, 0x12340000abcdn],
      [M64, 0x8000000000000001n],
      [0n, 0n],
      [0n, 1n],
      [0xf0n, 0x0fn], // datum outside the mask never matches
    ];
    for (const [mask, datum] of masks) {
      const s: Seccomp = {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: mask as unknown as number, valueTwo: datum as unknown as number, op: 'SCMP_CMP_MASKED_EQ' }] }],
      };
      const f = compileSeccomp(s, { arch: 'x86_64' }).filter;
      for (const a of [0n, datum, datum | 0x100n, datum ^ (1n << 40n), datum ^ 0x20000n, M64, 0x12340000abcdn, 0x8000000000000001n]) {
        const got = runFilter(f, { nr: X64.read, arch: AUDIT_ARCH_X86_64, args: [a] }).ret;
        assert.equal(got === ALLOW, holds('SCMP_CMP_MASKED_EQ', a, mask, datum), `mask=0x${mask.toString(16)} datum=0x${datum.toString(16)} arg=0x${a.toString(16)}`);
      }
    }
  });
  it('compares only the low word on i386, with the value truncated, as libseccomp does', () => {
    for (const op of OPS) {
      const v = 0x100000005n;
      const s: Seccomp = {
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: v as unknown as number, op }] }],
      };
      const f = compileSeccomp(s, { arch: 'x86_64' }).filter;
      for (const a of [0n, 4n, 5n, 6n, 0xffffffffn]) {
        const got = runFilter(f, { nr: I386.read, arch: AUDIT_ARCH_I386, args: [0, a] }).ret;
        assert.equal(got === ALLOW, holds(op, a, 5n, 0n), `${op} ${a}`);
      }
    }
  });
  it('takes negative numbers as two\'s complement and refuses values that lost precision', () => {
    const s: Seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }] };
    assert.equal(run(s, X64.read, [M64]), ALLOW);
    assert.equal(run(s, X64.read, [0xffffffffn]), errno(1));
    rejects({ ...s, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 18446744073709551615, op: 'SCMP_CMP_EQ' }] }] }, /lost precision/);
    rejects({ ...s, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, /index 6 is not in 0\.\.5/);
    rejects({ ...s, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_XX' as 'SCMP_CMP_EQ' }] }] }, /unknown operator/);
  });
  it('ANDs the args of one rule and ORs the rules of one syscall', () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['openat'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 3, op: 'SCMP_CMP_EQ' }, { index: 2, value: 0x40, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 0 }] },
        { names: ['openat'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 100, op: 'SCMP_CMP_GE' }, { index: 0, value: 200, op: 'SCMP_CMP_LT' }] },
        { names: ['openat'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 1, value: 0xdead, op: 'SCMP_CMP_EQ' }] },
      ],
    };
    assert.equal(run(s, X64.openat, [3, 0, 0]), ALLOW);
    assert.equal(run(s, X64.openat, [3, 0, 0x40]), errno(1)); // second arg of rule 1 fails
    assert.equal(run(s, X64.openat, [4, 0, 0]), errno(1));
    assert.equal(run(s, X64.openat, [150, 0, 0x40]), ALLOW); // range rule: same index twice, ANDed
    assert.equal(run(s, X64.openat, [200, 0, 0x40]), errno(1));
    assert.equal(run(s, X64.openat, [99, 0xdead, 0x40]), KILL_PROCESS);
    assert.equal(run(s, X64.openat, [3, 0xdead, 0]), ALLOW); // first matching rule wins
  });
  it('tries argument rules before the rule without args', () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['kill'], action: 'SCMP_ACT_ALLOW' },
        { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
        { names: ['kill'], action: 'SCMP_ACT_KILL' },
      ],
    };
    assert.equal(run(s, X64.kill, [1, 15]), ALLOW);
    assert.equal(run(s, X64.kill, [1, 9]), errno(13));
  });
});

describe('compileSeccomp: architectures and syscall numbers', () => {
  const s: Seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['getpid', 'no_such_syscall', 'arch_prctl', 'socketcall'], action: 'SCMP_ACT_ALLOW' }],
  };
  it('skips names unknown on an architecture', () => {
    assert.equal(run(s, X64.getpid), ALLOW);
    assert.equal(run(s, X64.arch_prctl), ALLOW);
    const withI386 = { ...s, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] };
    assert.equal(run(withI386, I386.getpid, [], AUDIT_ARCH_I386), ALLOW);
    assert.equal(run(withI386, I386.socketcall, [], AUDIT_ARCH_I386), ALLOW);
    assert.equal(run(withI386, X64.getpid + 1, [], AUDIT_ARCH_I386), errno(1));
  });
  it('kills on an architecture not in the filter; the native one is always in', () => {
    assert.equal(run(s, I386.getpid, [], AUDIT_ARCH_I386), KILL_PROCESS);
    assert.equal(run(s, X64.getpid, [], 0x12345678), KILL_PROCESS);
    assert.equal(run({ ...s, architectures: ['SCMP_ARCH_X86'] }, X64.getpid), ALLOW);
    rejects({ ...s, architectures: ['SCMP_ARCH_VAX'] }, /unknown architecture "SCMP_ARCH_VAX"/);
  });
  it('rejects x32 syscalls on x86_64 unless x32 is listed', () => {
    assert.equal(run(s, X32_SYSCALL_BIT | X64.getpid), KILL_PROCESS);
    assert.equal(run(s, X32_SYSCALL_BIT | 9999), KILL_PROCESS);
    const x32 = { ...s, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'] };
    assert.equal(run(x32, SYSCALL_TABLES.x32.getpid), ALLOW);
    assert.equal(run(x32, SYSCALL_TABLES.x32.mkdir), errno(1));
    assert.equal(run(x32, X32_SYSCALL_BIT + 9999), errno(38)); // above the last named: ENOSYS
    assert.equal(run(x32, 0xffffffff), errno(38));
    assert.equal(run(x32, X64.getpid), ALLOW);
  });
  it('compiles for aarch64 hosts', () => {
    const a = SYSCALL_TABLES.aarch64;
    assert.equal(run(s, a.getpid, [], AUDIT_ARCH_AARCH64, 'aarch64'), ALLOW);
    assert.equal(run(s, a.getpid - 1, [], AUDIT_ARCH_AARCH64, 'aarch64'), errno(1));
    assert.equal(run(s, X64.getpid, [], AUDIT_ARCH_X86_64, 'aarch64'), KILL_PROCESS);
  });
  it('resolves every syscall number right with alternating outcomes (deep tree, long jumps)', () => {
    // Every x86_64 syscall gets its own errno, and every third one an argument rule: hundreds of
    // ranges and handlers far from the tree, so jumps beyond 255 need trampolines.
    const names = Object.keys(X64);
    const rules = names.map((n, i) =>
      i % 3 === 0
        ? { names: [n], action: 'SCMP_ACT_ERRNO', errnoRet: i + 2, args: [{ index: i % 6, value: i, op: 'SCMP_CMP_EQ' as const }] }
        : { names: [n], action: 'SCMP_ACT_ERRNO', errnoRet: i + 2 },
    );
    const big: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: rules };
    const f = compileSeccomp(big, { arch: 'x86_64' }).filter;
    const insns = decodeFilter(f);
    assert.ok(insns.length > 600, `expected a large program, got ${insns.length}`);
    assert.ok(insns.some((x) => x.code === 0x05 && x.k > 255), 'expected a long ja trampoline');
    names.forEach((n, i) => {
      const args = [0, 0, 0, 0, 0, 0];
      args[i % 6] = i;
      assert.equal(runFilter(f, { nr: X64[n], arch: AUDIT_ARCH_X86_64, args }).ret, errno(i + 2), n);
      if (i % 3 === 0) {
        args[i % 6] = i + 1;
        assert.equal(runFilter(f, { nr: X64[n], arch: AUDIT_ARCH_X86_64, args }).ret, ALLOW, `${n} other args`);
      }
    });
    for (const nr of [335 + 1000, 1000, 2 ** 30 - 1]) assert.equal(runFilter(f, { nr, arch: AUDIT_ARCH_X86_64 }).ret, ALLOW);
  });
  it('answers ENOSYS above the last named syscall of each architecture, as runc does', () => {
    const p: Seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['read', 'openat'], action: 'SCMP_ACT_ALLOW' }],
    };
    const f = compileSeccomp(p, { arch: 'x86_64' }).filter;
    const r = (nr: number, arch = AUDIT_ARCH_X86_64) => runFilter(f, { nr, arch }).ret;
    assert.equal(r(X64.openat), ALLOW);
    assert.equal(r(X64.openat - 1), errno(1)); // below the last named: the default action
    assert.equal(r(X64.openat + 1), errno(38));
    assert.equal(r(SYSCALL_TABLES.x32.openat + 1), errno(38));
    assert.equal(r(SYSCALL_TABLES.x32.openat - 1), errno(1));
    assert.equal(r(I386.openat + 1, AUDIT_ARCH_I386), errno(38));
    assert.equal(r(I386.openat - 1, AUDIT_ARCH_I386), errno(1));
    const off = compileSeccomp(p, { arch: 'x86_64', enosysAfterLast: false }).filter;
    assert.equal(runFilter(off, { nr: X64.openat + 1, arch: AUDIT_ARCH_X86_64 }).ret, errno(1));
    // Permissive defaults stay as they are.
    assert.equal(run({ ...p, defaultAction: 'SCMP_ACT_LOG' }, X64.openat + 1), 0x7ffc0000);
    // A profile naming nothing on an architecture gets no ENOSYS there.
    assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO' }, 5), errno(1));
  });

  it('refuses a program over the kernel limit of 4096 instructions', () => {
    // Distinct values per syscall, else all would share one handler.
    const rules = Object.keys(X64).map((n, i) => ({
      names: [n],
      action: 'SCMP_ACT_ALLOW',
      args: [0, 1, 2, 3, 4, 5].map((index) => ({ index, value: 0x100000001 + i, op: 'SCMP_CMP_GT' as const })),
    }));
    rejects({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: rules }, /more than the kernel's limit of 4096/);
  });
});

describe('seccompFeatures', () => {
  it('lists what the compiler takes and the flags of the kernel', async () => {
    const { seccompFeatures } = await import('./features.js');
    const f = seccompFeatures('5.10.0-28-amd64');
    assert.equal(f.enabled, true);
    assert.ok(f.actions.includes('SCMP_ACT_NOTIFY') && f.actions.includes('SCMP_ACT_KILL_PROCESS'));
    assert.equal(f.operators.length, 7);
    assert.deepEqual(f.archs, ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64']);
    assert.deepEqual(f.supportedFlags, ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']);
    assert.equal(seccompFeatures('6.1.0').supportedFlags.length, 4);
  });
});
