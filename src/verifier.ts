/**
 * The seccomp verifier: accepts exactly the programs Linux accepts in
 * `seccomp(SECCOMP_SET_MODE_FILTER)`, and rejects the others with the rule,
 * the pc and the errno the kernel's own checks would hit first. The order is
 * the kernel's: `seccomp_prepare_filter` (length, permission), then
 * `bpf_check_classic` (per instruction, then the final RET, then
 * `check_load_and_stores`), then `seccomp_check_filter` (the allowlist).
 * Stacking (`verifyStack`) is `seccomp_attach_filter`'s length budget.
 */

import { formatInstruction } from './disasm.js';
import { CbpfError } from './errors.js';
import type { Instruction, Program } from './instruction.js';
import { spellingOf } from './mnemonics.js';
import {
  BPF_A,
  BPF_ABS,
  BPF_ALU,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MAXINSNS,
  BPF_MEM,
  BPF_MEMWORDS,
  BPF_MOD,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_W,
  BPF_X,
  bpfClass,
  bpfOp,
  bpfSrc,
} from './opcodes.js';
import { SECCOMP_DATA_SIZE } from './seccomp/data.js';

/** Which kernel check rejected a program. */
export type VerifyRule =
  | 'length' // 1..4096 instructions
  | 'permission' // neither no_new_privs nor CAP_SYS_ADMIN
  | 'unknown-opcode' // not a classic code the kernel knows
  | 'division-by-zero' // DIV K / MOD K with k = 0
  | 'shift-too-far' // LSH K / RSH K with k >= 32
  | 'scratch-index' // M[k] with k >= 16
  | 'field-range' // a field that no struct sock_filter can hold (code u16, jt and jf u8, k u32)
  | 'jump-out-of-range' // JA past the end
  | 'branch-out-of-range' // a conditional jump target past the end
  | 'unknown-ancillary' // an ancillary load (k >= 0xfffff000) the kernel does not know
  | 'no-final-return' // the last instruction is not RET K or RET A
  | 'uninitialized-scratch' // M[k] may be read before it is written
  | 'not-allowed-in-seccomp' // a classic code seccomp does not allow
  | 'data-offset' // LD W ABS outside seccomp_data or unaligned
  | 'stack-too-long'; // the stack of filters exceeds the kernel's budget

/** The errno `seccomp()` returns for a rejected filter. */
export type VerifyErrno = 'EINVAL' | 'EACCES' | 'ENOMEM';

/** A program the kernel would refuse. `pc` is undefined for whole-program rules. */
export class VerifyError extends CbpfError {
  override readonly name = 'VerifyError';
  constructor(
    readonly code: VerifyRule,
    readonly pc: number | undefined,
    readonly errno: VerifyErrno,
    readonly detail: string,
  ) {
    super(`${pc === undefined ? '' : `pc ${pc}: `}${detail} [${errno}]`);
  }
}

declare const verified: unique symbol;

/**
 * A program `verify` accepted. Only `verify` makes one; the interpreter and the
 * JIT take nothing else and rely on its guarantees (each says so where it does):
 * 1..4096 instructions, only the 41 seccomp opcodes, every jump inside the
 * program, the last instruction a RET, DIV K with k != 0, shifts by K < 32,
 * M[k] with k < 16 and never read before written, LD W ABS aligned below 64.
 */
export interface VerifiedProgram {
  readonly instructions: Program;
  readonly [verified]: true;
}

/** Options of `verify`. */
export interface VerifyOptions {
  /**
   * Whether the installing task may install a filter: it set no_new_privs or
   * has CAP_SYS_ADMIN. Default true; false reproduces the kernel's EACCES.
   */
  readonly mayInstall?: boolean;
}

/** The classic opcodes `chk_code_allowed` knows: every code with a bpf_asm spelling. */
const isClassicCode = (code: number): boolean => spellingOf(code) !== undefined;

/** The 41 codes `seccomp_check_filter` allows. */
const SECCOMP_CODES: ReadonlySet<number> = new Set([
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x14, 0x15, 0x16, 0x1c, 0x1d, 0x20, 0x24, 0x25, 0x2c, 0x2d, 0x34, 0x35, 0x3c, 0x3d, 0x44, 0x45, 0x4c,
  0x4d, 0x54, 0x5c, 0x60, 0x61, 0x64, 0x6c, 0x74, 0x7c, 0x80, 0x81, 0x84, 0x87, 0xa4, 0xac,
]);

