/**
 * Decision tables: for each arch a filter checks for and each syscall number,
 * the value the filter returns whatever the rest of the record holds, where
 * that value does not depend on the instruction pointer or the arguments.
 * The kernel keeps such a cache for ALLOW only (seccomp_cache_prepare); this
 * one keeps every action, so an evaluator can answer most records with one
 * lookup and run the filter only for the argument-dependent rest.
 *
 * Each entry comes from running the program with `arch` and `nr` known and
 * every other field unknown: loads of other fields give an unknown A, and the
 * first branch or return that depends on an unknown value makes the entry
 * NOT_CONSTANT. No binaryen, no interpreter: the fuzzer checks every table
 * against the interpreter.
 */
import type { Instruction } from './instruction.js';
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX,
  BPF_LEN, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_X, BPF_XOR,
} from './opcodes.js';
import { resolveStack } from './seccomp/actions.js';
import { ARCHES, archByAuditArch } from './seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from './seccomp/data.js';
import { SYSCALL_TABLES } from './seccomp/syscall-tables.generated.js';
import type { VerifiedProgram } from './verifier.js';

/**
 * The entry of a record whose value depends on more than arch and nr. A
 * filter that truly returns 0xffffffff for a syscall gets this entry too,
 * and is run for it: the table stays right, only slower there.
 */
export const NOT_CONSTANT = 0xffffffff;

/**
 * Audit values from here up (64-bit or little-endian arches) are tabulated when
 * a filter mentions them. Smaller ones (big-endian 32-bit MIPS is 8, PA-RISC
 * 15) are too common as plain constants to tell an arch check; those arches'
 * records always run the filters.
 */
const DISTINCTIVE_AUDIT_ARCH = 0x40000000;

/**
 * At most this many syscall numbers per arch, from its lowest: enough for
 * every ordinary syscall of every arch; ARM's private calls (0xf0001 up) and
 * x32's (x86_64 numbers with bit 30 set) are left to the filters.
 */
const MAX_TABLE_LENGTH = 1024;

/** The values of one arch's syscalls `firstNr` to `firstNr + values.length - 1`. */
export interface ArchDecisions {
  /** The `seccomp_data.arch` these values hold for. */
  readonly auditArch: number;
  readonly firstNr: number;
  /** One value per nr, or NOT_CONSTANT. */
  readonly values: Uint32Array;
}

/** A stack's decision tables, one per arch that has at least one constant entry. */
export interface DecisionTable {
  readonly arches: readonly ArchDecisions[];
}

/** Unknown values (the arguments, the instruction pointer, and what is computed from them). */
const UNKNOWN = -1;

/** `left op right` for a BPF_ALU op other than DIV by X (verify() admits no other ops). */
function aluValue(op: number, left: number, right: number): number {
  if (left === UNKNOWN || right === UNKNOWN) return UNKNOWN;
  switch (op) {
    case BPF_ADD: return (left + right) >>> 0;
    case BPF_SUB: return (left - right) >>> 0;
    case BPF_MUL: return Math.imul(left, right) >>> 0;
    case BPF_DIV: return Math.floor(left / right) >>> 0; // right != 0: DIV #0 fails verify(), DIV X = 0 is handled before
    case BPF_OR: return (left | right) >>> 0;
    case BPF_AND: return (left & right) >>> 0;
    case BPF_LSH: return (left << (right & 31)) >>> 0;
    case BPF_RSH: return left >>> (right & 31);
    case BPF_NEG: return -left >>> 0;
    case BPF_XOR: return (left ^ right) >>> 0;
    default: throw new Error(`unreachable: ALU op 0x${op.toString(16)} passed verify()`);
  }
}

/** Whether a BPF_JMP condition holds (both operands known). */
function jumpTaken(op: number, left: number, right: number): boolean {
  switch (op) {
    case BPF_JEQ: return left === right;
    case BPF_JGT: return left > right;
    case BPF_JGE: return left >= right;
    case BPF_JSET: return (left & right) !== 0;
    default: throw new Error(`unreachable: jump op 0x${op.toString(16)} passed verify()`);
  }
}

/**
 * Runs `insns` with only `nr` and `arch` known: its value if that alone
 * decides it, else NOT_CONSTANT. Decoded by class like the verifier; the
 * interpreter's flat switch is the reference this is fuzzed against.
 */
