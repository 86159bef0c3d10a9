/**
 * Compiles an OCI `linux.seccomp` (runtime-spec config-linux.md "Seccomp") into a classic BPF
 * program for seccomp(SECCOMP_SET_MODE_FILTER) (seccomp(2), Documentation/userspace-api/seccomp_filter.rst).
 *
 * Program shape:
 *   ld arch; one jeq per architecture section; otherwise ret KILL_PROCESS (bad arch)
 *   section: ld nr; (x86_64: nr >= 0x40000000 goes to the x32 part or is killed as bad arch,
 *            as libseccomp does); a binary search over ranges of syscall numbers that share
 *            one outcome, whose leaves return at once or jump to an argument handler
 *   handlers: per syscall, its argument rules in order (each rule ANDs its args; the rules
 *            are ORed: the first that matches returns its action), then its rule without args
 *            if any, else the default action.
 * Syscall names unknown on an architecture are skipped there (the default action applies).
 */
import { BerthError } from '../../errors/index.js';
import type { Seccomp, SeccompArg } from '../../spec/runtime.js';
import { actionValue, ENOSYS, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_USER_NOTIF, SPEC_FLAGS } from './action.js';
import { ARCH_INFO, HOST_ARCHES, type HostArch, hostArch, isSpecArch, type SpecArch, X32_SYSCALL_BIT } from './arch.js';
import { Assembler, BPF_MAXINSNS, encodeFilter, type Label } from './bpf.js';
import { SYSCALL_TABLES } from './syscalls.generated.js';

export interface CompiledSeccomp {
  /** `struct sock_filter` array, 8 bytes per instruction, host (little-endian) byte order. */
  filter: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(2): spec.flags, plus NEW_LISTENER with listenerPath. */
  flags: number;
  /** Where the helper sends the listener fd (SCM_RIGHTS) with the container state. */
  listenerPath?: string;
}

export interface CompileOptions {
  /** The host the filter runs on (default: this one). */
  arch?: HostArch;
  /**
   * Answer syscall numbers above the highest one the profile names (per architecture) with
   * ENOSYS instead of a denying default action, as runc does (libcontainer/seccomp/patchbpf):
   * syscalls newer than the profile then look absent, and libc falls back to older ones
   * instead of failing with EPERM. Default true; never applies when the default action
   * lets calls through (ALLOW, LOG, TRACE).
   */
  enosysAfterLast?: boolean;
}

// struct seccomp_data (linux/seccomp.h): int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number) => 16 + 8 * i;
const argHi = (i: number) => 16 + 8 * i + 4;

export const OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
type Op = (typeof OPS)[number];

interface Cond {
  index: number;
  op: Op;
  value: bigint;
  valueTwo: bigint;
}
interface Rule {
  ret: number;
  args: Cond[];
}

const U64_MAX = (1n << 64n) - 1n;

/** A 64-bit argument value from the spec: numbers (negatives as two's complement), bigints, decimal or 0x strings. */
export function toU64(v: unknown, where: string): bigint {
  const bad = (why: string) => new BerthError('INVALID_ARGUMENT', `compile seccomp profile: ${where}: ${why}`);
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw bad(`${v} is not an integer`);
    // 2**64 is what JSON.parse makes of 18446744073709551615 and its neighbours: not exact.
    if (v >= 2 ** 64) throw bad(`${v} is above 2^64-1 (a JSON number this large lost precision)`);
    b = BigInt(v);
  } else if (typeof v === 'string' && /^(0x[0-9a-f]+|-?[0-9]+)$/i.test(v)) b = BigInt(v);
  else throw bad(`${JSON.stringify(v)} is not a number`);
  if (b < -(1n << 63n) || b > U64_MAX) throw bad(`${v} does not fit in 64 bits`);
  return BigInt.asUintN(64, b);
}

