import { describe, expect, it } from 'vitest';
import { compilePays, EARLY_WORKERS_FROM_BYTES, WARM_UP_PIECES, workersToStart } from '../../eval/policy.js';

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

describe('workersToStart', () => {
  it.each([
    ['--workers 1: the main thread alone', 1, 1 << 30, 4, 0],
    ['--workers 3, whatever the input', 3, 1000, 2, 2],
    ['a record file of 1 GiB, on two cores', undefined, 1 << 30, 2, 1],
    ['one of 64 MiB: only if it pays, during the run', undefined, 64 << 20, 2, 0],
    ['a stream of unknown length', undefined, undefined, 4, 3],
    ['one core', undefined, undefined, 1, 0],
  ])('before the run: %s', (_, workers, recordBytes, cores, count) => {
    expect(workersToStart(workers, cores, recordBytes)).toBe(count);
  });

  it('starts them before the run from EARLY_WORKERS_FROM_BYTES on', () => {
    expect(workersToStart(undefined, 2, EARLY_WORKERS_FROM_BYTES - 1)).toBe(0);
    expect(workersToStart(undefined, 2, EARLY_WORKERS_FROM_BYTES)).toBe(1);
  });

  const fast = { records: 16_384, seconds: 0.003 }; // 5.5 M records/s
  const slow = { records: 16_384, seconds: 0.016 }; // 1 M records/s: the interpreter
  const jit = { records: 262_144, seconds: 0.008 }; // 33 M records/s
  it.each([
    ['before the main thread decided its first pieces', WARM_UP_PIECES - 1, 10_000_000, slow, 0],
    ['1,000,000 records the tables finish in 0.2 s', WARM_UP_PIECES, 868_928, fast, 0],
    ['1,000,000 records the interpreter needs 0.9 s for', WARM_UP_PIECES, 868_928, slow, 1],
    ['10,000,000 records through the tables', WARM_UP_PIECES, 9_868_928, fast, 1],
    ['a stream of unknown length', WARM_UP_PIECES, undefined, fast, 1],
    ['8,388,608 records (512 MiB) the JIT finishes in 0.25 s', WARM_UP_PIECES, 8_126_464, jit, 0],
    ['33,554,432 records (2 GiB) the JIT needs 1 s for', WARM_UP_PIECES, 33_292_288, jit, 1],
  ])('during the run, by default on two cores: %s', (_, pieces, remaining, fastestPiece, count) => {
    expect(workersToStart(undefined, 2, 64 << 20, { pieces, remaining, fastestPiece })).toBe(count);
  });

  it('starts none during the run for --workers N (they started before) or on one core', () => {
    const soFar = { pieces: WARM_UP_PIECES, remaining: undefined, fastestPiece: slow };
    expect(workersToStart(2, 2, 1 << 30, soFar)).toBe(0);
    expect(workersToStart(undefined, 1, 1 << 30, soFar)).toBe(0);
  });
});