function constantValue(insns: readonly Instruction[], nr: number, arch: number): number {
  const m = new Array<number>(16).fill(0);
  let a = 0;
  let x = 0;
  for (let pc = 0; ; pc++) {
    const { code, jt, jf, k } = insns[pc]!; // every jump lands inside, the last instruction returns (verify())
    const operand = (code & BPF_X) === BPF_X ? x : k >>> 0;
    switch (code & 0x07) {
      case BPF_LD:
        if ((code & 0xe0) === BPF_ABS) a = k === SECCOMP_DATA_NR ? nr : k === SECCOMP_DATA_ARCH ? arch : UNKNOWN;
        else if ((code & 0xe0) === BPF_MEM) a = m[k]!;
        else a = (code & 0xe0) === BPF_LEN ? SECCOMP_DATA_SIZE : k >>> 0;
        break;
      case BPF_LDX:
        if ((code & 0xe0) === BPF_MEM) x = m[k]!;
        else x = (code & 0xe0) === BPF_LEN ? SECCOMP_DATA_SIZE : k >>> 0;
        break;
      case BPF_ST: m[k] = a; break;
      case BPF_STX: m[k] = x; break;
      case BPF_ALU:
        if ((code & 0xf0) === BPF_DIV && (code & BPF_X) === BPF_X) {
          if (x === UNKNOWN) return NOT_CONSTANT; // X = 0 would return 0 from the filter
          if (x === 0) return 0;
        }
        a = aluValue(code & 0xf0, a, operand);
        break;
      case BPF_JMP:
        if ((code & 0xf0) === BPF_JA) pc += k;
        else if (a === UNKNOWN || operand === UNKNOWN) return NOT_CONSTANT; // the rest of the record decides
        else pc += jumpTaken(code & 0xf0, a, operand) ? jt : jf;
        break;
      case BPF_RET:
        if ((code & 0x18) === BPF_K) return k >>> 0;
        return a === UNKNOWN ? NOT_CONSTANT : a;
      case BPF_MISC:
        if (code === (BPF_MISC | BPF_TAX)) x = a;
        else a = x;
        break;
    }
  }
}

/** The syscall numbers worth a table entry on the arch with audit value `auditArch`: those its syscall table names. */
function nrRange(auditArch: number): { first: number; count: number } {
  const table = archByAuditArch(auditArch)?.table;
  if (table === undefined) return { first: 0, count: MAX_TABLE_LENGTH };
  const numbers = Object.values(SYSCALL_TABLES[table]);
  const first = Math.min(...numbers);
  const last = Math.max(...numbers.filter((nr) => nr < first + MAX_TABLE_LENGTH));
  return { first, count: last - first + 1 };
}

/**
 * The decision tables of a stack of filters (oldest first): for every arch
 * whose (distinctive) audit value appears as a constant in some filter, the stack's value
 * (with the kernel's precedence) per syscall number where every filter's
 * value is constant. Arches with no constant entry are left out.
 */
export function decisionTable(filters: readonly VerifiedProgram[]): DecisionTable {
  const constants = new Set(filters.flatMap((f) => f.instructions.map((insn) => insn.k >>> 0)));
  const auditArches = [...new Set(ARCHES.map((arch) => arch.auditArch))].filter((value) => value >= DISTINCTIVE_AUDIT_ARCH && constants.has(value));
  const arches: ArchDecisions[] = [];
  for (const auditArch of auditArches) {
    const { first, count } = nrRange(auditArch);
    const values = new Uint32Array(count);
    let anyConstant = false;
    for (let i = 0; i < count; i++) {
      const perFilter = filters.map((f) => constantValue(f.instructions, first + i, auditArch));
      const constant = perFilter.every((value) => value !== NOT_CONSTANT);
      values[i] = constant ? resolveStack(perFilter) : NOT_CONSTANT;
      anyConstant ||= constant && values[i] !== NOT_CONSTANT;
    }
    if (anyConstant) arches.push({ auditArch, firstNr: first, values });
  }
  return { arches };
}

/** The table's value for a record with `arch` and `nr`, or NOT_CONSTANT when the filters must run. */
export function lookupDecision(table: DecisionTable, arch: number, nr: number): number {
  for (const entry of table.arches) {
    if (entry.auditArch !== arch) continue;
    const i = nr - entry.firstNr;
    return i >= 0 && i < entry.values.length ? entry.values[i]! : NOT_CONSTANT;
  }
  return NOT_CONSTANT;
}
