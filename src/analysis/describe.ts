/** Sets of records in words: the conditions a region puts on the words of a record. */

import { type ArgNames, argNames, nameValue } from '../seccomp/arg-names.js';
import { SECCOMP_DATA_SIZE, wordName } from '../seccomp/data.js';
import { byteOrderOfAuditArch, decodeSeccompData, type SeccompData } from '../seccomp/records.js';
import { type Bdd, type BddManager, TRUE, WORDS } from './bdd.js';
import { constant, greater, word } from './bitvec.js';

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

/**
 * A pattern of one word as a condition: a range where the fixed bits are the
 * high ones, else a masked comparison; values and masks by their names where
 * `names` has them.
 */
export function describePattern(name: string, { value, mask }: { value: number; mask: number }, names?: ArgNames): string {
  const said = (v: number): string => (names && nameValue(names, v)) ?? hex(v);
  if (mask === 0xffffffff) return `${name} == ${said(value)}`;
  const free = ~mask >>> 0;
  if ((free & (free + 1)) === 0) return `${hex(value)} <= ${name} <= ${hex((value | free) >>> 0)}`;
  const maskSaid = names?.kind === 'bits' ? (nameValue(names, mask) ?? hex(mask)) : hex(mask);
  return `(${name} & ${maskSaid}) == ${names?.kind === 'bits' && value === 0 ? '0' : said(value)}`;
}

/** The value word `index` has in every record of `region`, if it has one. */
export function fixedValue(m: BddManager, region: Bdd, index: number): number | undefined {
  return fixedValueOf(m, m.project(region, index), index);
}

/** A word's set of values as one condition: a few patterns, or all values but a few, or how many. */
function describeSet(m: BddManager, values: Bdd, index: number, name: string, names?: ArgNames): string {
  const patterns = m.patterns(values, index, 4);
  if (patterns) return patterns.map((p) => describePattern(name, p, names)).join(' or ');
  // One range, however many patterns it takes.
  const [low, high] = [m.extreme(values, index), m.extreme(values, index, true)];
  const v = word(m, index);
  if (m.and(m.not(greater(m, constant(low), v)), m.not(greater(m, v, constant(high)))) === values) return `${hex(low)} <= ${name} <= ${hex(high)}`;
  const others = m.patterns(m.not(values), index, 4);
  if (others?.length === 1 && others[0]!.mask === 0xffffffff) return `${name} != ${(names && nameValue(names, others[0]!.value)) ?? hex(others[0]!.value)}`;
  if (others) return `not (${others.map((p) => describePattern(name, p, names)).join(' or ')})`;
  return `${name} in a set of more than 4 patterns`;
}

/**
 * The conditions `region` puts on the words past nr and arch, and on nr too
 * `withNr` (the instruction pointer's and the arguments' halves, named for `byteOrder`;
 * a 64-bit value whose high half must be 0 is named whole), or undefined
 * when the region is not the product of a condition per word (it ties words
 * together), which conditions per word would misstate.
 */
export function conditionsOf(m: BddManager, region: Bdd, byteOrder: 'le' | 'be', withNr = false, syscall?: string): string[] | undefined {
  const projections = new Map<number, Bdd>();
  let product: Bdd = TRUE;
  for (let w = 0; w < WORDS; w++) {
    const values = m.project(region, w);
    product = m.and(product, values);
    if ((w >= 2 || (withNr && w === 0)) && values !== TRUE) projections.set(w, values);
  }
  if (product !== region) return undefined;
  const conditions: string[] = [];
  for (const [w, values] of projections) {
    if (w === 0) {
      conditions.push(describeSet(m, values, 0, 'nr'));
      continue;
    }
    const name = wordName(4 * w, byteOrder)!;
    const half = name.endsWith('.lo') ? 'lo' : 'hi';
    const other = w + (byteOrder === 'le' ? (half === 'lo' ? 1 : -1) : half === 'lo' ? -1 : 1);
    const whole = name.slice(0, -3);
    // A known argument's values by name, where its low half is what is compared.
    const index = /^args\[(\d)\]$/.exec(whole)?.[1];
    const names = syscall !== undefined && index !== undefined && half === 'lo' ? argNames(syscall, Number(index)) : undefined;
    // The other half's one value, if it has one (undefined also when it is unconstrained).
    const otherValue = projections.has(other) ? fixedValueOf(m, projections.get(other)!, other) : undefined;
    const value = fixedValueOf(m, values, w);
    if (half === 'lo' && otherValue === 0)
      conditions.push(describeSet(m, values, w, whole, names)); // the high half 0: the value is the low half
    else if (half === 'hi' && value === 0) {
      if (!projections.has(other)) conditions.push(`${whole} <= 0xffffffff`); // else said with the low half
    } else if (value !== undefined && otherValue !== undefined) {
      // Both halves fixed: one 64-bit value, said once (at the low half).
      const [hi, lo] = half === 'lo' ? [otherValue, value] : [value, otherValue];
      if (half === 'lo') conditions.push(`${whole} == 0x${((BigInt(hi) << 32n) | BigInt(lo)).toString(16)}`);
    } else conditions.push(describeSet(m, values, w, name, names));
  }
  return conditions;
}

/** The one value of a set over word `index`, if it has one. */
function fixedValueOf(m: BddManager, values: Bdd, index: number): number | undefined {
  const patterns = m.patterns(values, index, 1);
  return patterns?.length === 1 && patterns[0]!.mask === 0xffffffff ? patterns[0]!.value : undefined;
}

/** The record whose 16 words are `words`, as bytes in its arch's byte order and as fields: what a region's picked record is. */
export function recordOfWords(words: Uint32Array): { bytes: Uint8Array; record: SeccompData } {
  const bytes = new Uint8Array(SECCOMP_DATA_SIZE);
  const view = new DataView(bytes.buffer);
  const order = byteOrderOfAuditArch(words[1]!);
  words.forEach((w, i) => {
    view.setUint32(4 * i, w, order === 'le');
  });
  return { bytes, record: decodeSeccompData(bytes, order) };
}