function parseRules(s: Seccomp): Map<string, Rule[]> {
  const byName = new Map<string, Rule[]>();
  (s.syscalls ?? []).forEach((sc, i) => {
    const where = `syscalls[${i}]`;
    if (!Array.isArray(sc.names) || sc.names.length === 0) {
      throw new BerthError('INVALID_ARGUMENT', `compile seccomp profile: ${where}: names must be a non-empty list`);
    }
    const ret = actionValue(sc.action, sc.errnoRet, `${where}.action`);
    if (ret === SECCOMP_RET_USER_NOTIF && !s.listenerPath) {
      throw new BerthError('INVALID_ARGUMENT', `compile seccomp profile: ${where}: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath`);
    }
    const args = (sc.args ?? []).map((a: SeccompArg, j) => {
      const w = `${where}.args[${j}]`;
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) {
        throw new BerthError('INVALID_ARGUMENT', `compile seccomp profile: ${w}: index ${a.index} is not in 0..5`);
      }
      if (!(OPS as readonly string[]).includes(a.op)) {
        throw new BerthError('INVALID_ARGUMENT', `compile seccomp profile: ${w}: unknown operator ${JSON.stringify(a.op)} (one of ${OPS.join(', ')})`);
      }
      return { index: a.index, op: a.op, value: toU64(a.value, `${w}.value`), valueTwo: toU64(a.valueTwo ?? 0, `${w}.valueTwo`) };
    });
    for (const name of sc.names) {
      if (typeof name !== 'string' || name === '') throw new BerthError('INVALID_ARGUMENT', `compile seccomp profile: ${where}: empty syscall name`);
      let list = byName.get(name);
      if (!list) byName.set(name, (list = []));
      list.push({ ret, args });
    }
  });
  return byName;
}

/** Argument rules in the order given, then the first rule without arguments; later ones never match. */
function orderRules(rules: Rule[]): Rule[] {
  const withArgs = rules.filter((r) => r.args.length > 0);
  const plain = rules.find((r) => r.args.length === 0);
  return plain ? [...withArgs, plain] : withArgs;
}

function selectArches(s: Seccomp, host: HostArch): SpecArch[] {
  const listed = new Set<SpecArch>();
  for (const a of s.architectures ?? []) {
    if (!isSpecArch(a)) throw new BerthError('INVALID_ARGUMENT', `compile seccomp profile: architectures: unknown architecture ${JSON.stringify(a)}`);
    listed.add(a);
  }
  // Like libseccomp's seccomp_init, the native architecture is always in the filter.
  const [native] = HOST_ARCHES[host];
  listed.add(native);
  return HOST_ARCHES[host].filter((a) => listed.has(a) && ARCH_INFO[a]?.table !== undefined);
}

