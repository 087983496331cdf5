/**
 * Reduced ordered binary decision diagrams over the bits of a seccomp_data
 * record: an exact, canonical representation of any set of records, so that
 * "is this set empty?" and "give me one record in it" are answered exactly.
 *
 * Variables are the record's 512 bits, ordered bit-major from the least
 * significant bit (bit 0 of every word, then bit 1, ...): a comparison of a
 * word with a constant stays a chain, an equality between two words (`jeq x`)
 * stays small, which it would not with word-major order, and sums and
 * products by constants, which carry from the low bits up, stay far smaller
 * than with the most significant bit first.
 */

/** A node id: 0 is the empty set, 1 every record; others index the node table. */
export type Bdd = number;

export const FALSE: Bdd = 0;
export const TRUE: Bdd = 1;

/** The record's 16 words of 32 bits. */
export const WORDS = 16;
const BITS = 32;

/** The variable of `bit` (0 = least significant) of word `word`: lower variables are nearer the root. */
export const variableOf = (word: number, bit: number): number => bit * WORDS + word;
/** The bit of its word that variable `v` is. */
const bitOf = (v: number): number => Math.floor(v / WORDS);

/** The analysis gave up rather than risk a wrong answer: a set grew past the node budget. */
export class AnalysisLimit extends Error {
  override readonly name = 'AnalysisLimit';
}

/** Entries an operation cache keeps before it starts afresh: a JavaScript Map holds at most 2^24. */
const MAX_CACHED = 4_000_000;

/** Nodes at most: enough for every real filter tried, and a bound on memory for a pathological one. */
const MAX_NODES = 1_000_000;

/** The node table and its caches; one per analysis. */
export class BddManager {
  private readonly variable: number[] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  private readonly low: number[] = [0, 1];
  private readonly high: number[] = [0, 1];
  private readonly unique = new Map<number, Bdd>();
  private readonly andCache = new Map<number, Bdd>();
  private readonly notCache = new Map<Bdd, Bdd>();

  get size(): number {
    return this.variable.length;
  }

  /** The node testing `v`, with `lo` when it is 0 and `hi` when it is 1. */
  node(v: number, lo: Bdd, hi: Bdd): Bdd {
    if (lo === hi) return lo;
    const key = (v * 2_097_152 + lo) * 2_097_152 + hi;
    const found = this.unique.get(key);
    if (found !== undefined) return found;
    const id = this.variable.length;
    if (id >= MAX_NODES) throw new AnalysisLimit(`the analysis needed more than ${MAX_NODES} decision-diagram nodes`);
    this.variable.push(v);
    this.low.push(lo);
    this.high.push(hi);
    this.unique.set(key, id);
    return id;
  }

  /** The set where variable `v` is 1. */
  bit(v: number): Bdd {
    return this.node(v, FALSE, TRUE);
  }

  not(a: Bdd): Bdd {
    if (a <= TRUE) return 1 - a;
    const cached = this.notCache.get(a);
    if (cached !== undefined) return cached;
    const result = this.node(this.variable[a]!, this.not(this.low[a]!), this.not(this.high[a]!));
    if (this.notCache.size >= MAX_CACHED) this.notCache.clear();
    this.notCache.set(a, result);
    return result;
  }

  and(a: Bdd, b: Bdd): Bdd {
    if (a === FALSE || b === FALSE) return FALSE;
    if (a === TRUE) return b;
    if (b === TRUE || a === b) return a;
    if (a > b) [a, b] = [b, a];
    const key = a * 2_097_152 + b;
    const cached = this.andCache.get(key);
    if (cached !== undefined) return cached;
    const [va, vb] = [this.variable[a]!, this.variable[b]!];
    const v = Math.min(va, vb);
    const [a0, a1] = va === v ? [this.low[a]!, this.high[a]!] : [a, a];
    const [b0, b1] = vb === v ? [this.low[b]!, this.high[b]!] : [b, b];
    const result = this.node(v, this.and(a0, b0), this.and(a1, b1));
    if (this.andCache.size >= MAX_CACHED) this.andCache.clear();
    this.andCache.set(key, result);
    return result;
  }

