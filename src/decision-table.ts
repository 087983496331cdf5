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
 * NOT_CONSTANT. For those, each filter gets a resume point: the last pc its
 * run reached with a fully known state, so that an evaluator can start
 * there, past the syscall-number dispatch, and check only the arguments.
 * No binaryen, no interpreter: the fuzzer checks every table value and every
 * resume point (through the JIT) against the interpreter.
 */
import { type Instruction, isConditionalJump } from './instruction.js';
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_DIV,
  BPF_JA,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_LSH,
  BPF_MEM,
  BPF_MISC,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_TAX,
  BPF_X,
  BPF_XOR,
  jumpTaken,
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
  /** For each NOT_CONSTANT entry (by index into `values`): where each filter's run can start. */
  readonly resume: ReadonlyMap<number, readonly ResumePoint[]>;
}

/** A stack's decision tables, one per arch they help with. */
export interface DecisionTable {
  readonly arches: readonly ArchDecisions[];
}

/** Unknown values (the arguments, the instruction pointer, and what is computed from them). */
const UNKNOWN = -1;

/** `left op right` for a BPF_ALU op other than DIV by X (verify() admits no other ops). */
function aluValue(op: number, left: number, right: number): number {
  if (left === UNKNOWN || right === UNKNOWN) return UNKNOWN;
  switch (op) {
    case BPF_ADD:
      return (left + right) >>> 0;
    case BPF_SUB:
      return (left - right) >>> 0;
    case BPF_MUL:
      return Math.imul(left, right) >>> 0;
    case BPF_DIV:
      return Math.floor(left / right) >>> 0; // right != 0: DIV #0 fails verify(), DIV X = 0 is handled before
    case BPF_OR:
      return (left | right) >>> 0;
    case BPF_AND:
      return (left & right) >>> 0;
    case BPF_LSH:
      return (left << (right & 31)) >>> 0;
    case BPF_RSH:
      return left >>> (right & 31);
    case BPF_NEG:
      return -left >>> 0;
    case BPF_XOR:
      return (left ^ right) >>> 0;
    default:
      throw new Error(`unreachable: ALU op 0x${op.toString(16)} passed verify()`);
  }
}

/**
 * A point on a filter's path where its state depends on arch and nr alone: a
 * run may start at `pc` with A, X and M[] set to these values, and it ends
 * as a run from pc 0 would for any record with that arch and nr.
 */
export interface ResumePoint {
  readonly pc: number;
  readonly a: number;
  readonly x: number;
  /** M[0..15]; entries never written are 0 (the verifier rules out reading them). */
  readonly m: readonly number[];
}

/** The start of every run. */
const START: ResumePoint = { pc: 0, a: 0, x: 0, m: new Array<number>(16).fill(0) };

/**
 * Runs `insns` with only `nr` and `arch` known: its value if that alone
 * decides it, else NOT_CONSTANT; and the last point on the way whose state
 * was still fully known. Decoded by class like the verifier; the
 * interpreter's flat switch is the reference this is fuzzed against.
 */
function abstractRun(insns: readonly Instruction[], nr: number, arch: number): { value: number; resume: ResumePoint } {
  let m = START.m; // copied on write, so that a resume point can keep the array it saw
  let unknownM = 0; // a bit per M[k] that holds UNKNOWN
  let a = 0;
  let x = 0;
  // The resume point so far, as scalars: an object per known step made the run much slower (docs/benchmarks.md).
  let resumePc = 0;
  let resumeA = 0;
  let resumeX = 0;
  let resumeM = m;
  const end = (value: number) => ({ value, resume: resumePc === 0 ? START : { pc: resumePc, a: resumeA, x: resumeX, m: resumeM } });
  for (let pc = 0; ; pc++) {
    if (a !== UNKNOWN && x !== UNKNOWN && unknownM === 0) {
      resumePc = pc;
      resumeA = a;
      resumeX = x;
      resumeM = m;
    }
    const { code, jt, jf, k } = insns[pc]!; // every jump lands inside, the last instruction returns (verify())
    const operand = (code & BPF_X) === BPF_X ? x : k >>> 0;
    switch (code & 0x07) {
      case BPF_LD:
        // nr as unsigned, as every value here: a syscall number of -1 is not UNKNOWN.
        if ((code & 0xe0) === BPF_ABS) a = k === SECCOMP_DATA_NR ? nr >>> 0 : k === SECCOMP_DATA_ARCH ? arch >>> 0 : UNKNOWN;
        else if ((code & 0xe0) === BPF_MEM) a = m[k]!;
        else a = (code & 0xe0) === BPF_LEN ? SECCOMP_DATA_SIZE : k >>> 0;
        break;
      case BPF_LDX:
        if ((code & 0xe0) === BPF_MEM) x = m[k]!;
        else x = (code & 0xe0) === BPF_LEN ? SECCOMP_DATA_SIZE : k >>> 0;
        break;
      case BPF_ST:
      case BPF_STX: {
        const value = (code & 0x07) === BPF_ST ? a : x;
        const copy = m.slice();
        copy[k] = value;
        m = copy;
        unknownM = value === UNKNOWN ? unknownM | (1 << k) : unknownM & ~(1 << k);
        break;
      }
      case BPF_ALU:
        if ((code & 0xf0) === BPF_DIV && (code & BPF_X) === BPF_X) {
          if (x === UNKNOWN) return end(NOT_CONSTANT); // X = 0 would return 0 from the filter
          if (x === 0) return end(0);
        }
        a = aluValue(code & 0xf0, a, operand);
        break;
      case BPF_JMP:
        if ((code & 0xf0) === BPF_JA) pc += k;
        else if (a === UNKNOWN || operand === UNKNOWN)
          return end(NOT_CONSTANT); // the rest of the record decides
        else pc += jumpTaken(code & 0xf0, a, operand) ? jt : jf;
        break;
      case BPF_RET:
        if ((code & 0x18) === BPF_K) return end(k >>> 0);
        return end(a === UNKNOWN ? NOT_CONSTANT : a);
      case BPF_MISC:
        if (code === (BPF_MISC | BPF_TAX)) x = a;
        else a = x;
        break;
    }
  }
}

