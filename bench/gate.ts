/**
 * The performance gate: the ratios of a run (JIT batch over the interpreter,
 * the JS code generator and gcc -O2, per filter and mix) against a committed
 * baseline. Ratios, not times: both sides of each are measured in the same
 * run, so they hold on a shared, noisy machine where absolute times drift.
 */
import type { BenchReport, CompetitorName } from './suite.js';

/** The ratios the gate watches: JIT batch over each of these. */
export const GATED: readonly CompetitorName[] = ['interpreter', 'js codegen', 'gcc -O2'];

/** What `--update-baseline` writes and `--gate` reads. */
export interface Baseline {
  /** How far below its baseline a ratio may fall before the gate fails: 0.35 = 35%. */
  readonly tolerance: number;
  /** By `filter/mix`, the ratio of JIT batch over each gated competitor. */
  readonly ratios: Record<string, Partial<Record<CompetitorName, number>>>;
}

/**
 * The default tolerance: these machines are shared, and a ratio of two
 * medians moved by up to 40% between runs (gcc -O2's few ns per decision on
 * the worst-case mixes most).
 */
export const DEFAULT_TOLERANCE = 0.5;

export function baselineOf(report: BenchReport, tolerance = DEFAULT_TOLERANCE): Baseline {
  const ratios: Baseline['ratios'] = {};
  for (const w of report.workloads) {
    ratios[`${w.filter}/${w.mix}`] = Object.fromEntries(GATED.filter((c) => w.ratios[c] !== undefined).map((c) => [c, Number(w.ratios[c]!.toFixed(3))]));
  }
  return { tolerance, ratios };
}

/**
 * The lower of two baselines, figure by figure (figures in only one are
 * kept): a baseline recorded over several runs holds on a machine where a
 * ratio moves between runs.
 */
export function lowerBaseline(old: Baseline, next: Baseline): Baseline {
  const ratios: Baseline['ratios'] = structuredClone(old.ratios);
  for (const [workload, figures] of Object.entries(next.ratios)) {
    ratios[workload] ??= {};
    const kept = ratios[workload];
    for (const [competitor, ratio] of Object.entries(figures) as Array<[CompetitorName, number]>)
      kept[competitor] = Math.min(kept[competitor] ?? Infinity, ratio);
  }
  return { tolerance: next.tolerance, ratios };
}

/** A gated figure of a run that fell below its baseline by more than the tolerance, or could not be measured. */
export interface GateFailure {
  /** `filter/mix`, as in the baseline. */
  readonly workload: string;
  readonly filter: string;
  readonly competitor: CompetitorName;
  /** One line saying what was measured against what. */
  readonly message: string;
}

/** Each figure of `report` that fell below its baseline by more than the tolerance, or could not be measured. */
export function gateFailures(report: BenchReport, baseline: Baseline): GateFailure[] {
  const failures: GateFailure[] = [];
  for (const w of report.workloads) {
    const workload = `${w.filter}/${w.mix}`;
    const expected = baseline.ratios[workload];
    if (!expected) continue; // a workload the baseline does not know (a fuller run than the baseline's): nothing to compare
    for (const competitor of GATED) {
      const floor = expected[competitor];
      if (floor === undefined) continue;
      const measured = w.ratios[competitor];
      const name = `${workload}: jit batch over ${competitor}`;
      const fail = (message: string) => failures.push({ workload, filter: w.filter, competitor, message });
      if (measured === undefined) {
        const why = w.competitors.find((c) => c.name === competitor)?.unavailable ?? 'not measured';
        fail(`${name} could not be measured (${why}); the baseline has ${floor.toFixed(2)}x`);
      } else if (measured < floor * (1 - baseline.tolerance)) {
        fail(
          `${name} is ${measured.toFixed(2)}x, below the baseline ${floor.toFixed(2)}x less ${Math.round(baseline.tolerance * 100)}% (${(floor * (1 - baseline.tolerance)).toFixed(2)}x)`,
        );
      }
    }
  }
  return failures;
}

/**
 * The failures of a measurement taken again (`again`) that were failures the
 * first time too: a figure fails the gate only when it stays below its floor.
 */
export function confirmedFailures(first: readonly GateFailure[], again: readonly GateFailure[]): GateFailure[] {
  const key = (f: GateFailure) => `${f.workload} ${f.competitor}`;
  const before = new Set(first.map(key));
  return again.filter((f) => before.has(key(f)));
}

/** A baseline file's contents, checked enough to give a clear message when it is not one. */
export function parseBaseline(text: string): Baseline {
  const value = JSON.parse(text) as Partial<Baseline>;
  if (typeof value.tolerance !== 'number' || typeof value.ratios !== 'object' || value.ratios === null) {
    throw new Error('not a cbpf bench baseline (it needs "tolerance" and "ratios")');
  }
  return value as Baseline;
}
