import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EndToEndResult } from '../../bench/end-to-end.js';
import { baselineOf, confirmedFailures, gateFailures, lowerBaseline } from '../../bench/gate.js';
import type { BenchReport, WorkloadResult } from '../../bench/suite.js';
import { runCli } from '../helpers.js';

const workload = (ratios: WorkloadResult['ratios'], unavailable?: string): WorkloadResult => ({
  filter: 'docker-linear',
  instructions: 323,
  mix: 'realistic',
  records: 100,
  competitors: unavailable ? [{ name: 'gcc -O2', unavailable }] : [],
  ratios,
  inPlaceRatios: {},
});
/** docker-linear's end-to-end row: cbpf cached over C at `cached` (undefined: C did not run, for `unavailable`). */
const endToEnd = (cached: number | undefined, unavailable?: string): EndToEndResult => ({
  filter: 'docker-linear',
  instructions: 323,
  competitors: unavailable ? [{ name: 'C', unavailable }] : [],
  ratios: cached === undefined ? {} : { 'cbpf cached': cached, 'cbpf uncached': cached / 4 },
});
const report = (w: WorkloadResult, rows: EndToEndResult[] = []): BenchReport => ({
  machine: { cpu: 'x', cores: 2, node: 'v20' },
  pinning: { cpu: 0 },
  records: 100,
  slowRecords: 100,
  decideRecords: 100,
  rounds: 3,
  workloads: [w],
  compile: [],
  endToEnd: { records: [100, 1000], rounds: 3, filters: rows },
  profiles: [],
});