/** `SKF_AD_OFF`: loads at or above it are ancillary (socket metadata), not data. */
const SKF_AD_OFF = 0xfffff000;
/** `SKF_AD_MAX`: the known ancillary offsets are SKF_AD_OFF + 0, 4, ... below this. */
const SKF_AD_MAX = 64;

const isConditional = (code: number): boolean => bpfClass(code) === BPF_JMP && bpfOp(code) !== BPF_JA;

/** The fields of struct sock_filter and their largest values. */
const FIELD_LIMITS: ReadonlyArray<readonly ['code' | 'jt' | 'jf' | 'k', number]> = [
  ['code', 0xffff],
  ['jt', 0xff],
  ['jf', 0xff],
  ['k', 0xffffffff],
];

function fail(rule: VerifyRule, pc: number | undefined, detail: string, errno: VerifyErrno = 'EINVAL'): never {
  throw new VerifyError(rule, pc, errno, detail);
}

/** `bpf_check_classic`'s per-instruction checks. */
function checkClassic(insn: Instruction, pc: number, length: number): void {
  const { code, k } = insn;
  if (!isClassicCode(code)) fail('unknown-opcode', pc, `unknown opcode 0x${code.toString(16)}`);
  switch (code) {
    case BPF_ALU | BPF_DIV | BPF_K:
    case BPF_ALU | BPF_MOD | BPF_K:
      if (k === 0) fail('division-by-zero', pc, 'division by the constant 0');
      return;
    case BPF_ALU | BPF_LSH | BPF_K:
    case BPF_ALU | BPF_RSH | BPF_K:
      if (k >= 32) fail('shift-too-far', pc, `shift by ${k}, not below 32`);
      return;
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
      if (k >= BPF_MEMWORDS) fail('scratch-index', pc, `scratch word M[${k}] does not exist (M[0..15])`);
      return;
    case BPF_JMP | BPF_JA:
      if (pc + 1 + k >= length) fail('jump-out-of-range', pc, `jump target ${pc + 1 + k} is outside the program (length ${length})`);
      return;
    case BPF_LD | BPF_W | BPF_ABS:
    case BPF_LD | BPF_H | BPF_ABS:
    case BPF_LD | BPF_B | BPF_ABS:
      if (k >= SKF_AD_OFF && (k - SKF_AD_OFF >= SKF_AD_MAX || k % 4 !== 0)) {
        fail('unknown-ancillary', pc, `unknown ancillary load at 0x${k.toString(16)}`);
      }
      return;
  }
  if (isConditional(code)) {
    for (const target of [pc + 1 + insn.jt, pc + 1 + insn.jf]) {
      if (target >= length) fail('branch-out-of-range', pc, `jump target ${target} is outside the program (length ${length})`);
    }
  }
}

/**
 * `check_load_and_stores`, bit for bit: one forward pass where `valid` holds the
 * scratch words written so far and `masks[pc]` what every jump into pc agrees
 * on. A jump resets `valid` to all ones; a RET does not (so code after a RET is
 * judged by what preceded the RET, which rejects some safe programs), and
 * unreachable loads are accepted. The corpus holds both corners.
 */
function checkScratch(program: Program): void {
  const ALL = 0xffff;
  const masks = new Array<number>(program.length).fill(ALL);
  let valid = 0;
  program.forEach((insn, pc) => {
    valid &= masks[pc]!;
    const { code, k } = insn;
    if (code === BPF_ST || code === BPF_STX) {
      valid |= 1 << k; // k < 16: checked by checkClassic
    } else if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM)) {
      if (!(valid & (1 << k))) fail('uninitialized-scratch', pc, `M[${k}] may be read before it is written`);
    } else if (code === (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + k]! &= valid;
      valid = ALL;
    } else if (isConditional(code)) {
      masks[pc + 1 + insn.jt]! &= valid;
      masks[pc + 1 + insn.jf]! &= valid;
      valid = ALL;
    }
  });
}

