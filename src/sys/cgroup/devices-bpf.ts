import type { DeviceCgroup } from '../../spec/runtime.js';
import { BerthError } from '../../errors/index.js';

/**
 * OCI device rules -> a BPF_PROG_TYPE_CGROUP_DEVICE program (cgroup v2 has no devices files;
 * the kernel runs the program on every open and mknod of a device node and allows the access
 * when it returns 1). The program is plain data: the native addon only loads and attaches it.
 *
 * Semantics are those of the v1 devices controller applied in order: a rule for every device
 * with every access ("a", rwm) resets the default to allow or deny and drops earlier rules;
 * afterwards the last rule that matches an access decides, and no match means the default.
 * An allow rule matches when it grants every requested access bit, a deny rule when it
 * covers any of them.
 */
export function deviceProgram(rules: DeviceCgroup[]): Buffer {
  let defaultAllow = true;
  let list: DeviceCgroup[] = [];
  for (const r of rules) {
    const access = accessBits(r.access);
    if ((r.type ?? 'a') === 'a' && access === ACC_ALL) {
      defaultAllow = r.allow;
      list = [];
    } else list.push(r);
  }
  const prog: Insn[] = [
    // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } (uapi/linux/bpf.h)
    ldxw(R2, R1, 0), and32(R2, 0xffff), // device type
    ldxw(R3, R1, 0), rsh32(R3, 16), // access bits
    ldxw(R4, R1, 4), // major
    ldxw(R5, R1, 8), // minor
  ];
  for (const r of [...list].reverse()) prog.push(...ruleBlock(r));
  prog.push(mov64(R0, defaultAllow ? 1 : 0), exit());
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((insn, i) => encode(insn, buf, i * 8));
  return buf;
}

const DEV_BLOCK = 1; // BPF_DEVCG_DEV_BLOCK
const DEV_CHAR = 2; // BPF_DEVCG_DEV_CHAR
const ACC_MKNOD = 1; // BPF_DEVCG_ACC_MKNOD
const ACC_READ = 2;
const ACC_WRITE = 4;
const ACC_ALL = ACC_MKNOD | ACC_READ | ACC_WRITE;

function accessBits(access: string | undefined): number {
  const a = access || 'rwm';
  if (!/^[rwm]+$/.test(a)) throw new BerthError('INVALID_ARGUMENT', `device rule access ${JSON.stringify(a)}: expected letters of "rwm"`);
  return (a.includes('r') ? ACC_READ : 0) | (a.includes('w') ? ACC_WRITE : 0) | (a.includes('m') ? ACC_MKNOD : 0);
}

/** One rule: a run of "if no match, skip to the next rule" tests, then return allow/deny. */
function ruleBlock(r: DeviceCgroup): Insn[] {
  const tests: ((skip: number) => Insn[])[] = [];
  const type = r.type ?? 'a';
  if (type !== 'a') tests.push((skip) => [jne(R2, type === 'b' ? DEV_BLOCK : DEV_CHAR, skip)]);
  const access = accessBits(r.access);
  if (access !== ACC_ALL) {
    // allow: requested & ~granted must be 0; deny: requested & denied must not be 0.
    if (r.allow) tests.push((skip) => [mov32x(R1, R3), and32(R1, ~access & ACC_ALL), jne(R1, 0, skip)]);
    else tests.push((skip) => [mov32x(R1, R3), and32(R1, access), jeq(R1, 0, skip)]);
  }
  if (r.major !== undefined && r.major !== null && r.major !== -1) tests.push((skip) => [jne(R4, r.major!, skip)]);
  if (r.minor !== undefined && r.minor !== null && r.minor !== -1) tests.push((skip) => [jne(R5, r.minor!, skip)]);
  // Lay out with placeholder offsets to learn the length, then fill in the jumps.
  const sizes = tests.map((t) => t(0).length);
  const total = sizes.reduce((a, b) => a + b, 0) + 2;
  const out: Insn[] = [];
  for (const t of tests) {
    const before = out.length;
    const insns = t(0);
    // The jump is the last instruction of each test; it skips to the end of this block.
    const jumpAt = before + insns.length - 1;
    out.push(...t(total - jumpAt - 1));
  }
  out.push(mov64(R0, r.allow ? 1 : 0), exit());
  return out;
}

// ---- eBPF instruction encoding (Documentation/bpf/standardization/instruction-set.rst)
interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}
const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;
const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });
/** BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off) */
const ldxw = (dst: number, src: number, off: number) => insn(0x61, dst, src, off, 0);
/** BPF_ALU | BPF_AND | BPF_K (32-bit) */
const and32 = (dst: number, imm: number) => insn(0x54, dst, 0, 0, imm | 0);
/** BPF_ALU | BPF_RSH | BPF_K */
const rsh32 = (dst: number, imm: number) => insn(0x74, dst, 0, 0, imm);
/** BPF_ALU | BPF_MOV | BPF_X (32-bit register move) */
const mov32x = (dst: number, src: number) => insn(0xbc, dst, src, 0, 0);
/** BPF_ALU64 | BPF_MOV | BPF_K */
const mov64 = (dst: number, imm: number) => insn(0xb7, dst, 0, 0, imm);
/** BPF_JMP | BPF_JNE | BPF_K */
const jne = (dst: number, imm: number, off: number) => insn(0x55, dst, 0, off, imm | 0);
/** BPF_JMP | BPF_JEQ | BPF_K */
const jeq = (dst: number, imm: number, off: number) => insn(0x15, dst, 0, off, imm | 0);
/** BPF_JMP | BPF_EXIT */
const exit = () => insn(0x95, 0, 0, 0, 0);

function encode(i: Insn, buf: Buffer, at: number): void {
  buf.writeUInt8(i.code, at);
  // Little-endian hosts: dst in the low nibble, src in the high one.
  buf.writeUInt8((i.src << 4) | i.dst, at + 1);
  buf.writeInt16LE(i.off, at + 2);
  buf.writeInt32LE(i.imm, at + 4);
}