  or(a: Bdd, b: Bdd): Bdd {
    return this.not(this.and(this.not(a), this.not(b)));
  }

  xor(a: Bdd, b: Bdd): Bdd {
    return this.or(this.and(a, this.not(b)), this.and(this.not(a), b));
  }

  /** `c ? a : b`. */
  ite(c: Bdd, a: Bdd, b: Bdd): Bdd {
    if (c === TRUE || a === b) return a;
    if (c === FALSE) return b;
    return this.or(this.and(c, a), this.and(this.not(c), b));
  }

  /** The set of values word `keep` takes in `a`: every other word's bits quantified away. */
  project(a: Bdd, keep: number, memo = new Map<Bdd, Bdd>()): Bdd {
    if (a <= TRUE) return a;
    const known = memo.get(a);
    if (known !== undefined) return known;
    const v = this.variable[a]!;
    const [lo, hi] = [this.project(this.low[a]!, keep, memo), this.project(this.high[a]!, keep, memo)];
    const result = v % WORDS === keep ? this.node(v, lo, hi) : this.or(lo, hi);
    memo.set(a, result);
    return result;
  }

  /**
   * The set `a` (over word `index` alone) as disjoint patterns: `mask` the
   * bits fixed, `value` what they are fixed to; at most `limit` of them
   * (undefined when there are more).
   */
  patterns(a: Bdd, index: number, limit: number): { value: number; mask: number }[] | undefined {
    const out: { value: number; mask: number }[] = [];
    const walk = (node: Bdd, value: number, mask: number): boolean => {
      if (node === FALSE) return true;
      if (node === TRUE) {
        out.push({ value: value >>> 0, mask: mask >>> 0 });
        return out.length <= limit;
      }
      const v = this.variable[node]!;
      if (v % WORDS !== index) throw new Error('patterns of a set over other words');
      const bit = 1 << bitOf(v);
      return walk(this.low[node]!, value, mask | bit) && walk(this.high[node]!, value | bit, mask | bit);
    };
    return walk(a, 0, 0) ? out : undefined;
  }

  /** The smallest (or with `largest`, the largest) value word `index` takes in `a`, which must not be FALSE: fixed bit by bit from the top. */
  extreme(a: Bdd, index: number, largest = false): number {
    if (a === FALSE) throw new Error('the extreme of the empty set');
    let rest = a;
    let value = 0;
    for (let bit = BITS - 1; bit >= 0; bit--) {
      const one = this.bit(variableOf(index, bit));
      const preferred = this.and(rest, largest ? one : this.not(one));
      if (preferred !== FALSE) rest = preferred;
      else rest = this.and(rest, largest ? this.not(one) : one);
      if ((preferred !== FALSE) === largest) value |= 1 << bit;
    }
    return value >>> 0;
  }

  /** Whether the record whose words are `words` is in `a`. */
  contains(a: Bdd, words: ArrayLike<number>): boolean {
    let node = a;
    while (node > TRUE) {
      const v = this.variable[node]!;
      const bit = (words[v % WORDS]! >>> bitOf(v)) & 1;
      node = bit ? this.high[node]! : this.low[node]!;
    }
    return node === TRUE;
  }

  /**
   * One assignment in `a` (which must not be FALSE), as the record's 16
   * words: each bit, from the root down, 0 wherever the set still allows it
   * (and 0 where the set does not test it), so the record found is a plain one.
   */
  pick(a: Bdd): Uint32Array {
    if (a === FALSE) throw new Error('pick from the empty set');
    const words = new Uint32Array(WORDS);
    let node = a;
    while (node > TRUE) {
      const v = this.variable[node]!;
      if (this.low[node] !== FALSE) node = this.low[node]!;
      else {
        const word = v % WORDS;
        words[word] = (words[word]! | (1 << bitOf(v))) >>> 0;
        node = this.high[node]!;
      }
    }
    return words;
  }
}
