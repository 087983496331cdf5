import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  benchEndToEnd,
  checkCounts,
  countsByAction,
  type EndToEndReport,
  formatEndToEnd,
  referenceCounts,
  runEvalChild,
  workersRow,
} from '../../bench/end-to-end.js';
import { buildEndToEnd, nativeUnavailableReason } from '../../bench/native.js';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { argumentHeavyFilter } from '../../bench/synthetic.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { verify } from '../../src/verifier.js';
import { itWhenAvailable } from '../system-deps.js';

const dockerLinear = SAMPLE_FILTERS.find((s) => s.name === 'docker-linear')!;
const records = generateRecords(5000, 'realistic', 7);
const dir = mkdtempSync(join(tmpdir(), 'cbpf-end-to-end-'));
const recordsPath = join(dir, 'records.bin');
writeFileSync(recordsPath, records);

describe('the end-to-end rows', () => {
  it('run cbpf eval --summary in a child that prints its timing and a summary agreeing with the interpreter, the module cached or not', async () => {
    const [expected] = await referenceCounts(verify(decodeRaw(readFileSync(dockerLinear.path))), records, [5000]);
    const cache = join(dir, 'cache');
    mkdirSync(cache);
    const warm = runEvalChild(dockerLinear.path, recordsPath, { cache, workers: 1, engine: 'jit' });
    const cached = runEvalChild(dockerLinear.path, recordsPath, { cache, workers: 1 });
    const uncached = runEvalChild(dockerLinear.path, recordsPath, { cache: 'off', workers: 1 });
    for (const run of [warm, cached, uncached]) {
      expect(run).toMatchObject({ records: 5000, workerThreads: 0, seconds: expect.any(Number) });
      expect(run.summary.actions).toEqual(expected);
    }
    expect([warm.jit, cached.jit, uncached.jit]).toEqual(['compiled', 'cached', 'not-compiled']);
  });

  it('fail on a count that differs from the interpreter, naming the action', () => {
    expect(() => checkCounts('C', 'records.bin', { ALLOW: 9, 'ERRNO(1)': 1 }, { ALLOW: 9, 'ERRNO(1)': 1 })).not.toThrow();
    expect(() => checkCounts('C', 'records.bin', { ALLOW: 9, 'ERRNO(1)': 1 }, { ALLOW: 10 })).toThrow(
      'C counted 9 records of records.bin as ALLOW, the interpreter 10',
    );
    expect(() => checkCounts('cbpf cached', 'records.bin', { ALLOW: 10 }, { ALLOW: 10, KILL_PROCESS: 1 })).toThrow(
      'cbpf cached counted 0 records of records.bin as KILL_PROCESS, the interpreter 1',
    );
  });

  itWhenAvailable(
    nativeUnavailableReason('gcc -O2'),
    'build a C program that counts as the interpreter does on 1 and 2 threads, and one that only reads',
    async () => {
      const program = argumentHeavyFilter();
      const [expected] = await referenceCounts(program, records, [5000]);
      const c = buildEndToEnd(program);
      for (const threads of [1, 2]) {
        const run = c.run(recordsPath, threads);
        expect(run.records).toBe(5000);
        expect(countsByAction(run.values)).toEqual(expected);
      }
      expect(buildEndToEnd(undefined).run(recordsPath, 2)).toMatchObject({ records: 5000, values: [] });
    },
  );

  it('measure nothing for filters without end-to-end rows', async () => {
    const report = await benchEndToEnd([{ name: 'allowlist-small', program: verify(decodeRaw(readFileSync(SAMPLE_FILTERS[0]!.path))) }], {
      quick: true,
      say: () => {},
    });
    expect(report.filters).toEqual([]);
    expect(formatEndToEnd(report)).toEqual([]);
  });

  it('call the default slower only when its median is slower than every round on one thread', () => {
    const one = [0.066, 0.07, 0.068];
    expect(workersRow(8_388_608, { seconds: [0.069, 0.071, 0.064], threads: 2 }, one)).toEqual({
      records: 8_388_608,
      defaultSeconds: 0.069,
      defaultSpread: [0.064, 0.071],
      defaultThreads: 2,
      oneSeconds: 0.068,
      oneSpread: [0.066, 0.07],
      defaultSlower: false,
    });
    expect(workersRow(8_388_608, { seconds: [0.072, 0.071, 0.064], threads: 2 }, one).defaultSlower).toBe(true);
  });

  it('print each competitor, its ratio, an unavailable one with the reason, and the workers section', () => {
    const report: EndToEndReport = {
      records: [1_000_000, 8_388_608],
      rounds: 5,
      filters: [
        {
          filter: 'docker-linear',
          instructions: 323,
          competitors: [
            { name: 'cbpf cached', nsPerRecord: 5, spread: [4.5, 5.5], seconds: [0.05, 0.087] },
            { name: 'cbpf uncached', nsPerRecord: 20, spread: [19, 21], seconds: [0.1, 0.25] },
            { name: 'C', nsPerRecord: 10, spread: [9, 11], seconds: [0.02, 0.094] },
          ],
          ratios: { 'cbpf cached': 2, 'cbpf uncached': 0.5 },
        },
        { filter: 'docker-tree', instructions: 399, competitors: [{ name: 'C', unavailable: 'no C compiler (gcc)' }], ratios: {} },
      ],
      workers: {
        filter: 'docker-linear',
        rounds: 5,
        rows: [
          workersRow(1_000_000, { seconds: [0.028, 0.03, 0.04], threads: 1 }, [0.024, 0.025, 0.026]),
          workersRow(16_777_216, { seconds: [0.45, 0.5, 0.6], threads: 2 }, [0.85, 0.9, 0.95]),
        ],
        scaling: {
          records: 16_777_216,
          ceiling: { oneSeconds: 0.2, twoSeconds: 0.1, scaling: 2 },
          cbpf: { oneSeconds: 0.9, twoSeconds: 0.5, scaling: 1.8 },
          ofCeiling: 0.9,
        },
      },
    };
    const text = formatEndToEnd(report).join('\n');
    expect(text).toContain('between the 1000000- and the 8388608-record file');
    expect(text).toMatch(/^ {2}cbpf cached +5\.00 +4\.5 to 5\.5 +200\.0 +50 \/ 87 +2\.00x$/m);
    expect(text).toMatch(/^ {2}cbpf uncached +20\.00 +19\.0 to 21\.0 +50\.0 +100 \/ 250 +0\.50x$/m);
    expect(text).toMatch(/^ {2}C +10\.00 +9\.0 to 11\.0 +100\.0 +20 \/ 94$/m);
    expect(text).toMatch(/^docker-tree \(399 instructions\)\n {2}competitor.*\n {2}C +unavailable: no C compiler \(gcc\)$/m);
    expect(text).toMatch(/^ +1000000 +1 thread: 0\.030 s \(0\.028 to 0\.040\) +0\.025 s \(0\.024 to 0\.026\) +default slower beyond the spread$/m);
    expect(text).toMatch(/^ +16777216 +2 threads: 0\.500 s \(0\.450 to 0\.600\) +0\.900 s \(0\.850 to 0\.950\)$/m);
    expect(text).toContain('read ceiling (C that only reads) 0.200 s, 0.100 s: 2.00x;');
    expect(text).toContain('cbpf 0.900 s on 1 thread, 0.500 s on 2: 1.80x; 0.90 of the ceiling');
  });
});
