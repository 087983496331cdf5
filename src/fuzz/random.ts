/**
 * A small seeded PRNG (mulberry32) and helpers, so that every generated
 * program and trace can be replayed from its seed.
 */

/** A source of random numbers in [0, 1), replayable from its seed. */
export type Random = () => number;

/** mulberry32: fast, 32 bits of state, good enough to shape test data. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max]. */
export const int = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
/** Any u32. */
export const u32 = (random: Random): number => (random() * 0x100000000) >>> 0;
/** One element of `items`. */
export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
/** True with probability `p`. */
export const chance = (random: Random, p: number): boolean => random() < p;
