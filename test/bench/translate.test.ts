import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildNative, nativeUnavailableReason } from '../../bench/native.js';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { argumentHeavyFilter, largeFilter } from '../../bench/synthetic.js';
import { jsFunction } from '../../bench/translate.js';
import { interpret } from '../../interp/interpret.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { biasedRecords, generateProgram } from '../../src/fuzz/programs.js';
import { seededRandom } from '../../src/fuzz/random.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { packRecords } from '../../src/seccomp/records.js';
import { type VerifiedProgram, VerifyError, verify } from '../../src/verifier.js';
import { itWhenAvailable } from '../system-deps.js';

/** Verified generated programs (of every shape the fuzzer makes), with records aimed at their constants. */
function generatedPrograms(count: number): Array<{ program: VerifiedProgram; records: Uint8Array }> {
  const random = seededRandom(11);
  const out: Array<{ program: VerifiedProgram; records: Uint8Array }> = [];
  while (out.length < count) {
    const instructions = generateProgram(random);
    try {
      out.push({ program: verify(instructions), records: packRecords(biasedRecords(instructions, random, 50)).bytes });
    } catch (error) {
      if (!(error instanceof VerifyError)) throw error;
    }
  }
  return out;
}

const samples = [...SAMPLE_FILTERS.map((s) => verify(decodeRaw(readFileSync(s.path)))), argumentHeavyFilter(), largeFilter()].map((program) => ({
  program,
  records: generateRecords(2000, 'realistic', 5),
}));

const expectedOf = (program: VerifiedProgram, records: Uint8Array): number[] =>
  Array.from({ length: records.length / 64 }, (_, i) => interpret(program, records.subarray(i * 64, i * 64 + 64), 'le'));

describe('the benchmark competitors decide as the interpreter does', () => {
  it('the JavaScript code generator, on the samples and 500 generated programs', () => {
    for (const { program, records } of [...samples, ...generatedPrograms(500)]) {
      const js = jsFunction(program);
      const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
      expect(Array.from({ length: records.length / 64 }, (_, i) => js(view, i * 64) >>> 0)).toEqual(expectedOf(program, records));
    }
  });

  for (const kind of ['gcc -O2', 'libpcap'] as const) {
    itWhenAvailable(
      nativeUnavailableReason(kind),
      `${kind}, on the samples and 20 generated programs`,
      () => {
        const file = join(mkdtempSync(join(tmpdir(), 'cbpf-native-')), 'records.bin');
        for (const { program, records } of [...samples, ...generatedPrograms(20)]) {
          writeFileSync(file, records);
          const { decisions, roundsNs } = buildNative(kind, program).run(file, 1);
          expect(roundsNs).toHaveLength(1);
          expect(Array.from(decisions)).toEqual(expectedOf(program, records));
        }
      },
      120_000,
    );
  }
});