/** `filter`'s value for every record with `arch` and `nr`, if those alone decide it; else NOT_CONSTANT. */
export function constantValue(filter: VerifiedProgram, arch: number, nr: number): number {
  return abstractRun(filter.instructions, nr, arch).value;
}

/**
 * The syscall numbers worth a table entry on the arch with audit value
 * `auditArch`: those its syscall table names, and any larger one the filters
 * compare with (`constants`), up to MAX_TABLE_LENGTH numbers in all.
 */
function nrRange(auditArch: number, constants: ReadonlySet<number>): { first: number; count: number } {
  const table = archByAuditArch(auditArch)?.table;
  if (table === undefined) return { first: 0, count: MAX_TABLE_LENGTH };
  const numbers = Object.values(SYSCALL_TABLES[table]);
  const first = Math.min(...numbers);
  const last = Math.max(...[...numbers, ...constants].filter((nr) => nr >= first && nr < first + MAX_TABLE_LENGTH));
  return { first, count: last - first + 1 };
}

/**
 * The decision tables of a stack of filters (oldest first): for every arch
 * whose (distinctive) audit value appears as a constant in some filter, the
 * stack's value (with the kernel's precedence) per syscall number where every
 * filter's value is constant, and where it is not, each filter's resume
 * point. Arches where neither helps are left out.
 */
export function decisionTable(filters: readonly VerifiedProgram[]): DecisionTable {
  const constants = new Set(filters.flatMap((f) => f.instructions.map((insn) => insn.k >>> 0)));
  const compared = new Set(filters.flatMap((f) => f.instructions.filter((insn) => isConditionalJump(insn)).map((insn) => insn.k >>> 0)));
  const auditArches = [...new Set(ARCHES.map((arch) => arch.auditArch))].filter((value) => value >= DISTINCTIVE_AUDIT_ARCH && constants.has(value));
  const arches: ArchDecisions[] = [];
  for (const auditArch of auditArches) {
    const { first, count } = nrRange(auditArch, compared);
    const values = new Uint32Array(count);
    const resume = new Map<number, ResumePoint[]>();
    let useful = false;
    for (let i = 0; i < count; i++) {
      const runs = filters.map((f) => abstractRun(f.instructions, first + i, auditArch));
      const constant = runs.every((run) => run.value !== NOT_CONSTANT);
      values[i] = constant ? resolveStack(runs.map((run) => run.value)) : NOT_CONSTANT;
      if (values[i] === NOT_CONSTANT)
        resume.set(
          i,
          runs.map((run) => run.resume),
        );
      useful ||= values[i] !== NOT_CONSTANT || runs.some((run) => run.resume.pc > 0);
    }
    if (useful) arches.push({ auditArch, firstNr: first, values, resume });
  }
  return { arches };
}

/** The table of the arch with audit value `arch`, if there is one. */
export function archDecisions(table: DecisionTable, arch: number): ArchDecisions | undefined {
  return table.arches.find((entry) => entry.auditArch === arch);
}

/** The table's value for a record with `arch` and `nr`, or NOT_CONSTANT when the filters must run. */
export function lookupDecision(table: DecisionTable, arch: number, nr: number): number {
  const entry = archDecisions(table, arch);
  const i = entry ? nr - entry.firstNr : -1;
  return entry && i >= 0 && i < entry.values.length ? entry.values[i]! : NOT_CONSTANT;
}

/** Each filter's resume point for syscall `nr` in an arch's table, where its value is NOT_CONSTANT. */
export function resumePoints(entry: ArchDecisions | undefined, nr: number): readonly ResumePoint[] | undefined {
  return entry?.resume.get(nr - entry.firstNr);
}