export function compileSeccomp(s: Seccomp, opts: CompileOptions = {}): CompiledSeccomp {
  const host = opts.arch ?? hostArch();
  const defaultRet = actionValue(s.defaultAction, s.defaultErrnoRet, 'defaultAction');
  const permissive = ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(s.defaultAction);
  const tailRet = (opts.enosysAfterLast ?? true) && !permissive ? (SECCOMP_RET_ERRNO | ENOSYS) >>> 0 : defaultRet;
  if (defaultRet === SECCOMP_RET_USER_NOTIF) {
    // Every syscall of the helper between seccomp() and execve() would wait for a supervisor.
    throw new BerthError('INVALID_ARGUMENT', 'compile seccomp profile: defaultAction: SCMP_ACT_NOTIFY cannot be the default action');
  }
  let flags = 0;
  for (const f of s.flags ?? []) {
    const bit = SPEC_FLAGS[f];
    if (bit === undefined) {
      throw new BerthError('INVALID_ARGUMENT', `compile seccomp profile: flags: unknown flag ${JSON.stringify(f)} (one of ${Object.keys(SPEC_FLAGS).join(', ')})`);
    }
    flags |= bit;
  }
  if (s.listenerPath) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;

  const rulesByName = parseRules(s);
  const arches = selectArches(s, host);
  const asm = new Assembler();
  const retLabels = new Map<number, Label>();
  const retLabel = (k: number): Label => {
    let l = retLabels.get(k >>> 0);
    if (l === undefined) retLabels.set(k >>> 0, (l = asm.label()));
    return l;
  };
  const badArch = retLabel(SECCOMP_RET_KILL_PROCESS);
  const handlers: { label: Label; rules: Rule[]; bits: 32 | 64 }[] = [];
  const handlerKeys = new Map<string, Label>();

  // Outcome of each syscall number of an architecture: a return value, or a handler label.
  type Outcome = { ret: number } | { handler: Label };
  const outcomes = (a: SpecArch): Map<number, Outcome> => {
    const info = ARCH_INFO[a]!;
    const table = SYSCALL_TABLES[info.table!];
    const out = new Map<number, Outcome>();
    for (const [name, rules] of rulesByName) {
      const nr = table[name];
      if (nr === undefined) continue; // unknown on this architecture: skipped, as libseccomp does
      const ordered = orderRules(rules);
      if (ordered.length === 1 && ordered[0].args.length === 0) {
        out.set(nr, { ret: ordered[0].ret });
        continue;
      }
      const key = `${info.bits}:${JSON.stringify(ordered, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
      let label = handlerKeys.get(key);
      if (label === undefined) {
        label = asm.label();
        handlerKeys.set(key, label);
        handlers.push({ label, rules: ordered, bits: info.bits });
      }
      out.set(nr, { handler: label });
    }
    return out;
  };

  // Binary search over [lo, hi) ranges of syscall numbers with one outcome each.
  const emitDispatch = (a: SpecArch, lo: number, hi: number) => {
    const map = outcomes(a);
    const nrs = [...map.keys()].filter((n) => n >= lo && n < hi).sort((x, y) => x - y);
    const ranges: { start: number; out: Outcome }[] = [];
    const same = (x: Outcome, y: Outcome) =>
      'ret' in x ? 'ret' in y && x.ret === y.ret : 'handler' in y && x.handler === y.handler;
    const push = (start: number, o: Outcome) => {
      const last = ranges[ranges.length - 1];
      if (!last || !same(last.out, o)) ranges.push({ start, out: o });
    };
    let next = lo;
    for (const nr of nrs) {
      if (nr > next) push(next, { ret: defaultRet });
      push(nr, map.get(nr)!);
      next = nr + 1;
    }
    // Above the last named syscall: ENOSYS (see enosysAfterLast), when the profile names any here.
    if (next < hi) push(next, { ret: nrs.length ? tailRet : defaultRet });
    // Leaves are not instructions: a comparison jumps straight to the outcome (a return in
    // this section's pool right after the tree, or a handler); far ones get trampolines.
    const pool = new Map<number, Label>();
    const target = (o: Outcome): Label => {
      if ('handler' in o) return o.handler;
      let l = pool.get(o.ret);
      if (l === undefined) pool.set(o.ret, (l = asm.label()));
      return l;
    };
    const pending: { label: Label; from: number; to: number }[] = [];
    const node = (from: number, to: number): Label => {
      if (to - from === 1) return target(ranges[from].out);
      const label = asm.label();
      pending.push({ label, from, to });
      return label;
    };
    const emitNode = (label: Label, from: number, to: number) => {
      const mid = (from + to) >> 1;
      asm.bind(label);
      // Depth-first, left child right after its parent.
      const left = node(from, mid);
      const right = node(mid, to);
      asm.jmp('jge', ranges[mid].start, right, left);
      const kids = pending.splice(0);
      for (const k of kids.sort((x, y) => x.from - y.from)) emitNode(k.label, k.from, k.to);
    };
    const root = node(0, ranges.length);
    if (pending.length) {
      const r = pending.splice(0)[0];
      emitNode(r.label, r.from, r.to);
    } else {
      asm.ja(root);
    }
    for (const [k, l] of pool) {
      asm.bind(l);
      asm.ret(k);
    }
  };

  // Dispatch on seccomp_data.arch; x86_64 and x32 share one audit value.
  asm.ld(OFF_ARCH);
  const audits = [...new Set(arches.map((a) => ARCH_INFO[a]!.audit))];
  const sections = audits.map(() => asm.label());
  audits.forEach((audit, i) => {
    const nextCheck = asm.label();
    asm.jmp('jeq', audit, sections[i], i === audits.length - 1 ? badArch : nextCheck);
    if (i !== audits.length - 1) asm.bind(nextCheck);
  });
  audits.forEach((audit, i) => {
    asm.bind(sections[i]);
    asm.ld(OFF_NR);
    const here = arches.filter((a) => ARCH_INFO[a]!.audit === audit);
    const has = (a: SpecArch) => here.includes(a);
    if (has('SCMP_ARCH_X86_64') || has('SCMP_ARCH_X32')) {
      const x32 = asm.label();
      const x64 = asm.label();
      asm.jmp('jge', X32_SYSCALL_BIT, has('SCMP_ARCH_X32') ? x32 : badArch, has('SCMP_ARCH_X86_64') ? x64 : badArch);
      if (has('SCMP_ARCH_X86_64')) {
        asm.bind(x64);
        emitDispatch('SCMP_ARCH_X86_64', 0, X32_SYSCALL_BIT);
      }
      if (has('SCMP_ARCH_X32')) {
        asm.bind(x32);
        emitDispatch('SCMP_ARCH_X32', X32_SYSCALL_BIT, 2 ** 32);
      }
    } else {
      emitDispatch(here[0], 0, 2 ** 32);
    }
  });

  for (const h of handlers) {
    asm.bind(h.label);
    let covered = false;
    for (const r of h.rules) {
      if (r.args.length === 0) {
        asm.ret(r.ret);
        covered = true;
        break;
      }
      const fail = asm.label();
      for (const c of r.args) emitCond(asm, c, h.bits, fail);
      asm.ret(r.ret);
      asm.bind(fail);
    }
    if (!covered) asm.ret(defaultRet);
  }
  for (const [k, l] of retLabels) {
    asm.bind(l);
    asm.ret(k);
  }

  const insns = asm.assemble();
  if (insns.length > BPF_MAXINSNS) {
    throw new BerthError(
      'INVALID_ARGUMENT',
      `compile seccomp profile: the filter needs ${insns.length} BPF instructions, more than the kernel's limit of ${BPF_MAXINSNS}`,
    );
  }
  const out: CompiledSeccomp = { filter: encodeFilter(insns), flags };
  if (s.listenerPath) out.listenerPath = s.listenerPath;
  return out;
}

