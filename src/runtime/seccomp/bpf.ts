/**
 * A tiny classic-BPF assembler for seccomp filters: instructions with symbolic labels, resolved
 * into `struct sock_filter` bytes (linux/filter.h: u16 code, u8 jt, u8 jf, u32 k; host byte
 * order, little-endian on the architectures berth supports).
 *
 * Classic BPF conditional jumps carry 8-bit forward offsets (jt, jf). A target further than
 * 255 instructions away is reached through a trampoline: the conditional jump skips to an
 * unconditional `ja` (32-bit offset) placed right after it, or to a copy of the target's `ret`
 * when the target is a return (same size, one jump less at run time).
 */
import { BerthError } from '../../errors/index.js';

// Opcodes (linux/bpf_common.h): class | size | mode, class | op | src.
export const BPF_LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
export const BPF_ALU_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
export const BPF_JMP_JA = 0x05; // BPF_JMP | BPF_JA
export const BPF_JMP_JEQ_K = 0x15;
export const BPF_JMP_JGT_K = 0x25;
export const BPF_JMP_JGE_K = 0x35;
export const BPF_JMP_JSET_K = 0x45;
export const BPF_RET_K = 0x06;

/** The kernel's limit on classic BPF program length (BPF_MAXINSNS, linux/bpf_common.h). */
export const BPF_MAXINSNS = 4096;

export type JumpOp = 'jeq' | 'jgt' | 'jge' | 'jset';
const JUMP_CODES: Record<JumpOp, number> = {
  jeq: BPF_JMP_JEQ_K,
  jgt: BPF_JMP_JGT_K,
  jge: BPF_JMP_JGE_K,
  jset: BPF_JMP_JSET_K,
};

/** A position in the program, bound once with `Assembler.bind`. */
export type Label = number & { readonly __label: unique symbol };

type Item =
  | { kind: 'ld'; off: number }
  | { kind: 'and'; k: number }
  | { kind: 'ret'; k: number }
  | { kind: 'ja'; to: Label }
  | { kind: 'jmp'; code: number; k: number; t: Label; f: Label }
  | { kind: 'bind'; label: Label };

/** One decoded `struct sock_filter`. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export class Assembler {
  #items: Item[] = [];
  #labels = 0;

  label(): Label {
    return this.#labels++ as Label;
  }

  /** Binds `label` to the next instruction emitted. */
  bind(label: Label): void {
    this.#items.push({ kind: 'bind', label });
  }

  /** A = 32-bit word at byte offset `off` of struct seccomp_data. */
  ld(off: number): void {
    this.#items.push({ kind: 'ld', off });
  }

  and(k: number): void {
    this.#items.push({ kind: 'and', k: k >>> 0 });
  }

  ret(k: number): void {
    this.#items.push({ kind: 'ret', k: k >>> 0 });
  }

  ja(to: Label): void {
    this.#items.push({ kind: 'ja', to });
  }

  /** if (A op k) goto t; else goto f. Both targets must lie ahead. */
  jmp(op: JumpOp, k: number, t: Label, f: Label): void {
    this.#items.push({ kind: 'jmp', code: JUMP_CODES[op], k: k >>> 0, t, f });
  }

  /** Resolves labels, adds trampolines for far jumps, and returns the sock_filter array. */
  assemble(): SockFilter[] {
    const items = this.#items.filter((i): i is Exclude<Item, { kind: 'bind' }> => i.kind !== 'bind');
    // Which instruction index each label points at (index into `items`).
    const at = new Map<Label, number>();
    let n = 0;
    for (const i of this.#items) {
      if (i.kind === 'bind') at.set(i.label, n);
      else n++;
    }
    const target = (l: Label): number => {
      const t = at.get(l);
      if (t === undefined || t >= items.length) throw new BerthError('INTERNAL', `seccomp: BPF label ${l} is not bound to an instruction`);
      return t;
    };
    // sizes[i]: 1 for plain instructions; a conditional jump grows to 2 or 3 with trampolines.
    const sizes = items.map(() => 1);
    const far = items.map(() => ({ t: false, f: false }));
    let addr: number[] = [];
    for (;;) {
      addr = [];
      let a = 0;
      for (let i = 0; i < items.length; i++) {
        addr.push(a);
        a += sizes[i];
      }
      addr.push(a);
      let changed = false;
      for (let i = 0; i < items.length; i++) {
        const it = items[i];
        if (it.kind !== 'jmp') continue;
        const dist = (l: Label) => addr[target(l)] - (addr[i] + 1);
        const t = dist(it.t) > 255;
        const f = dist(it.f) > 255;
        if (t !== far[i].t || f !== far[i].f) {
          // Only ever grow, so the loop ends.
          far[i] = { t: t || far[i].t, f: f || far[i].f };
          const size = 1 + Number(far[i].t) + Number(far[i].f);
          if (size !== sizes[i]) {
            sizes[i] = size;
            changed = true;
          }
        }
      }
      if (!changed) break;
    }
    const out: SockFilter[] = [];
    const retAt = (idx: number): number | undefined => {
      const it = items[idx];
      return it.kind === 'ret' ? it.k : undefined;
    };
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const pc = addr[i];
      switch (it.kind) {
        case 'ld':
          out.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: it.off });
          break;
        case 'and':
          out.push({ code: BPF_ALU_AND_K, jt: 0, jf: 0, k: it.k });
          break;
        case 'ret':
          out.push({ code: BPF_RET_K, jt: 0, jf: 0, k: it.k });
          break;
        case 'ja': {
          const d = addr[target(it.to)] - (pc + 1);
          if (d < 0) throw new BerthError('INTERNAL', 'seccomp: BPF backward jump');
          out.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: d });
          break;
        }
        case 'jmp': {
          const tIdx = target(it.t);
          const fIdx = target(it.f);
          const { t: tFar, f: fFar } = far[i];
          // Layout: [jmp][tramp for t][tramp for f]; the next real instruction follows them.
          const tSlot = pc + 1;
          const fSlot = pc + 1 + Number(tFar);
          const jt = tFar ? 0 : addr[tIdx] - (pc + 1);
          const jf = fFar ? fSlot - (pc + 1) : addr[fIdx] - (pc + 1);
          if (jt < 0 || jf < 0 || jt > 255 || jf > 255) throw new BerthError('INTERNAL', 'seccomp: BPF jump out of range');
          out.push({ code: it.code, jt, jf, k: it.k });
          const tramp = (slot: number, idx: number) => {
            const r = retAt(idx);
            if (r !== undefined) out.push({ code: BPF_RET_K, jt: 0, jf: 0, k: r });
            else out.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: addr[idx] - (slot + 1) });
          };
          if (tFar) tramp(tSlot, tIdx);
          if (fFar) tramp(fSlot, fIdx);
          break;
        }
      }
    }
    return out;
  }
}

/** Serialises instructions as the kernel's `struct sock_filter` array (little-endian). */
export function encodeFilter(insns: SockFilter[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((x, i) => {
    buf.writeUInt16LE(x.code, i * 8);
    buf.writeUInt8(x.jt, i * 8 + 2);
    buf.writeUInt8(x.jf, i * 8 + 3);
    buf.writeUInt32LE(x.k >>> 0, i * 8 + 4);
  });
  return buf;
}

export function decodeFilter(buf: Buffer): SockFilter[] {
  const out: SockFilter[] = [];
  for (let o = 0; o + 8 <= buf.length; o += 8) {
    out.push({ code: buf.readUInt16LE(o), jt: buf.readUInt8(o + 2), jf: buf.readUInt8(o + 3), k: buf.readUInt32LE(o + 4) });
  }
  return out;
}
