/**
 * What a filter or stack decides, syscall by syscall, exactly: for each arch
 * it tells apart and each syscall of that arch's table, the decision, or the
 * decisions and the argument conditions under which each is taken; then the
 * numbers no table names, and the arches it does not tell apart.
 */
import { ARCHES, type Arch } from '../seccomp/arches.js';
import { byteOrderOfAuditArch } from '../seccomp/records.js';
import { SYSCALL_TABLES } from '../seccomp/syscall-tables.generated.js';
import type { VerifiedProgram } from '../verifier.js';
import { type Bdd, BddManager, FALSE, TRUE } from './bdd.js';
import { constant, constantOf, equals, word } from './bitvec.js';
import { conditionsOf, fixedValue } from './describe.js';
import { type Leaf, leavesByNr, stackLeaves } from './paths.js';

/** One decision of a syscall, and the records (of that arch and number) that get it. */
export interface Case {
  /** The value, or undefined where it is a function of the record (`ret a`). */
  readonly value: number | undefined;
  /**
   * The conditions on the other words, in words: empty when the case is the
   * whole syscall; undefined when its records tie several words together,
   * which conditions per word cannot say (another case's complement).
   */
  readonly conditions: readonly string[] | undefined;
  /** The records of this case (with arch and nr fixed), for checking. */
  readonly region: Bdd;
}

/** A syscall of an arch, and what the stack decides for it. */
export interface SyscallDecision {
  readonly name: string;
  readonly nr: number;
  readonly cases: readonly Case[];
}

/** What the stack decides on one arch. */
export interface ArchExplanation {
  readonly arch: string;
  readonly auditArch: number;
  readonly syscalls: readonly SyscallDecision[];
  /** The numbers no table of this arch names: their cases. */
  readonly others: readonly Case[];
}

/** The whole explanation, with its decision diagrams (for checking records against the cases). */
export interface Explanation {
  readonly manager: BddManager;
  readonly arches: readonly ArchExplanation[];
  /** Records of every arch not listed. */
  readonly otherArches: readonly Case[];
}

/** The cases of `leaves` within `region`: one per leaf that meets it, the same values' leaves merged. */
function casesWithin(m: BddManager, leaves: readonly Leaf[], region: Bdd, byteOrder: 'le' | 'be', withNr = false, syscall?: string): Case[] {
  const byValue = new Map<string, { value: number | undefined; region: Bdd }>();
  for (const leaf of leaves) {
    const meets = m.and(leaf.region, region);
    if (meets === FALSE) continue;
    const value = constantOf(leaf.value);
    const key = value === undefined ? `leaf ${leaf.region}` : String(value);
    const known = byValue.get(key);
    byValue.set(key, { value, region: known ? m.or(known.region, meets) : meets });
  }
  return [...byValue.values()].map(({ value, region: r }) => ({
    value,
    region: r,
    conditions: byValue.size === 1 ? [] : conditionsOf(m, r, byteOrder, withNr, syscall),
  }));
}

/**
 * Explains stack `filters` (oldest first) on `arches` (default: every arch
 * with a syscall table that the stack tells apart from the others).
 * @throws AnalysisLimit when a set grows past the node budget.
 */
export function explainStack(filters: readonly VerifiedProgram[], arches?: readonly Arch[]): Explanation {
  const m = new BddManager();
  const leaves = stackLeaves(m, filters, TRUE);
  const archWord = word(m, 1);
  const nrWord = word(m, 0);
  const told = new Set(leaves.map((leaf) => fixedValue(m, leaf.region, 1)).filter((a) => a !== undefined));
  const chosen = arches ?? ARCHES.filter((arch) => arch.table !== undefined && arch.name !== 'x32' && told.has(arch.auditArch));
  const explained: ArchExplanation[] = [];
  let listed: Bdd = FALSE;
  for (const arch of chosen) {
    const isArch = equals(m, archWord, constant(arch.auditArch));
    listed = m.or(listed, isArch);
    const here = leaves.filter((leaf) => m.and(leaf.region, isArch) !== FALSE);
    const { fixed, loose } = leavesByNr(m, here);
    const byteOrder = byteOrderOfAuditArch(arch.auditArch);
    // x86_64 records carry x32's numbers too (bit 30 set): both tables.
    const tables = arch.name === 'x86_64' ? [arch.table!, 'x32' as const] : [arch.table!];
    const named = tables.flatMap((table) => Object.entries(SYSCALL_TABLES[table]).map(([name, nr]) => ({ name: table === 'x32' ? `x32 ${name}` : name, nr })));
    named.sort((a, b) => a.nr - b.nr);
    let unnamed = isArch;
    const syscalls = named.map(({ name, nr }) => {
      const isNr = m.and(isArch, equals(m, nrWord, constant(nr)));
      unnamed = m.and(unnamed, m.not(isNr));
      return { name, nr, cases: casesWithin(m, [...(fixed.get(nr) ?? []), ...loose], isNr, byteOrder, false, name) };
    });
    explained.push({ arch: arch.name, auditArch: arch.auditArch, syscalls, others: casesWithin(m, here, unnamed, byteOrder, true) });
  }
  return { manager: m, arches: explained, otherArches: casesWithin(m, leaves, m.not(listed), 'le') };
}
