/**
 * The RET rewrite of SPEC section 9, which makes the kernel report a filter's
 * exact return value through errno without running any syscall: every return
 * becomes ERRNO(((value >> shift) & 0x7ff) + 1). ERRNO data is clamped at 4095,
 * so three passes of 11 bits (shift 0, 11, 22) recover all 32 bits.
 */

import { type Instruction, type Program, stmt } from '../instruction.js';
import { BPF_A, BPF_ADD, BPF_ALU, BPF_AND, BPF_JA, BPF_JMP, BPF_K, BPF_MAXINSNS, BPF_OR, BPF_RET, BPF_RSH } from '../opcodes.js';
import { ACTIONS } from '../seccomp/actions.js';

/** The shifts of the three passes. */
export const PASS_SHIFTS = [0, 11, 22] as const;
/** The most instructions a program may have so that its rewrite still fits (the tail adds 5). */
export const MAX_REWRITABLE_LENGTH = BPF_MAXINSNS - 5;

/** What pass `shift` makes of a return value `value`: the errno the syscall then returns. */
export function passErrno(value: number, shift: number): number {
  return ((value >>> shift) & 0x7ff) + 1;
}

/** The return value, from the errnos of the three passes (in PASS_SHIFTS order). */
export function valueFromErrnos(errnos: readonly number[]): number {
  return PASS_SHIFTS.reduce<number>((value, shift, i) => value | ((errnos[i]! - 1) << shift), 0) >>> 0;
}

/**
 * `program` rewritten for the pass that reports bits shift..shift+10 of its
 * return value. RET K becomes RET of the errno value; RET A becomes a JA to a
 * shared tail that computes the same from A. Jump offsets are unchanged, as
 * every instruction keeps its place.
 */
export function rewriteForPass(program: Program, shift: number): Instruction[] {
  if (program.length > MAX_REWRITABLE_LENGTH) {
    throw new RangeError(`the kernel oracle rewrites programs of at most ${MAX_REWRITABLE_LENGTH} instructions; this one has ${program.length}`);
  }
  const tail = program.length;
  const hasRetA = program.some((insn) => insn.code === (BPF_RET | BPF_A));
  const rewritten = program.map((insn, pc): Instruction => {
    if (insn.code === (BPF_RET | BPF_K)) return stmt(BPF_RET | BPF_K, ACTIONS.ERRNO | passErrno(insn.k, shift));
    if (insn.code === (BPF_RET | BPF_A)) return stmt(BPF_JMP | BPF_JA, tail - (pc + 1));
    return insn;
  });
  if (hasRetA) {
    rewritten.push(
      stmt(BPF_ALU | BPF_RSH | BPF_K, shift), // A >>= shift
      stmt(BPF_ALU | BPF_AND | BPF_K, 0x7ff), // keep 11 bits
      stmt(BPF_ALU | BPF_ADD | BPF_K, 1), // errno 1..2048, never 0
      stmt(BPF_ALU | BPF_OR | BPF_K, ACTIONS.ERRNO), // as ERRNO data
      stmt(BPF_RET | BPF_A, 0),
    );
  }
  return rewritten;
}
