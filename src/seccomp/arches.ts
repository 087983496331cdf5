/**
 * Audit architectures as seccomp reports them in `seccomp_data.arch`, with the
 * byte order of their data and the syscall table their numbers come from.
 */
import { InputError } from '../errors.js';
import type { SYSCALL_TABLES } from './syscall-tables.generated.js';

/** Byte order of multi-byte fields: little- or big-endian. */
export type ByteOrder = 'le' | 'be';

/** Name of one generated syscall table. */
export type SyscallTableName = keyof typeof SYSCALL_TABLES;

/** One architecture (or, for x32, one ABI) a filter can check for. */
export interface Arch {
  /** cbpf's name, used on the command line and in JSON records. */
  readonly name: string;
  /** The `AUDIT_ARCH_*` value in `seccomp_data.arch`. */
  readonly auditArch: number;
  /** The kernel's constant name for `auditArch`. */
  readonly constant: string;
  /** Where the syscall names come from; absent when cbpf has no table for it. */
  readonly table?: SyscallTableName;
}

/** `__AUDIT_ARCH_LE`: set in `auditArch` for little-endian arches. */
export const AUDIT_ARCH_LE = 0x40000000;
/** `__X32_SYSCALL_BIT`: x32 calls arrive as x86_64 with this bit set in `nr`. */
export const X32_SYSCALL_BIT = 0x40000000;

/**
 * Every arch cbpf knows. x32 shares x86_64's audit value, so it comes after it:
 * looking an arch up by value finds x86_64.
 */
export const ARCHES: readonly Arch[] = [
  { name: 'x86_64', auditArch: 0xc000003e, constant: 'AUDIT_ARCH_X86_64', table: 'x86_64' },
  { name: 'i386', auditArch: 0x40000003, constant: 'AUDIT_ARCH_I386', table: 'i386' },
  { name: 'x32', auditArch: 0xc000003e, constant: 'AUDIT_ARCH_X86_64', table: 'x32' },
  { name: 'aarch64', auditArch: 0xc00000b7, constant: 'AUDIT_ARCH_AARCH64', table: 'aarch64' },
  { name: 'arm', auditArch: 0x40000028, constant: 'AUDIT_ARCH_ARM', table: 'arm' },
  { name: 'riscv64', auditArch: 0xc00000f3, constant: 'AUDIT_ARCH_RISCV64', table: 'riscv64' },
  { name: 'loongarch64', auditArch: 0xc0000102, constant: 'AUDIT_ARCH_LOONGARCH64', table: 'loongarch64' },
  { name: 's390x', auditArch: 0x80000016, constant: 'AUDIT_ARCH_S390X', table: 's390x' },
  { name: 's390', auditArch: 0x00000016, constant: 'AUDIT_ARCH_S390', table: 's390' },
  { name: 'ppc64le', auditArch: 0xc0000015, constant: 'AUDIT_ARCH_PPC64LE', table: 'ppc64' },
  { name: 'ppc64', auditArch: 0x80000015, constant: 'AUDIT_ARCH_PPC64', table: 'ppc64' },
  { name: 'ppc', auditArch: 0x00000014, constant: 'AUDIT_ARCH_PPC', table: 'ppc' },
  { name: 'mips', auditArch: 0x00000008, constant: 'AUDIT_ARCH_MIPS', table: 'mips-o32' },
  { name: 'mipsel', auditArch: 0x40000008, constant: 'AUDIT_ARCH_MIPSEL', table: 'mips-o32' },
  { name: 'mips64', auditArch: 0x80000008, constant: 'AUDIT_ARCH_MIPS64', table: 'mips-n64' },
  { name: 'mips64el', auditArch: 0xc0000008, constant: 'AUDIT_ARCH_MIPSEL64', table: 'mips-n64' },
  { name: 'mips64n32', auditArch: 0xa0000008, constant: 'AUDIT_ARCH_MIPS64N32', table: 'mips-n32' },
  { name: 'mipsel64n32', auditArch: 0xe0000008, constant: 'AUDIT_ARCH_MIPSEL64N32', table: 'mips-n32' },
  { name: 'parisc', auditArch: 0x0000000f, constant: 'AUDIT_ARCH_PARISC', table: 'parisc' },
  { name: 'parisc64', auditArch: 0x8000000f, constant: 'AUDIT_ARCH_PARISC64', table: 'parisc' },
];

const byName = new Map(ARCHES.map((a) => [a.name, a]));
const byAuditArch = new Map<number, Arch>();
for (const arch of ARCHES) if (!byAuditArch.has(arch.auditArch)) byAuditArch.set(arch.auditArch, arch);
const byConstant = new Map([...byAuditArch.values()].map((a) => [a.constant, a]));

/** The arch called `name` (cbpf's names: x86_64, i386, x32, aarch64, ...). */
export function archByName(name: string): Arch | undefined {
  return byName.get(name);
}

/**
 * The arch named `name`, for names callers pass in.
 * @throws InputError `unknown-name` for a name cbpf does not know.
 */
export function archNamed(name: string): Arch {
  const arch = archByName(name);
  if (!arch) throw new InputError('unknown-name', `unknown arch ${JSON.stringify(name)} (one of ${ARCHES.map((a) => a.name).join(', ')})`);
  return arch;
}

/** The arch whose `seccomp_data.arch` value is `value` (x86_64 for 0xc000003e). */
export function archByAuditArch(value: number): Arch | undefined {
  return byAuditArch.get(value);
}

/** The arch whose kernel constant is `constant`, e.g. `AUDIT_ARCH_X86_64`. */
export function archByConstant(constant: string): Arch | undefined {
  return byConstant.get(constant);
}

/** The byte order of an arch's `seccomp_data`, from its `__AUDIT_ARCH_LE` bit. */
export function byteOrderOf(arch: Arch): ByteOrder {
  return arch.auditArch & AUDIT_ARCH_LE ? 'le' : 'be';
}
