/**
 * When `cbpf eval` spends a core on something that pays only for long traces:
 * the JIT compile (with `--engine auto`) and worker threads (with the default
 * `--workers`). Pure functions of the command line and the rates seen so far,
 * so that tests can hold them to their thresholds; eval.ts measures and asks.
 */

/**
 * The JIT is compiled once the work left at the first tier's rate looks longer
 * than this: a compile in a fresh process (Binaryen, then the module) takes a
 * core from the tier, which the JIT, about twice as fast, repays only on a long
 * run; with less left, it made a 1 GiB summary slower (docs/benchmarks.md).
 */
export const COMPILE_PAYS_AFTER_SECONDS = 3;
/** The first tier's rate is judged only after this long (from the start, or from when workers started): the first batches pay for starting up and warming up. */
export const JUDGE_RATE_AFTER_SECONDS = 0.25;
/**
 * Without `--workers`, worker threads start with the process (earlyPool) for a
 * record input of at least this many bytes (4,194,304 records) or of unknown
 * length (a pipe), to be up when the run starts; for less, once the run shows
 * they pay (workersPay): a worker's start-up takes the core V8 optimizes the
 * main thread's code on, and with the JIT even one up from the start pays only
 * from about this size (docs/benchmarks.md).
 */
export const EARLY_WORKERS_FROM_BYTES = 256 << 20;
/**
 * The main thread decides this many pieces of work itself before worker
 * threads may start: the first few are many times slower than the rest (code
 * warming up), and judged on them a short trace looks long (docs/benchmarks.md).
 */
export const WARM_UP_PIECES = 8;
/**
 * Worker threads start during a run once the rest of the trace would take the
 * main thread longer than this at its fastest rate so far: starting one slows
 * the main thread and its first pieces are slow, so with the JIT a worker made
 * a 512 MiB run slower and a 1 GiB one no faster (docs/benchmarks.md).
 */
export const WORKERS_PAY_AFTER_SECONDS = 0.5;

/**
 * Whether to start the JIT compile: the first tier decided `decided` records
 * in the last `seconds` (since the run or its worker threads started), and
 * `remaining` are to come (undefined: a stream of unknown length, taken to be
 * as long again).
 */
export function compilePays(decided: number, remaining: number | undefined, seconds: number): boolean {
  if (decided === 0 || seconds < JUDGE_RATE_AFTER_SECONDS) return false;
  return ((remaining ?? decided) * seconds) / decided > COMPILE_PAYS_AFTER_SECONDS;
}

/**
 * The worker threads to start with the process, before the run loads: for
 * `--workers N` (`workers`), N - 1; without, one per core (`cores`) but the
 * main thread's when the records, `recordBytes` long (undefined: unknown), are
 * long enough (see EARLY_WORKERS_FROM_BYTES).
 */
export function earlyWorkers(workers: number | undefined, recordBytes: number | undefined, cores: number): number {
  if (workers !== undefined) return workers - 1;
  return recordBytes === undefined || recordBytes >= EARLY_WORKERS_FROM_BYTES ? cores - 1 : 0;
}

/**
 * Whether default worker threads should start during a run, after the main
 * thread decided `pieces` pieces of work, its fastest `fastestPiece`, with
 * `remaining` records to come (undefined: a stream of unknown length, which
 * gets them at once).
 */
export function workersPay(pieces: number, remaining: number | undefined, fastestPiece: { readonly records: number; readonly seconds: number }): boolean {
  if (pieces < WARM_UP_PIECES) return false;
  return remaining === undefined || (remaining * fastestPiece.seconds) / fastestPiece.records > WORKERS_PAY_AFTER_SECONDS;
}
