/**
 * The fuzzer finds real bugs: each fault planted in a test-only copy of the
 * interpreter is found within an iteration budget and shrunk to a small
 * program. The budget counts iterations, not seconds, so a busy machine
 * cannot fail the test (seed 1 finds each fault in under 1,000).
 */
import { describe, expect, it } from 'vitest';
import { interpreterEngine } from '../../interp/engines.js';
import { engineTarget, runFuzz } from '../../src/fuzz/differential.js';
import { type Fault, faultyEngine } from './faulty-interpreter.js';

/**
 * The largest program each fault shrinks to. A jump of exactly 255 must land
 * inside the program, so that fault's program keeps the jump, 255 instructions
 * to jump over and a target: 258 with the load it compares.
 */
const FAULTS: ReadonlyArray<[Fault, number]> = [
  ['tax-txa-swapped', 6],
  ['shift-by-x-over-31-gives-0', 6],
  ['div-by-x-zero-continues', 6],
  ['errno-ties-keep-oldest', 6],
  ['jt-255-off-by-one', 258],
];

/** Iterations the fuzzer gets to find each fault. */
const BUDGET = 20_000;

describe('the fuzzer, against planted faults', () => {
  it.each(FAULTS)(
    `finds %s within ${BUDGET} iterations and shrinks it to at most %i instructions`,
    (fault, most) => {
      const target = engineTarget('planted', interpreterEngine, faultyEngine(fault), { maxStack: 8, records: 40, anyArch: true, shrinkBudget: 20_000 });
      const report = runFuzz([target], 1, { runs: BUDGET });
      expect(report.failure, `${fault} not found in ${report.iterations} iterations`).toBeDefined();
      const size = report.failure!.case!.filters.reduce((n, f) => n + f.length, 0);
      console.info(
        `${fault}: found at iteration ${report.failure!.iteration} and shrunk from ${report.failure!.originalSize} to ${size} instructions\n${report.failure!.report}`,
      );
      expect(size).toBeLessThanOrEqual(most);
    },
    300_000,
  );
});
