/**
 * The performance gate: the ratios of a run (JIT batch over the interpreter,
 * the JS code generator and gcc -O2, per filter and mix; end to end, `cbpf
 * eval --summary` with its module cached over C, per filter) against a
 * committed baseline. Ratios, not times: both sides of each are measured in
 * the same run, so they hold on a shared, noisy machine where absolute times
 * drift.
 */
import type { BenchReport, CompetitorName } from './suite.js';

/** The ratios the gate watches: JIT batch over each of these. */
export const GATED: readonly CompetitorName[] = ['interpreter', 'js codegen', 'gcc -O2'];
/** The end-to-end ratio the gate watches, per filter: cbpf with its module cached over C (C's ns per record over cbpf's). */
export const GATED_END_TO_END = 'cbpf cached';

/** What a baseline ratio is of: JIT batch over a competitor, or, under an `end-to-end/filter` key, GATED_END_TO_END. */
export type GatedFigure = CompetitorName | typeof GATED_END_TO_END;

/** What `--update-baseline` writes and `--gate` reads. */
export interface Baseline {
  /** How far below its baseline a ratio may fall before the gate fails: 0.35 = 35%. */
  readonly tolerance: number;
  /** By `filter/mix`, the ratio of JIT batch over each gated competitor; by `end-to-end/filter`, the end-to-end ratio. */
  readonly ratios: Record<string, Partial<Record<GatedFigure, number>>>;
}

/**
 * The default tolerance: these machines are shared, and a ratio of two
 * medians moved by up to 40% between runs (gcc -O2's few ns per decision on
 * the worst-case mixes most).
 */
export const DEFAULT_TOLERANCE = 0.5;

/** One gated figure of a run: where it goes in the baseline, what it is, and its value or why there is none. */
interface Figure {
  readonly workload: string;
  readonly filter: string;
  readonly competitor: GatedFigure;
  /** What was measured against what, as messages name it. */
  readonly name: string;
  readonly measured?: number;
  readonly unavailable?: string;
}

/** Every gated figure of `report`, measured or not. */
function figures(report: BenchReport): Figure[] {
  const jit = report.workloads.flatMap((w) => {
    const workload = `${w.filter}/${w.mix}`;
    return GATED.map(
      (competitor): Figure => ({
        workload,
        filter: w.filter,
        competitor,
        name: `${workload}: jit batch over ${competitor}`,
        measured: w.ratios[competitor],
        unavailable: w.competitors.find((c) => c.name === competitor)?.unavailable,
      }),
    );
  });
  const endToEnd = report.endToEnd.filters.map((e): Figure => {
    const workload = `end-to-end/${e.filter}`;
    return {
      workload,
      filter: e.filter,
      competitor: GATED_END_TO_END,
      name: `${workload}: ${GATED_END_TO_END} over C`,
      measured: e.ratios[GATED_END_TO_END],
      unavailable: e.competitors.find((c) => c.unavailable !== undefined)?.unavailable,
    };
  });
  return [...jit, ...endToEnd];
}

export function baselineOf(report: BenchReport, tolerance = DEFAULT_TOLERANCE): Baseline {
  const ratios: Baseline['ratios'] = {};
  for (const f of figures(report)) {
    ratios[f.workload] ??= {};
    if (f.measured !== undefined) ratios[f.workload]![f.competitor] = Number(f.measured.toFixed(3));
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
    for (const [competitor, ratio] of Object.entries(figures) as Array<[GatedFigure, number]>) kept[competitor] = Math.min(kept[competitor] ?? Infinity, ratio);
  }
  return { tolerance: next.tolerance, ratios };
}

/** A gated figure of a run that fell below its baseline by more than the tolerance, or could not be measured. */
export interface GateFailure {
  /** `filter/mix` or `end-to-end/filter`, as in the baseline. */
  readonly workload: string;
  /** The filter to measure again. */
  readonly filter: string;
  readonly competitor: GatedFigure;
  /** One line saying what was measured against what. */
  readonly message: string;
}

/** Each figure of `report` that fell below its baseline by more than the tolerance, or could not be measured. */
export function gateFailures(report: BenchReport, baseline: Baseline): GateFailure[] {
  const failures: GateFailure[] = [];
  for (const f of figures(report)) {
    // A figure the baseline does not know (a fuller run than the baseline's, a baseline older than the figure): nothing to compare.
    const floor = baseline.ratios[f.workload]?.[f.competitor];
    if (floor === undefined) continue;
    const fail = (message: string) => failures.push({ workload: f.workload, filter: f.filter, competitor: f.competitor, message });
    if (f.measured === undefined) {
      fail(`${f.name} could not be measured (${f.unavailable ?? 'not measured'}); the baseline has ${floor.toFixed(2)}x`);
    } else if (f.measured < floor * (1 - baseline.tolerance)) {
      fail(
        `${f.name} is ${f.measured.toFixed(2)}x, below the baseline ${floor.toFixed(2)}x less ${Math.round(baseline.tolerance * 100)}% (${(floor * (1 - baseline.tolerance)).toFixed(2)}x)`,
      );
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
