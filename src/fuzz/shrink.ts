/**
 * Shrinking a failing case: a stack of programs and one record, reduced while
 * it still fails. Greedy passes, repeated until none helps: drop a filter,
 * drop an instruction (fixing every jump over it), simplify a constant or a
 * jump, simplify the record. Every candidate must still verify.
 */
import { type Instruction, isConditionalJump, isJump } from '../instruction.js';
import type { SeccompData } from '../seccomp/records.js';
import { VerifyError, verify } from '../verifier.js';

/** A stack of programs (oldest first) and the record they are run on. */
export interface FuzzCase {
  readonly filters: readonly (readonly Instruction[])[];
  readonly record: SeccompData;
}

/**
 * The program without pcs [from, to): a jump over the range shrinks by its
 * length; a jump into it lands where the range was (on what followed it).
 */
export function dropRange(program: readonly Instruction[], from: number, to: number): Instruction[] {
  const fix = (pc: number, offset: number): number => {
    const target = pc + 1 + offset;
    if (pc >= from || target <= from) return offset;
    return offset - (Math.min(target, to) - from);
  };
  return program.flatMap((insn, pc) => {
    if (pc >= from && pc < to) return [];
    if (!isJump(insn)) return [insn];
    if (!isConditionalJump(insn)) return [{ ...insn, k: fix(pc, insn.k) }];
    return [{ ...insn, jt: fix(pc, insn.jt), jf: fix(pc, insn.jf) }];
  });
}

function verifies(program: readonly Instruction[]): boolean {
  try {
    verify(program);
    return true;
  } catch (error) {
    if (error instanceof VerifyError) return false;
    throw error;
  }
}

/** Smaller constants to try in place of `k`, simplest first. */
function simpler(k: number): number[] {
  return [0, 1, k >>> 16, k >>> 1, k - 1].filter((c, i, all) => c >= 0 && c < k && all.indexOf(c) === i);
}

/** Simpler versions of the instruction at `pc`: a plain return, smaller constants, fall-through branches. */
function* instructionCandidates(program: readonly Instruction[], pc: number): Generator<Instruction[]> {
  const insn = program[pc]!;
  const replace = (changed: Instruction) => program.map((i, p) => (p === pc ? changed : i));
  if (insn.code !== 0x06) yield replace({ code: 0x06, jt: 0, jf: 0, k: 0 });
  for (const k of simpler(insn.k)) yield replace({ ...insn, k });
  if (isConditionalJump(insn) && insn.jt > 0) yield replace({ ...insn, jt: 0 });
  if (isConditionalJump(insn) && insn.jf > 0) yield replace({ ...insn, jf: 0 });
}

function* recordCandidates(record: SeccompData): Generator<SeccompData> {
  if (record.nr !== 0) yield { ...record, nr: 0 };
  if (record.instructionPointer !== 0n) yield { ...record, instructionPointer: 0n };
  for (let i = 0; i < 6; i++) {
    const a = record.args[i] ?? 0n;
    for (const smaller of [0n, a & 0xffffffffn, a >> 32n]) {
      if (smaller < a) yield { ...record, args: record.args.map((x, j) => (j === i ? smaller : x)) };
    }
  }
}

/**
 * How big a case is, to be sure each accepted step makes it smaller: first the
 * instructions, then those that are not `ret #0` (the simplest filler), then
 * the constants, then the record.
 */
function size(c: FuzzCase): bigint {
  const insns = c.filters.flat();
  const busy = insns.filter((i) => i.code !== 0x06 || i.k !== 0).length;
  const constants = insns.reduce((n, i) => n + BigInt(i.k) + BigInt(i.jt + i.jf), 0n);
  const record = BigInt(Math.abs(c.record.nr)) + c.record.instructionPointer + c.record.args.reduce((n, a) => n + a, 0n);
  return (BigInt(insns.length) << 200n) + (BigInt(busy) << 160n) + (constants << 80n) + record;
}

/**
 * The smallest case reachable from `failing` by the passes above for which
 * `fails` still holds, within `budget` calls of `fails`.
 */
export function shrinkCase(failing: FuzzCase, fails: (c: FuzzCase) => boolean, budget = 20_000): FuzzCase {
  let best = failing;
  let calls = 0;
  const attempt = (candidate: FuzzCase): boolean => {
    if (calls >= budget || size(candidate) >= size(best)) return false;
    if (!candidate.filters.every(verifies)) return false;
    calls++;
    if (!fails(candidate)) return false;
    best = candidate;
    return true;
  };
  const withFilter = (f: number, program: Instruction[]): FuzzCase => ({ ...best, filters: best.filters.map((p, i) => (i === f ? program : p)) });
  for (let improved = true; improved && calls < budget; ) {
    improved = false;
    for (let f = best.filters.length - 1; f >= 0 && best.filters.length > 1; f--) {
      improved = attempt({ ...best, filters: best.filters.filter((_, i) => i !== f) }) || improved;
    }
    for (let f = 0; f < best.filters.length; f++) {
      // Drop halves, quarters, ... down to single instructions (delta debugging), scanning from the end
      // so that a success leaves the positions still to try where they were.
      for (let chunk = best.filters[f]!.length >> 1 || 1; chunk >= 1; chunk >>= 1) {
        for (let from = best.filters[f]!.length - chunk; from >= 0; from -= chunk) {
          improved = attempt(withFilter(f, dropRange(best.filters[f]!, from, from + chunk))) || improved;
        }
      }
      for (let pc = 0; pc < best.filters[f]!.length; pc++) {
        for (const program of instructionCandidates(best.filters[f]!, pc)) {
          if (attempt(withFilter(f, program))) {
            improved = true;
            break; // this instruction changed: go on to the next one
          }
        }
      }
    }
    for (const record of recordCandidates(best.record)) improved = attempt({ ...best, record }) || improved;
  }
  return best;
}