/** `seccomp_check_filter`: the allowlist and the seccomp_data bounds. */
function checkSeccomp(insn: Instruction, pc: number): void {
  if (!SECCOMP_CODES.has(insn.code)) {
    fail('not-allowed-in-seccomp', pc, `${formatInstruction(insn, pc)} (opcode 0x${insn.code.toString(16)}) is not allowed in seccomp filters`);
  }
  if (insn.code === (BPF_LD | BPF_W | BPF_ABS) && (insn.k >= SECCOMP_DATA_SIZE || insn.k % 4 !== 0)) {
    fail('data-offset', pc, `load at offset ${insn.k} is not an aligned word of seccomp_data (0, 4, ... 60)`);
  }
}

/**
 * Verifies `program` as `seccomp(SECCOMP_SET_MODE_FILTER)` would. Returns the
 * verified program, or throws VerifyError naming the first check it fails.
 */
export function verify(program: Program, options: VerifyOptions = {}): VerifiedProgram {
  const length = program.length;
  if (length === 0 || length > BPF_MAXINSNS) fail('length', undefined, `program has ${length} instructions; the kernel accepts 1 to ${BPF_MAXINSNS}`);
  if (options.mayInstall === false) fail('permission', undefined, 'installing a filter needs no_new_privs or CAP_SYS_ADMIN', 'EACCES');
  program.forEach((insn, pc) => {
    // A program built in code (not decoded) could hold what the kernel's struct sock_filter cannot.
    for (const [field, max] of FIELD_LIMITS) {
      const value = insn[field];
      if (!(Number.isInteger(value) && value >= 0 && value <= max)) fail('field-range', pc, `${field} = ${value} does not fit struct sock_filter (0..${max})`);
    }
    checkClassic(insn, pc, length);
  });
  const last = program[length - 1]!.code;
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) fail('no-final-return', length - 1, 'the last instruction is not ret #k or ret a');
  checkScratch(program);
  program.forEach((insn, pc) => {
    checkSeccomp(insn, pc);
  });
  return { instructions: program } as VerifiedProgram;
}

/** `MAX_INSNS_PER_PATH`: the kernel's budget for a stack of filters, in eBPF instructions. */
export const MAX_INSNS_PER_PATH = 32768;

/**
 * The length of a verified program after the kernel converts it to eBPF
 * (`bpf_convert_filter`): a 3-instruction prologue, then 1 per instruction,
 * except RET K (2), DIV X (5, with its check for X = 0), and conditional jumps:
 * 1 when jf = 0, or jt = 0 and the op can be inverted (JEQ, JGT, JGE); else 2;
 * plus 1 when a K operand has bit 31 set (eBPF immediates are signed).
 */
export function ebpfLength(program: VerifiedProgram): number {
  let length = 3;
  for (const { code, jt, jf, k } of program.instructions) {
    if (code === (BPF_RET | BPF_K)) length += 2;
    else if (code === (BPF_ALU | BPF_DIV | BPF_X)) length += 5;
    else if (isConditional(code)) {
      const invertible = bpfOp(code) === BPF_JEQ || bpfOp(code) === BPF_JGT || bpfOp(code) === BPF_JGE;
      length += jf === 0 || (jt === 0 && invertible) ? 1 : 2;
      if (bpfSrc(code) === BPF_K && k >= 0x80000000) length += 1;
    } else length += 1;
  }
  return length;
}

/**
 * Checks that `filters` (installation order, oldest first) can all be
 * installed: each new filter's eBPF length plus, for every filter already
 * installed, its length + 4 must stay within MAX_INSNS_PER_PATH, else the
 * kernel answers ENOMEM. `pc` of the error is undefined; the detail names the filter.
 */
export function verifyStack(filters: readonly VerifiedProgram[]): void {
  let installed = 0;
  filters.forEach((filter, index) => {
    const total = ebpfLength(filter) + installed;
    if (total > MAX_INSNS_PER_PATH) {
      fail(
        'stack-too-long',
        undefined,
        `filter ${index + 1} of ${filters.length} brings the stack to ${total} eBPF instructions; the kernel allows ${MAX_INSNS_PER_PATH}`,
        'ENOMEM',
      );
    }
    installed += ebpfLength(filter) + 4;
  });
}
