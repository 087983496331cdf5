/**
 * The program model: one record per `struct sock_filter`, exactly as the kernel
 * sees it, plus the assembler-shaped constructors used by code and tests.
 */

import { EncodeError } from './errors.js';
import { BPF_JA, BPF_JMP, BPF_RET, bpfClass, bpfOp } from './opcodes.js';

/**
 * One classic BPF instruction, mirroring `struct sock_filter`:
 * `code` u16 at byte 0, `jt` u8 at 2, `jf` u8 at 3, `k` u32 at 4.
 * Values are plain non-negative integers; `k` is never negative.
 */
export interface Instruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

/** A classic BPF program: the instruction array of a `struct sock_fprog`. */
export type Program = readonly Instruction[];

/** An instruction that does not jump: `stmt(BPF_LD | BPF_W | BPF_ABS, 0) // A = nr`. */
export function stmt(code: number, k: number): Instruction {
  return { code, jt: 0, jf: 0, k: k >>> 0 };
}

/** A jump: `jump(BPF_JMP | BPF_JEQ | BPF_K, 257, 0, 1) // openat?`. jt/jf are offsets from pc + 1. */
export function jump(code: number, k: number, jt: number, jf: number): Instruction {
  return { code, jt, jf, k: k >>> 0 };
}

/** True for every BPF_JMP instruction, JA included. */
export function isJump(insn: Instruction): boolean {
  return bpfClass(insn.code) === BPF_JMP;
}

/** True for the two-way jumps (JEQ, JGT, JGE, JSET and any other non-JA jump op). */
export function isConditionalJump(insn: Instruction): boolean {
  return isJump(insn) && bpfOp(insn.code) !== BPF_JA;
}

/** True for RET K and RET A (and the other RET encodings). */
export function isReturn(insn: Instruction): boolean {
  return bpfClass(insn.code) === BPF_RET;
}

/**
 * The pcs control can reach next from the instruction at `pc`: none for a RET,
 * one for JA and straight-line code, two (true first) for a conditional jump.
 * Targets may lie past the end of an unverified program.
 */
export function successors(insn: Instruction, pc: number): number[] {
  if (isReturn(insn)) return [];
  if (!isJump(insn)) return [pc + 1];
  if (!isConditionalJump(insn)) return [pc + 1 + insn.k];
  return [pc + 1 + insn.jt, pc + 1 + insn.jf];
}

/** Field-by-field equality of two programs. */
export function programsEqual(a: Program, b: Program): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i]!;
      return x.code === y.code && x.jt === y.jt && x.jf === y.jf && x.k === y.k;
    })
  );
}

const isUint = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;

/**
 * Throws EncodeError('out-of-range') unless every field fits its C type
 * (code u16, jt/jf u8, k u32). Every encoder calls this first: nothing is ever
 * silently truncated on the way out.
 */
export function checkFields(program: Program): void {
  program.forEach((insn, pc) => {
    const bad: Array<[string, number, number]> = [
      ['code', insn.code, 0xffff],
      ['jt', insn.jt, 0xff],
      ['jf', insn.jf, 0xff],
      ['k', insn.k, 0xffffffff],
    ];
    for (const [field, value, max] of bad) {
      if (!isUint(value, max)) {
        throw new EncodeError('out-of-range', `pc ${pc}: ${field} = ${value} does not fit (0..${max})`, pc);
      }
    }
  });
}
