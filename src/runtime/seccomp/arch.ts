/**
 * Architectures as the seccomp filter sees them: the runtime-spec's SCMP_ARCH_* names, the
 * kernel's AUDIT_ARCH_* value in `seccomp_data.arch` (linux/audit.h), and which of them a host
 * can run. A filter only ever sees the arch values its host kernel produces, so sections for
 * other hosts' architectures would be dead code and are left out.
 */
import { BerthError } from '../../errors/index.js';
import type { TableArch } from './syscalls.generated.js';

/** Host architectures berth compiles filters for. */
export type HostArch = 'x86_64' | 'aarch64';

/** Every SCMP_ARCH_* name the runtime-spec allows in `linux.seccomp.architectures`. */
export const SPEC_ARCHES = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_LOONGARCH64',
] as const;
export type SpecArch = (typeof SPEC_ARCHES)[number];

// linux/audit.h: EM_* | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000).
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_ARM = 0x40000028;

/** x32 syscalls enter the x86_64 table with this bit set (arch/x86/include/uapi/asm/unistd.h). */
export const X32_SYSCALL_BIT = 0x40000000;

export interface ArchInfo {
  spec: SpecArch;
  audit: number;
  /** Syscall table, or undefined when berth has none (the arch is then left out). */
  table: TableArch | undefined;
  /** Width of syscall arguments in seccomp_data as the kernel fills them for this ABI. */
  bits: 32 | 64;
}

export const ARCH_INFO: Partial<Record<SpecArch, ArchInfo>> = {
  SCMP_ARCH_X86_64: { spec: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH_X86_64, table: 'x86_64', bits: 64 },
  // x32 shares AUDIT_ARCH_X86_64 and full 64-bit registers; its numbers carry X32_SYSCALL_BIT.
  SCMP_ARCH_X32: { spec: 'SCMP_ARCH_X32', audit: AUDIT_ARCH_X86_64, table: 'x32', bits: 64 },
  SCMP_ARCH_X86: { spec: 'SCMP_ARCH_X86', audit: AUDIT_ARCH_I386, table: 'x86', bits: 32 },
  SCMP_ARCH_AARCH64: { spec: 'SCMP_ARCH_AARCH64', audit: AUDIT_ARCH_AARCH64, table: 'aarch64', bits: 64 },
  SCMP_ARCH_ARM: { spec: 'SCMP_ARCH_ARM', audit: AUDIT_ARCH_ARM, table: undefined, bits: 32 },
};

/** The architectures a host's kernel can present to a filter, native first. */
export const HOST_ARCHES: Record<HostArch, SpecArch[]> = {
  x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

export function hostArch(): HostArch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new BerthError('NOT_IMPLEMENTED', `seccomp: host architecture ${JSON.stringify(process.arch)} is not supported (x86_64 and aarch64 are)`);
}

export function isSpecArch(s: string): s is SpecArch {
  return (SPEC_ARCHES as readonly string[]).includes(s);
}
