/**
 * One `cbpf eval FILTER --records RECORDS --summary` run through the
 * command's library path, for the end-to-end rows of `cbpf bench`
 * (bench/end-to-end.ts), which start it in a fresh node process each time, as
 * a user starts the command. Worker threads start as the command starts them:
 * before the evaluator loads (eval/pool.ts earlyPool).
 *
 *   node dist/bench/eval-child.js FILTER RECORDS WORKERS ENGINE
 *
 * FILTER is a raw little-endian filter, WORKERS the threads to decide on
 * (`--workers`) or `default`, ENGINE `auto` or `jit`. It prints one line of
 * JSON, an EvalChildResult.
 */
import { readFileSync, statSync } from 'node:fs';
import type { EvalEngine, EvalTiming } from '../eval/options.js';
import type { SummaryResult } from '../eval/summary.js';

/** What the child prints: the run's own timing (from evaluate(), so without node's start-up and module loading) and its summary. */
export interface EvalChildResult {
  /** report.timing.seconds. */
  readonly seconds: number;
  readonly records: number;
  /** Where the JIT's module came from (the on-disk cache, a compile in the run...). */
  readonly jit: EvalTiming['jit'];
  /** Worker threads beside the main thread. */
  readonly workerThreads: number;
  readonly summary: SummaryResult;
}

const [filterPath, recordsPath, workersArgument, engine] = process.argv.slice(2);
if (filterPath === undefined || recordsPath === undefined || !/^(\d+|default)$/.test(workersArgument ?? '') || (engine !== 'auto' && engine !== 'jit')) {
  process.stderr.write('usage: eval-child.js FILTER RECORDS WORKERS|default auto|jit\n');
  process.exit(2);
}
const workers = workersArgument === 'default' ? undefined : Number(workersArgument);
const pool = (await import('../eval/pool.js')).earlyPool(workers, statSync(recordsPath).size);
const [{ evaluate }, { decodeRaw }, { verify }] = await Promise.all([
  import('../eval/evaluate.js'),
  import('../src/codecs/raw.js'),
  import('../src/verifier.js'),
]);
const report = await evaluate([verify(decodeRaw(readFileSync(filterPath)))], recordsPath, {
  summary: true,
  engine: engine as EvalEngine,
  ...(workers === undefined ? {} : { workers }),
  ...(pool ? { pool } : {}),
});
const result: EvalChildResult = {
  seconds: report.timing.seconds,
  records: report.records,
  jit: report.timing.jit,
  workerThreads: report.timing.workerThreads,
  summary: report.summary!,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
