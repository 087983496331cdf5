/**
 * Where two stacks of filters decide differently, over every record: exact
 * (a proof of equivalence when there is no difference), with a concrete
 * record for each arch and syscall number where they differ.
 */

import { archByAuditArch } from '../seccomp/arches.js';
import { byteOrderOfAuditArch, type SeccompData } from '../seccomp/records.js';
import { abiOf, syscallName } from '../seccomp/syscalls.js';
import type { VerifiedProgram } from '../verifier.js';
import { type Bdd, BddManager, FALSE, TRUE } from './bdd.js';
import { type BitVec, constant, equals, word } from './bitvec.js';
import { conditionsOf, fixedValue, recordOfWords } from './describe.js';
import { leavesByNr, stackLeaves } from './paths.js';

/** One arch and syscall number where the stacks differ. */
export interface Difference {
  readonly arch: number;
  readonly nr: number;
  /** The ABI the number belongs to (`x32` for x86_64 numbers with the x32 bit), and the syscall's name where cbpf knows it. */
  readonly abi: string;
  readonly syscall: string | undefined;
  /** A record where they differ, and what each stack decides for it. */
  readonly record: SeccompData;
  /** The record's bytes, in its arch's byte order. */
  readonly bytes: Uint8Array;
  readonly a: number;
  readonly b: number;
  /**
   * The conditions on the other words of the records of this arch and nr
   * where they differ (empty: every record of it), or undefined when those
   * records tie several words together, which conditions per word cannot say.
   */
  readonly region: readonly string[] | undefined;
}

/** What diffStacks found. */
export interface DiffResult {
  /** True when no record at all is decided differently: a proof, not a sample. */
  readonly equivalent: boolean;
  readonly differences: readonly Difference[];
  /** Whether there were more differences than `max`. */
  readonly truncated: boolean;
  /** How many pairs of regions of the two stacks meet (each compared), and diagram nodes made; for the solver, questions asked and 0. */
  readonly paths: number;
  readonly nodes: number;
  /** How it was decided: decision diagrams, or the bit-vector solver where they grew too large (solver.ts). */
  readonly by: 'diagrams' | 'solver';
}

/** The value `v` takes on the record of `words`. */
function valueAt(m: BddManager, v: BitVec, words: Uint32Array): number {
  let value = 0;
  for (let i = 0; i < 32; i++) if (m.contains(v[i]!, words)) value |= 1 << i;
  return value >>> 0;
}

/** The arch (x32 for x86_64 numbers with the x32 bit) and the syscall's name of records of audit arch `arch` and number `nr`. */
export function syscallOf(arch: number, nr: number): { abi: string; syscall: string | undefined } {
  const known = archByAuditArch(arch);
  if (!known) return { abi: `arch 0x${arch.toString(16)}`, syscall: undefined };
  return { abi: abiOf(known, nr >>> 0).name, syscall: syscallName(known, nr >>> 0) };
}

/** Options of diffStacks. */
export interface DiffOptions {
  /** Differences listed at most (default 20). */
  readonly max?: number;
  /** Compare only records of these audit arches (default: every record). */
  readonly arches?: readonly number[];
}

/**
 * Compares stacks `a` and `b` (filters oldest first) on every record; lists
 * up to `max` differences, one per arch and syscall number (and pair of
 * regions).
 * @throws AnalysisLimit when a set grows past the node budget (never a wrong answer).
 */
export function diffStacks(a: readonly VerifiedProgram[], b: readonly VerifiedProgram[], options: DiffOptions = {}): DiffResult {
  const max = options.max ?? 20;
  const m = new BddManager();
  const archWord = word(m, 1);
  const within = options.arches ? options.arches.reduce((set, arch) => m.or(set, equals(m, archWord, constant(arch))), FALSE) : TRUE;
  const differing: { region: Bdd; va: BitVec; vb: BitVec }[] = [];
  let paths = 0;
  // Each stack's regions once; then only the pairs that can meet: a region that fixes nr meets only regions of that nr, or
  // of no one nr. (Running B inside each region of A walked B's whole dispatch again for every syscall of A.)
  const leavesB = leavesByNr(m, stackLeaves(m, b, within));
  for (const leafA of stackLeaves(m, a, within)) {
    const nr = fixedValue(m, leafA.region, 0);
    const candidates = nr === undefined ? leavesB.all : [...(leavesB.fixed.get(nr) ?? []), ...leavesB.loose];
    for (const leafB of candidates) {
      const both = m.and(leafA.region, leafB.region);
      if (both === FALSE) continue;
      paths++;
      const region = m.and(both, m.not(equals(m, leafA.value, leafB.value)));
      if (region !== FALSE) differing.push({ region, va: leafA.value, vb: leafB.value });
    }
  }
  const differences: Difference[] = [];
  let truncated = false;
  const nrWord = word(m, 0);
  for (const { va, vb, region: whole } of differing) {
    let region = whole;
    while (region !== FALSE) {
      if (differences.length === max) {
        truncated = true;
        break;
      }
      const words = m.pick(region);
      const [nr, arch] = [words[0]!, words[1]!];
      const here = m.and(equals(m, nrWord, constant(nr)), equals(m, archWord, constant(arch)));
      const named = syscallOf(arch, nr);
      differences.push({
        arch,
        nr: nr | 0,
        ...named,
        ...recordOfWords(words),
        a: valueAt(m, va, words),
        b: valueAt(m, vb, words),
        region: conditionsOf(m, m.and(region, here), byteOrderOfAuditArch(arch), false, named.syscall),
      });
      region = m.and(region, m.not(here));
    }
    if (truncated) break;
  }
  return { equivalent: differing.length === 0, differences, truncated, paths, nodes: m.size, by: 'diagrams' };
}
