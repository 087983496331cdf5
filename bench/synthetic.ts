/**
 * Benchmark filters made here rather than by libseccomp: an argument-heavy
 * policy and a large one near the kernel's 4096-instruction limit, both in
 * libseccomp's linear shape (one block per syscall; a block that does not
 * match the number falls through to the next with A still holding it).
 */
import type { Instruction } from '../src/instruction.js';
import { ACTIONS } from '../src/seccomp/actions.js';
import { type VerifiedProgram, verify } from '../src/verifier.js';

const LD_ABS = 0x20;
const JEQ = 0x15;
const JSET = 0x45;
const RET = 0x06;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const EPERM = ACTIONS.ERRNO | 1;
const insn = (code: number, k: number, jt = 0, jf = 0): Instruction => ({ code, jt, jf, k });

/** A block for syscall `nr`: each of `args` must have a zero high word and no bit of `mask` set; ALLOW if so, EPERM if not. */
function argumentBlock(nr: number, args: readonly number[], mask: number): Instruction[] {
  const tests = args.flatMap((arg, i) => {
    const left = (args.length - i) * 4; // instructions from this test's first to the ALLOW
    return [insn(LD_ABS, 20 + 8 * arg), insn(JEQ, 0, 0, left - 1), insn(LD_ABS, 16 + 8 * arg), insn(JSET, mask, left - 3, 0)];
  });
  return [insn(JEQ, nr, 0, tests.length + 2), ...tests, insn(RET, ACTIONS.ALLOW), insn(RET, EPERM)];
}

/** The arch check and the load of `nr` every filter starts with. */
const PROLOGUE = [insn(LD_ABS, 4), insn(JEQ, AUDIT_ARCH_X86_64, 1, 0), insn(RET, ACTIONS.KILL_PROCESS), insn(LD_ABS, 0)];

/** 60 common syscalls, each with two or three arguments checked against a mask. */
export function argumentHeavyFilter(): VerifiedProgram {
  const blocks = Array.from({ length: 60 }, (_, nr) => argumentBlock(nr, nr % 2 ? [0, 1, 2] : [0, 2], 0xfff00000 >>> (nr % 8)));
  return verify([...PROLOGUE, ...blocks.flat(), insn(RET, EPERM)]);
}

/** Syscalls 0 to 907 allowed, every second only for arguments that pass a check: 4,091 instructions. */
export function largeFilter(): VerifiedProgram {
  const blocks = Array.from({ length: 908 }, (_, nr) => (nr % 2 === 1 ? argumentBlock(nr, [0], 0xffff0000) : [insn(JEQ, nr, 0, 1), insn(RET, ACTIONS.ALLOW)]));
  return verify([...PROLOGUE, ...blocks.flat(), insn(RET, EPERM)]);
}
