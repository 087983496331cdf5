/**
 * The layout of `struct seccomp_data`, the 64 bytes a seccomp filter reads:
 * `nr` (s32 at 0), `arch` (u32 at 4), `instruction_pointer` (u64 at 8) and
 * `args[0..5]` (u64 at 16 + 8i), every field in the target's byte order.
 */
import type { ByteOrder } from './arches.js';

/** `sizeof(struct seccomp_data)`; also what `LD W LEN` loads. */
export const SECCOMP_DATA_SIZE = 64;
/** Offset of `nr`. */
export const SECCOMP_DATA_NR = 0;
/** Offset of `arch`. */
export const SECCOMP_DATA_ARCH = 4;
/** Offset of `instruction_pointer`. */
export const SECCOMP_DATA_IP = 8;
/** Offset of `args[0]`; `args[i]` is at this plus 8i. */
export const SECCOMP_DATA_ARGS = 16;

/**
 * `offsetof(struct seccomp_data, field)` for `nr`, `arch`,
 * `instruction_pointer` and `args[i]` (i in 0..5), or undefined.
 */
export function fieldOffset(field: string): number | undefined {
  if (field === 'nr') return SECCOMP_DATA_NR;
  if (field === 'arch') return SECCOMP_DATA_ARCH;
  if (field === 'instruction_pointer') return SECCOMP_DATA_IP;
  const arg = /^args\[([0-5])\]$/.exec(field);
  return arg ? SECCOMP_DATA_ARGS + 8 * Number(arg[1]) : undefined;
}

/** Offset of the low (`lo`) or high (`hi`) 32-bit half of the u64 at `offset`. */
export function halfOffset(offset: number, half: 'lo' | 'hi', byteOrder: ByteOrder): number {
  return offset + ((half === 'hi') === (byteOrder === 'le') ? 4 : 0);
}

/**
 * The name of the aligned 32-bit word at `offset`, as bpf_asm sugar writes it:
 * `nr`, `arch`, `instruction_pointer.lo`, `args[2].hi`; undefined elsewhere.
 */
export function wordName(offset: number, byteOrder: ByteOrder): string | undefined {
  if (offset === SECCOMP_DATA_NR) return 'nr';
  if (offset === SECCOMP_DATA_ARCH) return 'arch';
  if (offset % 4 !== 0 || offset < SECCOMP_DATA_IP || offset >= SECCOMP_DATA_SIZE) return undefined;
  const base = offset - (offset % 8);
  const field = base === SECCOMP_DATA_IP ? 'instruction_pointer' : `args[${(base - SECCOMP_DATA_ARGS) / 8}]`;
  return `${field}.${halfOffset(base, 'lo', byteOrder) === offset ? 'lo' : 'hi'}`;
}
