/**
 * 32-bit values as functions of a record: one decision diagram per bit
 * (index 0 the least significant), with the classic BPF ALU on them. A
 * constant is 32 constant diagrams, `ld [k]` the word's own bits; every
 * operation is exact, as a circuit over those bits.
 */
import { type Bdd, type BddManager, FALSE, TRUE, variableOf } from './bdd.js';

export type BitVec = readonly Bdd[];

const BITS = 32;

export function constant(k: number): BitVec {
  return Array.from({ length: BITS }, (_, i) => ((k >>> i) & 1 ? TRUE : FALSE));
}

/** The value when every bit is constant, else undefined. */
export function constantOf(v: BitVec): number | undefined {
  let k = 0;
  for (let i = 0; i < BITS; i++) {
    if (v[i] === TRUE) k |= 1 << i;
    else if (v[i] !== FALSE) return undefined;
  }
  return k >>> 0;
}

/** Word `word` of the record (offset 4 × word). */
export function word(m: BddManager, index: number): BitVec {
  return Array.from({ length: BITS }, (_, i) => m.bit(variableOf(index, i)));
}

export const and = (m: BddManager, a: BitVec, b: BitVec): BitVec => a.map((x, i) => m.and(x, b[i]!));
export const or = (m: BddManager, a: BitVec, b: BitVec): BitVec => a.map((x, i) => m.or(x, b[i]!));
export const xor = (m: BddManager, a: BitVec, b: BitVec): BitVec => a.map((x, i) => m.xor(x, b[i]!));

/** a + b + carryIn, modulo 2^32 (a ripple-carry adder). */
export function add(m: BddManager, a: BitVec, b: BitVec, carryIn: Bdd = FALSE): BitVec {
  const out: Bdd[] = [];
  let carry = carryIn;
  for (let i = 0; i < BITS; i++) {
    const [x, y] = [a[i]!, b[i]!];
    out.push(m.xor(m.xor(x, y), carry));
    carry = m.or(m.and(x, y), m.and(carry, m.xor(x, y)));
  }
  return out;
}

export const not = (m: BddManager, a: BitVec): BitVec => a.map((x) => m.not(x));
export const sub = (m: BddManager, a: BitVec, b: BitVec): BitVec => add(m, a, not(m, b), TRUE);
export const neg = (m: BddManager, a: BitVec): BitVec => sub(m, constant(0), a);

/** a << s for a constant s (the verifier keeps s < 32 for `#k`). */
export function shiftLeft(a: BitVec, s: number): BitVec {
  return Array.from({ length: BITS }, (_, i) => (i >= s ? a[i - s]! : FALSE));
}

export function shiftRight(a: BitVec, s: number): BitVec {
  return Array.from({ length: BITS }, (_, i) => (i + s < BITS ? a[i + s]! : FALSE));
}

/** `c ? a : b`, bit by bit. */
export const select = (m: BddManager, c: Bdd, a: BitVec, b: BitVec): BitVec => a.map((x, i) => m.ite(c, x, b[i]!));

/** a << (b & 31) or a >> (b & 31): shifts by X take it modulo 32, as the interpreter (and the kernel) do. */
export function shiftBy(m: BddManager, a: BitVec, b: BitVec, left: boolean): BitVec {
  let result: BitVec = constant(0);
  const amount = and(m, b, constant(31));
  for (let s = 0; s < BITS; s++) {
    const is = equals(m, amount, constant(s));
    if (is !== FALSE) result = select(m, is, left ? shiftLeft(a, s) : shiftRight(a, s), result);
  }
  return result;
}

/** The set where a == b. */
export function equals(m: BddManager, a: BitVec, b: BitVec): Bdd {
  let all = TRUE;
  for (let i = BITS - 1; i >= 0 && all !== FALSE; i--) all = m.and(all, m.not(m.xor(a[i]!, b[i]!)));
  return all;
}

/** The set where a > b, unsigned. */
export function greater(m: BddManager, a: BitVec, b: BitVec): Bdd {
  // From the least significant bit up: a > b on bits 0..i.
  let gt = FALSE;
  for (let i = 0; i < BITS; i++) {
    const [x, y] = [a[i]!, b[i]!];
    gt = m.or(m.and(x, m.not(y)), m.and(m.not(m.xor(x, y)), gt));
  }
  return gt;
}

/** The set where a & b != 0. */
export function anyCommon(m: BddManager, a: BitVec, b: BitVec): Bdd {
  let any = FALSE;
  for (let i = 0; i < BITS; i++) any = m.or(any, m.and(a[i]!, b[i]!));
  return any;
}

/** a * b modulo 2^32 (shift and add). */
export function multiply(m: BddManager, a: BitVec, b: BitVec): BitVec {
  let result = constant(0);
  for (let i = 0; i < BITS; i++) {
    if (b[i] === FALSE) continue;
    const partial = shiftLeft(a, i).map((x) => m.and(x, b[i]!));
    result = add(m, result, partial);
  }
  return result;
}

/** a / b and a % b, unsigned, for b != 0 (restoring division); where b is 0 the results are unspecified (the caller branches on it). */
export function divide(m: BddManager, a: BitVec, b: BitVec): { quotient: BitVec; remainder: BitVec } {
  let remainder: BitVec = constant(0);
  const quotient: Bdd[] = new Array(BITS).fill(FALSE);
  for (let i = BITS - 1; i >= 0; i--) {
    // remainder << 1 | a[i], with the bit shifted out kept: a remainder of 2^32 or more always fits b.
    const out = remainder[BITS - 1]!;
    remainder = [a[i]!, ...remainder.slice(0, BITS - 1)];
    const fits = m.or(out, m.not(greater(m, b, remainder)));
    quotient[i] = fits;
    remainder = select(m, fits, sub(m, remainder, b), remainder);
  }
  return { quotient, remainder };
}