describe('the bench gate', () => {
  const baseline = baselineOf(report(workload({ interpreter: 50, 'js codegen': 10, 'gcc -O2': 0.6, libpcap: 9 })), 0.3);

  it('keeps only the gated ratios in a baseline', () => {
    expect(baseline).toEqual({ tolerance: 0.3, ratios: { 'docker-linear/realistic': { interpreter: 50, 'js codegen': 10, 'gcc -O2': 0.6 } } });
  });

  it('passes ratios within the tolerance and names each one that falls below it', () => {
    expect(gateFailures(report(workload({ interpreter: 36, 'js codegen': 7.5, 'gcc -O2': 0.43 })), baseline)).toEqual([]);
    expect(gateFailures(report(workload({ interpreter: 34, 'js codegen': 20, 'gcc -O2': 0.41 })), baseline).map((f) => f.message)).toEqual([
      'docker-linear/realistic: jit batch over interpreter is 34.00x, below the baseline 50.00x less 30% (35.00x)',
      'docker-linear/realistic: jit batch over gcc -O2 is 0.41x, below the baseline 0.60x less 30% (0.42x)',
    ]);
  });

  it('fails a figure it could not measure, with the reason', () => {
    expect(gateFailures(report(workload({ interpreter: 50, 'js codegen': 10 }, 'no C compiler (gcc)')), baseline).map((f) => f.message)).toEqual([
      'docker-linear/realistic: jit batch over gcc -O2 could not be measured (no C compiler (gcc)); the baseline has 0.60x',
    ]);
  });

  it('confirms only the failures that a second measurement repeats', () => {
    const first = gateFailures(report(workload({ interpreter: 34, 'js codegen': 5, 'gcc -O2': 0.6 })), baseline);
    expect(first.map((f) => f.competitor)).toEqual(['interpreter', 'js codegen']);
    // Measured again: the interpreter figure holds, the JS one stays below, gcc's (fine the first time) falls.
    const again = gateFailures(report(workload({ interpreter: 50, 'js codegen': 6, 'gcc -O2': 0.1 })), baseline);
    expect(confirmedFailures(first, again)).toEqual([
      {
        workload: 'docker-linear/realistic',
        filter: 'docker-linear',
        competitor: 'js codegen',
        message: 'docker-linear/realistic: jit batch over js codegen is 6.00x, below the baseline 10.00x less 30% (7.00x)',
      },
    ]);
  });

  it('keeps the cached end-to-end ratio under end-to-end/FILTER', () => {
    expect(baselineOf(report(workload({ interpreter: 50 }), [endToEnd(1.25)])).ratios).toEqual({
      'docker-linear/realistic': { interpreter: 50 },
      'end-to-end/docker-linear': { 'cbpf cached': 1.25 },
    });
  });

  it('gates the cached end-to-end ratio, naming the filter to measure again', () => {
    const withEndToEnd = { ...baseline, ratios: { ...baseline.ratios, 'end-to-end/docker-linear': { 'cbpf cached': 1.2 } } };
    const measured = workload({ interpreter: 50, 'js codegen': 10, 'gcc -O2': 0.6 });
    expect(gateFailures(report(measured, [endToEnd(0.9)]), withEndToEnd)).toEqual([]);
    expect(gateFailures(report(measured, [endToEnd(0.8)]), withEndToEnd)).toEqual([
      {
        workload: 'end-to-end/docker-linear',
        filter: 'docker-linear',
        competitor: 'cbpf cached',
        message: 'end-to-end/docker-linear: cbpf cached over C is 0.80x, below the baseline 1.20x less 30% (0.84x)',
      },
    ]);
    expect(gateFailures(report(measured, [endToEnd(undefined, 'no C compiler (gcc)')]), withEndToEnd).map((f) => f.message)).toEqual([
      'end-to-end/docker-linear: cbpf cached over C could not be measured (no C compiler (gcc)); the baseline has 1.20x',
    ]);
  });

  it('passes end-to-end rows that a baseline without end-to-end figures does not know', () => {
    expect(gateFailures(report(workload({ interpreter: 50, 'js codegen': 10, 'gcc -O2': 0.6 }), [endToEnd(0.01)]), baseline)).toEqual([]);
  });

  it('lowers a baseline figure by figure, keeping figures only one side has', () => {
    const next = { tolerance: 0.5, ratios: { 'docker-linear/realistic': { interpreter: 40, 'js codegen': 12 }, 'docker-tree/worst': { interpreter: 20 } } };
    expect(lowerBaseline(baseline, next)).toEqual({
      tolerance: 0.5,
      ratios: { 'docker-linear/realistic': { interpreter: 40, 'js codegen': 10, 'gcc -O2': 0.6 }, 'docker-tree/worst': { interpreter: 20 } },
    });
  });

  it('makes cbpf bench --gate exit 1 on a doctored baseline after measuring again, and 0 when every ratio holds', async () => {
    const committed = JSON.parse(readFileSync('bench/baseline.json', 'utf8')) as { tolerance: number; ratios: Record<string, Record<string, number>> };
    const doctored = { ...committed, ratios: { 'allowlist-small/realistic': { interpreter: 1e6, 'js codegen': 1e6, 'gcc -O2': 1e6 } } };
    const args = ['bench', '--quick', '--filter', 'allowlist-small', '--gate', 'baseline.json'];
    const failed = await runCli(args, { files: { 'baseline.json': JSON.stringify(doctored) } });
    expect(failed.code).toBe(1);
    const less = `less ${Math.round(committed.tolerance * 100)}%`;
    expect(failed.stderr).toMatch(
      new RegExp(
        `^cbpf bench: regression: allowlist-small/realistic: jit batch over interpreter is [\\d.]+x, below the baseline 1000000\\.00x ${less}.*\\(below in 3 measurements\\)$`,
        'm',
      ),
    );
    expect(failed.stderr).toMatch(/^cbpf bench: measuring allowlist-small again \(measurement 2 of 3\)/m);
    expect(failed.stderr).toMatch(/^cbpf bench: measuring allowlist-small again \(measurement 3 of 3\)/m);
    expect(failed.stderr).toMatch(/cbpf: bench gate failed: 3 figures regressed against baseline.json\n$/);
    expect(failed.stdout).toMatch(/^allowlist-small \(\d+ instructions\), worst mix$/m);
    const passed = await runCli(args, {
      files: { 'baseline.json': JSON.stringify({ ...committed, ratios: { 'allowlist-small/realistic': { interpreter: 1e-6 } } }) },
    });
    expect(passed).toMatchObject({ code: 0 });
    expect(passed.stderr).toMatch(/gate passed/);
  }, 120_000);
});
