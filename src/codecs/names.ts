/**
 * Named constants that text formats may use, and the second pass that resolves
 * names whose value depends on the arch (syscalls, and which half of a u64 is
 * `.lo` on a big-endian arch): the arch is the one the program checked on the
 * way to that pc, else the caller's default (see context.ts).
 */

import { analyzeContext } from '../context.js';
import type { ParseError } from '../errors.js';
import type { Instruction } from '../instruction.js';
import * as opcodes from '../opcodes.js';
import { ACTIONS, SECCOMP_RET_CONSTANTS } from '../seccomp/actions.js';
import { ARCHES, type Arch } from '../seccomp/arches.js';
import { errnoNumber } from '../seccomp/errno.js';
import { syscallNumber } from '../seccomp/syscalls.js';

const FIXED = new Map<string, number>([
  ...Object.entries(opcodes as Record<string, unknown>).filter((e): e is [string, number] => e[0].startsWith('BPF_') && typeof e[1] === 'number'),
  ...Object.entries(SECCOMP_RET_CONSTANTS),
  ...Object.entries(ACTIONS),
  ...ARCHES.map((arch) => [arch.constant, arch.auditArch] as [string, number]),
]);

/** The value of an arch-independent name: `BPF_*`, `SECCOMP_RET_*`, action names, `AUDIT_ARCH_*`, errno names. */
export function constantValue(name: string): number | undefined {
  return FIXED.get(name) ?? errnoNumber(name);
}

/**
 * A value whose computation needs the arch in force at its pc. `resolve`
 * returns the value or throws the ParseError that explains why not.
 */
export interface ArchDependent {
  readonly pc: number;
  readonly resolve: (arch: Arch) => number;
}

/** A resolver for a syscall name: throws `unknown` when `arch` has no such syscall. */
export function syscallResolver(name: string, unknown: (arch: Arch) => ParseError): (arch: Arch) => number {
  return (arch) => {
    const nr = syscallNumber(arch, name);
    if (nr === undefined) throw unknown(arch);
    return nr;
  };
}

/**
 * Fills in the `k` of every instruction in `pending` (parsed with a placeholder)
 * using the arch its pc is reached under. Placeholders never matter to the
 * analysis: only `ld [0]`, `ld [4]` and `jeq #AUDIT_ARCH_*` steer it.
 */
export function resolveArchDependent(program: Instruction[], pending: readonly ArchDependent[], defaultArch: Arch): void {
  if (pending.length === 0) return;
  const contexts = analyzeContext(program);
  for (const { pc, resolve } of pending) {
    program[pc] = { ...program[pc]!, k: resolve(contexts[pc]?.arch ?? defaultArch) >>> 0 };
  }
}
