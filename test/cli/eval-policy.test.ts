import { describe, expect, it } from 'vitest';
import { compilePays, INLINE_PIECES, workersPay } from '../../src/cli/eval-policy.js';

describe('compilePays', () => {
  it.each([
    ['nothing decided yet', 0, 1_000_000, 1, false],
    ['before the rate can be judged', 100_000, 10_000_000, 0.1, false],
    ['1,000,000 more at 5 M/s (0.2 s)', 1_000_000, 1_000_000, 0.2 * 1.5, false],
    ['10,000,000 more at 4 M/s (2.5 s)', 1_000_000, 10_000_000, 0.25, false],
    ['14,000,000 more at 4 M/s (3.5 s)', 1_000_000, 14_000_000, 0.25, true],
    ['a stream 4 s in: as long again', 4_000_000, undefined, 4, true],
    ['a stream 2 s in', 2_000_000, undefined, 2, false],
  ])('%s', (_, decided, remaining, seconds, pays) => {
    expect(compilePays(decided, remaining, seconds)).toBe(pays);
  });
});

describe('workersPay', () => {
  const fast = { records: 16_384, seconds: 0.003, jit: false }; // 5.5 M records/s: the decision tables
  const slow = { records: 16_384, seconds: 0.016, jit: false }; // 1 M records/s: the interpreter
  const jit = { records: 16_384, seconds: 0.0005, jit: true }; // 33 M records/s
  it.each([
    ['before the main thread decided its pieces', INLINE_PIECES - 1, 10_000_000, slow, false],
    ['1,000,000 records the tables finish in 0.2 s', INLINE_PIECES, 868_928, fast, false],
    ['1,000,000 records the interpreter needs 0.9 s for', INLINE_PIECES, 868_928, slow, true],
    ['10,000,000 records through the tables', INLINE_PIECES, 9_868_928, fast, true],
    ['a stream of unknown length', INLINE_PIECES, undefined, fast, true],
    ['16,777,216 records (1 GiB) the JIT finishes in 0.5 s', INLINE_PIECES, 16_646_144, jit, false],
    ['134,217,728 records (8 GiB) the JIT needs 4 s for', INLINE_PIECES, 134_086_656, jit, true],
  ])('%s', (_, pieces, remaining, fastestPiece, pays) => {
    expect(workersPay(pieces, remaining, fastestPiece)).toBe(pays);
  });
});
