/**
 * When `cbpf eval` spends a core on something that pays only for long traces:
 * the JIT compile (with `--engine auto`) and worker threads (with the default
 * `--workers`). Pure functions of the command line and the rates seen so far,
 * so that tests can hold them to their thresholds; evaluate.ts and earlyPool
 * measure and ask.
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
 * record input of at least this many bytes (12,582,912 records) or of unknown
 * length (a pipe), to be up when the run starts; for less, once the run shows
 * they pay (workersToStart): a worker's start-up takes the core V8 optimizes the
 * main thread's code on, and with the JIT (module cached) even one up from the
 * start pays only from about this size on the 2-core CI machine: two threads
 * were as fast as one at 512 MiB, faster at 768 MiB (docs/benchmarks.md).
 */
export const EARLY_WORKERS_FROM_BYTES = 768 << 20;
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

/** What the main thread has seen of a run so far: the pieces of work it decided itself, its fastest, and the records to come (undefined: unknown). */
export interface RunSoFar {
  readonly pieces: number;
  readonly fastestPiece: { readonly records: number; readonly seconds: number };
  readonly remaining: number | undefined;
}

/**
 * The one worker policy: how many worker threads to start now, for
 * `--workers N` (`workers`; undefined: the default) on `cores` cores, for
 * records `recordBytes` long (undefined: of unknown length), before the run
 * (`soFar` undefined) or during it, once none were started before.
 *
 * Asked for N, N - 1 start before the run, none during. By default, one per
 * core but the main thread's: before the run for an input long enough
 * (EARLY_WORKERS_FROM_BYTES) or of unknown length; during it, once the main
 * thread has warmed up (WARM_UP_PIECES) and the rest would take it longer
 * than WORKERS_PAY_AFTER_SECONDS at its fastest rate so far (a stream of
 * unknown length gets them then).
 */
export function workersToStart(workers: number | undefined, cores: number, recordBytes: number | undefined, soFar?: RunSoFar): number {
  if (workers !== undefined) return soFar ? 0 : workers - 1;
  const all = cores - 1;
  if (!soFar) return recordBytes === undefined || recordBytes >= EARLY_WORKERS_FROM_BYTES ? all : 0;
  const { pieces, fastestPiece, remaining } = soFar;
  if (pieces < WARM_UP_PIECES) return 0;
  return remaining === undefined || (remaining * fastestPiece.seconds) / fastestPiece.records > WORKERS_PAY_AFTER_SECONDS ? all : 0;
}