const hi32 = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
const lo32 = (v: bigint) => Number(v & 0xffffffffn);

/**
 * Emits one argument comparison; falls through when it holds, jumps to `fail` when not.
 * Comparisons are unsigned 64-bit, as libseccomp's: the high words decide unless equal, then
 * the low words. On 32-bit ABIs (i386) the kernel zero-extends arguments, and like libseccomp
 * only the low word and the low 32 bits of the values are compared.
 */
function emitCond(asm: Assembler, c: Cond, bits: 32 | 64, fail: Label): void {
  const pass = asm.label();
  const vh = hi32(c.value);
  const vl = lo32(c.value);
  const lo = () => asm.ld(argLo(c.index));
  // Emits the high-word part of an ordered comparison; continues to the low word on equality.
  const orderedHigh = (greater: Label, less: Label) => {
    if (bits === 32) return;
    asm.ld(argHi(c.index));
    const eq = asm.label();
    if (vh === 0) {
      // hi < 0 is impossible: hi == 0 goes on to the low word, anything else is greater.
      asm.jmp('jeq', 0, eq, greater);
    } else {
      const notGreater = asm.label();
      asm.jmp('jgt', vh, greater, notGreater);
      asm.bind(notGreater);
      asm.jmp('jeq', vh, eq, less);
    }
    asm.bind(eq);
  };
  switch (c.op) {
    case 'SCMP_CMP_EQ':
    case 'SCMP_CMP_NE': {
      const [onEq, onNe] = c.op === 'SCMP_CMP_EQ' ? [pass, fail] : [fail, pass];
      if (bits === 64) {
        const n = asm.label();
        asm.ld(argHi(c.index));
        asm.jmp('jeq', vh, n, onNe);
        asm.bind(n);
      }
      lo();
      // EQ falls through to pass when equal; NE jumps to fail when equal.
      asm.jmp('jeq', vl, onEq, onNe);
      break;
    }
    case 'SCMP_CMP_GT':
      orderedHigh(pass, fail);
      lo();
      asm.jmp('jgt', vl, pass, fail);
      break;
    case 'SCMP_CMP_GE':
      orderedHigh(pass, fail);
      lo();
      asm.jmp('jge', vl, pass, fail);
      break;
    case 'SCMP_CMP_LT':
      orderedHigh(fail, pass);
      lo();
      asm.jmp('jge', vl, fail, pass);
      break;
    case 'SCMP_CMP_LE':
      orderedHigh(fail, pass);
      lo();
      asm.jmp('jgt', vl, fail, pass);
      break;
    case 'SCMP_CMP_MASKED_EQ': {
      // (arg & value) == valueTwo, per word.
      const word = (off: number, mask: number, datum: number, ok: Label) => {
        if (mask === 0) {
          // Nothing of this word is compared: it holds iff the datum is 0 (`ok` is bound next).
          if (datum !== 0) asm.ja(fail);
          return;
        }
        asm.ld(off);
        if (mask !== 0xffffffff) asm.and(mask);
        asm.jmp('jeq', datum, ok, fail);
      };
      if (bits === 64) {
        const n = asm.label();
        word(argHi(c.index), hi32(c.value), hi32(c.valueTwo), n);
        asm.bind(n);
      }
      word(argLo(c.index), lo32(c.value), lo32(c.valueTwo), pass);
      break;
    }
  }
  asm.bind(pass);
}
