/**
 * A classic-BPF interpreter for seccomp programs, for tests: runs a filter over a simulated
 * `struct seccomp_data` the way the kernel does (A register, absolute 32-bit loads, forward
 * jumps only), and refuses anything the kernel's seccomp checker would refuse that the
 * compiler might emit (out-of-range loads and jumps, falling off the end).
 */
import { BPF_ALU_AND_K, BPF_JMP_JA, BPF_JMP_JEQ_K, BPF_JMP_JGE_K, BPF_JMP_JGT_K, BPF_JMP_JSET_K, BPF_LD_W_ABS, BPF_RET_K, decodeFilter } from './bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: (bigint | number)[];
}

export interface RunResult {
  ret: number;
  /** Instructions executed. */
  steps: number;
}

const decoded = new WeakMap<Buffer, ReturnType<typeof decodeFilter>>();

export function runFilter(filter: Buffer, d: SeccompData): RunResult {
  let insns = decoded.get(filter);
  if (!insns) decoded.set(filter, (insns = decodeFilter(filter)));
  const data = Buffer.alloc(64);
  data.writeInt32LE(d.nr | 0, 0);
  data.writeUInt32LE(d.arch >>> 0, 4);
  data.writeBigUInt64LE(d.instructionPointer ?? 0n, 8);
  for (let i = 0; i < 6; i++) data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), 16 + 8 * i);
  let a = 0;
  let pc = 0;
  let steps = 0;
  for (;;) {
    if (pc >= insns.length) throw new Error(`BPF: fell off the end at ${pc}`);
    const { code, jt, jf, k } = insns[pc];
    steps++;
    switch (code) {
      case BPF_LD_W_ABS:
        if (k % 4 !== 0 || k + 4 > 64) throw new Error(`BPF: bad load offset ${k} at ${pc}`);
        a = data.readUInt32LE(k);
        pc++;
        break;
      case BPF_ALU_AND_K:
        a = (a & k) >>> 0;
        pc++;
        break;
      case BPF_JMP_JA:
        pc += 1 + k;
        break;
      case BPF_JMP_JEQ_K:
      case BPF_JMP_JGT_K:
      case BPF_JMP_JGE_K:
      case BPF_JMP_JSET_K: {
        const cond =
          code === BPF_JMP_JEQ_K ? a === k : code === BPF_JMP_JGT_K ? a > k : code === BPF_JMP_JGE_K ? a >= k : (a & k) !== 0;
        pc += 1 + (cond ? jt : jf);
        break;
      }
      case BPF_RET_K:
        return { ret: k >>> 0, steps };
      default:
        throw new Error(`BPF: unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
}
