/**
 * Differential test against libseccomp, the reference runc and crun use: the same profile is
 * compiled by berth and by libseccomp (libseccomp-export.c, built here against libseccomp-dev),
 * and both BPF programs run in the test's interpreter over every syscall of x86_64, i386, x32 and
 * aarch64, with argument probes around every compared value. Needs gcc and libseccomp-dev.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFilter } from '../../../src/runtime/seccomp/_interpret.js';
import { actionValue } from '../../../src/runtime/seccomp/action.js';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, type HostArch } from '../../../src/runtime/seccomp/arch.js';
import { compileSeccomp, dockerDefaultProfile } from '../../../src/runtime/seccomp/index.js';
import { SYSCALL_TABLES } from '../../../src/runtime/seccomp/syscalls.generated.js';
import type { Seccomp, SeccompArg } from '../../../src/spec/runtime.js';

const root = new URL('../../../../', import.meta.url).pathname;
const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const OP_NUM: Record<SeccompArg['op'], number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};
const LIBSECCOMP_ARCH: Record<string, string> = { SCMP_ARCH_X86: 'x86', SCMP_ARCH_X32: 'x32', SCMP_ARCH_AARCH64: 'aarch64' };
// On i386 libseccomp maps socket and SysV IPC calls onto socketcall/ipc pseudo-numbers as well
// as the direct syscalls; berth matches the direct syscalls only (docs/seccomp.md).
const I386_MULTIPLEXED = /^(socket|bind|connect|listen|accept|getsock|setsock|getpeer|send|recv|shutdown|sem|shm|msg|ipc)/;

function prerequisite(): string | undefined {
  if (process.arch !== 'x64') return 'the comparison covers x86_64 hosts';
  if (spawnSync('gcc', ['--version']).status !== 0) return 'gcc is not installed';
  if (!existsSync('/usr/include/seccomp.h')) return 'libseccomp-dev is not installed (scripts/setup.sh installs it)';
  return undefined;
}

const u64 = (v: unknown) => BigInt.asUintN(64, BigInt(v as number | bigint));

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDGE = [0n, 1n, 5n, 38n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x100000005n, 0x7fffffffffffffffn, 0x8000000000000000n, (1n << 64n) - 1n];

function randomProfile(seed: number, ops: SeccompArg['op'][] = Object.keys(OP_NUM) as SeccompArg['op'][], edge = EDGE): Seccomp {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const actions: [string, number | undefined][] = [
    ['SCMP_ACT_ALLOW', undefined],
    ['SCMP_ACT_ERRNO', undefined],
    ['SCMP_ACT_ERRNO', 38],
    ['SCMP_ACT_KILL_PROCESS', undefined],
    ['SCMP_ACT_TRAP', undefined],
    ['SCMP_ACT_LOG', undefined],
    ['SCMP_ACT_TRACE', 3],
  ];
  const [defaultAction, defaultErrnoRet] = pick(actions);
  const names = Object.keys(SYSCALL_TABLES.x86_64);
  const syscalls: Seccomp['syscalls'] = [];
  for (let i = 0; i < 40; i++) {
    const name = pick(names);
    if (syscalls.some((s) => s.names.includes(name))) continue;
    let act = pick(actions);
    // libseccomp refuses rules whose action is the default one: leave those out.
    while (act[0] === defaultAction && act[1] === defaultErrnoRet) act = pick(actions);
    // One rule per syscall: libseccomp 2.5 merges several argument rules of one syscall into a
    // tree that can lose one of them (docs/seccomp.md shows a case), so it is no oracle there.
    const rules = 1;
    for (let k = 0; k < rules; k++) {
      const indices = [0, 1, 2, 3, 4, 5].filter(() => r() < 0.35).slice(0, 3);
      const args: SeccompArg[] = indices.map((index) => {
        const op = pick(ops);
        const value = pick(edge) + (r() < 0.3 ? BigInt(Math.floor(r() * 1000)) : 0n);
        const a: SeccompArg = { index, op, value: BigInt.asUintN(64, value) as unknown as number };
        if (op === 'SCMP_CMP_MASKED_EQ') a.valueTwo = (BigInt.asUintN(64, value) & pick(edge)) as unknown as number;
        return a;
      });
      syscalls.push({ names: [name], action: act[0], errnoRet: act[1], args: args.length ? args : undefined });
    }
  }
  const architectures = ['SCMP_ARCH_X86_64', ...(r() < 0.5 ? ['SCMP_ARCH_X86'] : []), ...(r() < 0.5 ? ['SCMP_ARCH_X32'] : [])];
  return { defaultAction, defaultErrnoRet, architectures, syscalls };
}

describe('berth vs libseccomp', { skip: prerequisite() }, () => {
  let dir = '';
  let tool = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-libseccomp-'));
    tool = join(dir, 'libseccomp-export');
    execFileSync('gcc', ['-O2', '-Wall', '-o', tool, join(root, 'test/integration/seccomp/libseccomp-export.c'), '-lseccomp']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function libseccomp(s: Seccomp): { bpf: Buffer; skipped: Set<string> } {
    const lines = [`default ${actionValue(s.defaultAction, s.defaultErrnoRet, 'default')}`];
    for (const a of s.architectures ?? []) if (LIBSECCOMP_ARCH[a]) lines.push(`arch ${LIBSECCOMP_ARCH[a]}`);
    for (const r of s.syscalls ?? []) {
      const act = actionValue(r.action, r.errnoRet, 'rule');
      const args = (r.args ?? []).map((a) => `${a.index} ${OP_NUM[a.op]} ${u64(a.value)} ${u64(a.valueTwo ?? 0)}`);
      for (const n of r.names) lines.push(`rule ${n} ${act} ${args.length} ${args.join(' ')}`);
    }
    const out = join(dir, 'ref.bpf');
    const p = spawnSync(tool, [out], { input: lines.join('\n') + '\n', encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    // Only names absent on x86_64 may be refused (libseccomp resolves names on the native arch).
    const skipped = new Set<string>();
    for (const l of p.stderr.split('\n').filter(Boolean)) {
      const m = /^skip (\S+): /.exec(l);
      assert.ok(m, l);
      skipped.add(m[1]);
    }
    return { bpf: readFileSync(out), skipped };
  }

  /** Argument vectors around every value the profile compares for this syscall. */
  function probes(s: Seccomp, name: string): bigint[][] {
    const out: bigint[][] = [[0n, 0n, 0n, 0n, 0n, 0n]];
    for (const r of s.syscalls ?? []) {
      if (!r.names.includes(name) || !r.args) continue;
      const base = [0n, 0n, 0n, 0n, 0n, 0n];
      for (const a of r.args) base[a.index] = a.op === 'SCMP_CMP_MASKED_EQ' ? u64(a.valueTwo ?? 0) : u64(a.value);
      out.push(base);
      for (const a of r.args) {
        const v = base[a.index];
        for (const x of [v - 1n, v + 1n, v + (1n << 32n), v - (1n << 32n), v ^ (1n << 63n), v ^ 0xffffffffn, v | u64(a.value)]) {
          const p = [...base];
          p[a.index] = BigInt.asUintN(64, x);
          out.push(p);
        }
      }
    }
    return out;
  }

  function compare(s: Seccomp, what: string, host: HostArch = 'x86_64'): number {
    // libseccomp has no ENOSYS stub (runc adds it on top): compare without it.
    const ours = compileSeccomp(s, { arch: host, enosysAfterLast: false }).filter;
    // For aarch64, libseccomp (native x86_64 here) gets aarch64 as an extra architecture.
    const { bpf: ref, skipped } = libseccomp(host === 'aarch64' ? { ...s, architectures: ['SCMP_ARCH_AARCH64'] } : s);
    let checked = 0;
    const families =
      host === 'aarch64'
        ? [{ arch: AUDIT_ARCH_AARCH64, table: SYSCALL_TABLES.aarch64, bits: 64 }]
        : [
            { arch: AUDIT_ARCH_X86_64, table: SYSCALL_TABLES.x86_64, bits: 64 },
            { arch: AUDIT_ARCH_I386, table: SYSCALL_TABLES.x86, bits: 32 },
            { arch: AUDIT_ARCH_X86_64, table: SYSCALL_TABLES.x32, bits: 64 },
          ];
    for (const f of families) {
      // Names libseccomp 2.5 does not know (newer syscalls) are left out of its filter.
      // libseccomp compares only the low words on x32, berth all 64 bits the kernel passes
      // (docs/seccomp.md): x32 syscalls with argument rules are not compared.
      const hasArgs = (n: string) => (s.syscalls ?? []).some((r) => r.names.includes(n) && r.args?.length);
      const entries = Object.entries(f.table).filter(
        ([n]) =>
          !skipped.has(n) &&
          (f.arch !== AUDIT_ARCH_I386 || !I386_MULTIPLEXED.test(n)) &&
          (f.table !== SYSCALL_TABLES.x32 || !hasArgs(n)),
      );
      for (const [name, nr] of [...entries, ['(none)', 999] as const, ['(none)', 0x40000000 + 999] as const]) {
        for (const p of probes(s, name)) {
          // A 32-bit ABI hands the filter zero-extended arguments.
          const args = f.bits === 32 ? p.map((x) => x & 0xffffffffn) : p;
          const want = runFilter(ref, { nr, arch: f.arch, args }).ret;
          const got = runFilter(ours, { nr, arch: f.arch, args }).ret;
          assert.equal(
            got.toString(16),
            want.toString(16),
            `${what}: ${name} (nr 0x${nr.toString(16)}, arch 0x${f.arch.toString(16)}) args ${args.map((x) => `0x${x.toString(16)}`).join(',')}`,
          );
          checked++;
        }
      }
    }
    return checked;
  }

  it("docker's default profile gives the same answers as libseccomp's filter", () => {
    for (const caps of [DOCKER_CAPS, [...DOCKER_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_BPF'], []]) {
      assert.ok(compare(dockerDefaultProfile({ capabilities: caps, arch: 'x86_64', kernel: '6.1.0' }), `docker default ${caps.length} caps`) > 1000);
      const arm = dockerDefaultProfile({ capabilities: caps, arch: 'aarch64', kernel: '6.1.0' });
      assert.ok(compare(arm, `docker default arm64 ${caps.length} caps`, 'aarch64') > 200);
    }
  });

  it('random profiles (every action and operator, 64-bit edge values) give the same answers', () => {
    const sets: [string, SeccompArg['op'][], bigint[]][] = [
      ['eq', ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_MASKED_EQ'], EDGE],
      ['ord32', ['SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GE', 'SCMP_CMP_GT'], EDGE.filter((v) => v < 0x100000000n)],
      ['ord64', ['SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GE', 'SCMP_CMP_GT'], EDGE],
      ['all', Object.keys(OP_NUM) as SeccompArg['op'][], EDGE],
    ];
    const fails: string[] = [];
    for (const [tag, ops, edge] of sets) {
      for (let seed = 1; seed <= 10; seed++) {
        try {
          compare(randomProfile(seed, ops, edge), `random profile ${tag} seed ${seed}`);
          if (seed <= 3) compare(randomProfile(seed, ops, edge), `random profile ${tag} seed ${seed} on aarch64`, 'aarch64');
        } catch (e) {
          fails.push((e as Error).message.split('\n')[0]);
        }
      }
    }
    assert.deepEqual(fails, []);
  });
});
