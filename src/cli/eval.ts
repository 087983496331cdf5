/**
 * `cbpf eval`: every record of a trace through a stack of filters, streamed:
 * records are read, decided and written a batch at a time, so memory stays
 * bounded whatever the size of the trace.
 *
 * Engines: the JIT compiles in a background thread (Binaryen never loads in
 * this one); with `--engine auto` the decision tables and the interpreter
 * (eval-table-tier.ts) decide meanwhile, so no trace waits for the compiler.
 * Long traces are decided on worker threads too, beside the main thread: they
 * share the compiled modules once they are there and, for a binary record
 * file on disk, read their own ranges of it. Lines of text (JSON lines, strace
 * logs) are read into records on the workers too, and decided here.
 */
import { closeSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { interpretBatch } from '../../interp/stack.js';
import { cachedModules, compileInWorker } from '../../jit/background.js';
import { type ModuleDecider, moduleDecider } from '../../jit/instance.js';
import type { ByteOrder } from '../seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import type { RecordBatch } from '../seccomp/records.js';
import type { VerifiedProgram } from '../verifier.js';
import type { Command, EvalEngine } from './args.js';
import { type BatchEngine, decideWork, type WantedOutput, type Work } from './eval-batch.js';
import { compilePays, workersPay } from './eval-policy.js';
import { EvalPool } from './eval-pool.js';
import { Summary } from './eval-summary.js';
import { tableTier } from './eval-table-tier.js';
import type { WorkerEngine, WorkerResult, WorkerSetup } from './eval-worker.js';
import { CommandFailure, describeInputError, type Io, type Writer } from './io.js';
import { loadFilters } from './load.js';
import { Progress } from './progress.js';
import {
  BATCH_RECORDS,
  detectStreamFormat,
  type LinePieceReader,
  RecordRangeReader,
  type RecordSlots,
  recordBatches,
  recordRanges,
  type SkippedRecords,
  type StraceNotes,
} from './record-stream.js';

type EvalCommand = Extract<Command, { kind: 'eval' }>;

/** The trace as pieces of work, and how far through it the reading is. */
interface Input {
  readonly work: AsyncIterable<Work>;
  /** The input's size in bytes, when known. */
  readonly totalBytes: number | undefined;
  bytesRead(): number;
  /** A binary record file on disk, open: worker threads read their ranges through the same descriptor. */
  readonly recordFile?: { readonly fd: number; readonly byteOrder: ByteOrder };
  /** Reads ranges of the record file, when the work is ranges. */
  readonly reader?: RecordRangeReader;
  /** Whether reading the input into records can move to worker threads (lines of text): the main thread's rate then counts its reading. */
  readonly readingMoves: boolean;
  close(): void;
}

/**
 * The work in a range of a record file, when no text lines are wanted, at the
 * main thread's fastest rate so far: a worker thread is sent a message per 8
 * ms, and the main thread, which takes the workers' answers only between
 * pieces of work, sees them at least as often. A message per batch woke the
 * main thread far more often on two cores the workers already filled, and a
 * fixed range of 16 batches made a worker wait long for its first work with
 * the interpreter (docs/benchmarks.md).
 */
const RANGE_SECONDS = 0.008;
/** A range's records at most: 16 batches. With lines, a range is a batch, as their text can be 100 bytes a record. */
const MAX_RANGE_RECORDS = 16 * BATCH_RECORDS;

/**
 * A binary record file on disk is worked through as ranges (a worker reads its
 * own); anything else (standard input, pipes, JSON lines, strace logs) is
 * streamed here, lines of text read into records by `readLinesElsewhere` when
 * it can.
 */
async function openInput(
  io: Io,
  command: EvalCommand,
  rangeRecords: () => number,
  skipped: SkippedRecords | undefined,
  straceNotes: StraceNotes,
  readLinesElsewhere: LinePieceReader,
): Promise<Input> {
  const size = await io.regularFileSize(command.records);
  let format = command.recordFormat;
  if (size !== undefined && format === undefined) format = await detectStreamFormat(io.readStream(command.records));
  if (size !== undefined && format === 'bin') {
    const fd = openSync(command.records, 'r');
    const reader = new RecordRangeReader(fd, command.recordByteOrder);
    let read = 0;
    return {
      work: (async function* () {
        for (const range of recordRanges(size, rangeRecords, skipped)) {
          read = range.offset + range.count * SECCOMP_DATA_SIZE;
          yield { first: range.first, count: range.count, range };
        }
      })(),
      totalBytes: size,
      bytesRead: () => read,
      recordFile: { fd, byteOrder: command.recordByteOrder },
      reader,
      readingMoves: false,
      close: () => closeSync(fd),
    };
  }
  let read = 0;
  const counted = (async function* () {
    for await (const chunk of io.readStream(command.records)) {
      read += chunk.length;
      yield chunk;
    }
  })();
  return {
    work: (async function* () {
      let first = 0;
      const options = { format, byteOrder: command.recordByteOrder, arch: command.arch, ...(skipped ? { skipped } : {}), straceNotes, readLinesElsewhere };
      for await (const batch of recordBatches(counted, options)) {
        yield { first, count: batch.count, batch };
        first += batch.count;
      }
    })(),
    totalBytes: size,
    bytesRead: () => read,
    readingMoves: format === 'jsonl' || format === 'strace',
    close: () => {},
  };
}

const BYTE_ORDERS: readonly ByteOrder[] = ['le', 'be'];

/**
 * The engines of one run: the interpreter (`--engine interp`) or the table
 * tier (`auto`) until the JIT's modules are there, from the on-disk cache at
 * once or from a compile in a background thread, then the JIT. Counts how
 * many records each decided in this thread.
 */
class Engines implements BatchEngine {
  jit: ModuleDecider | undefined;
  modules: Partial<Record<ByteOrder, WebAssembly.Module>> | undefined;
  /** When the run started, and when the compile did and when the JIT's modules came (performance.now()). */
  readonly startedAt = performance.now();
  compileStartedAt: number | undefined;
  compiledAt: number | undefined;
  interpreted = 0;
  tabled = 0;
  jitted = 0;
  private tier: ((batch: RecordBatch) => Uint32Array) | undefined;
  /** Where the first tier's rate is judged from: the start, or when worker threads started or came up (judgeRateFrom). */
  private rateMark = { at: this.startedAt, decided: 0 };
  private compiling: Promise<void> | undefined;
  private readonly cancel = new AbortController();

  constructor(
    private readonly filters: readonly VerifiedProgram[],
    readonly engine: EvalEngine,
  ) {
    if (engine === 'interp') return;
    const cached = cachedModules(filters, BYTE_ORDERS);
    if (cached) this.useModules(cached);
    else if (engine === 'jit') this.startCompile();
  }

  /** Whether the JIT's modules came from the on-disk cache: there, but never compiled in this run. */
  get fromCache(): boolean {
    return this.modules !== undefined && this.compileStartedAt === undefined;
  }

  private useModules(modules: Partial<Record<ByteOrder, WebAssembly.Module>>): void {
    this.modules = modules;
    this.jit = moduleDecider(modules, this.filters.length);
    this.compiledAt = performance.now();
  }

  private startCompile(): void {
    this.compileStartedAt = performance.now();
    this.compiling = compileInWorker(this.filters, BYTE_ORDERS, this.cancel.signal).then((modules) => this.useModules(modules));
    this.compiling.catch(() => {}); // awaited in ready() or stop(); not unhandled before then
  }

  /** The first tier's rate changes here (worker threads started, or came up): judge it afresh from `decided` records in. */
  judgeRateFrom(decided: number): void {
    this.rateMark = { at: performance.now(), decided };
  }

  /**
   * For `auto`: starts the compile when it pays (eval-policy.ts), `decided`
   * records in, with `remaining` to come (undefined: unknown).
   */
  considerCompiling(decided: number, remaining: number | undefined): void {
    if (this.engine !== 'auto' || this.modules || this.compiling) return;
    if (compilePays(decided - this.rateMark.decided, remaining, (performance.now() - this.rateMark.at) / 1000)) this.startCompile();
  }

  /** Resolves once the engine asked for can decide: at once but for `--engine jit`, which waits for the compile. */
  async ready(): Promise<void> {
    if (this.engine === 'jit') await this.compiling;
  }

  /**
   * Lets the event loop run while a compile is under way, so that its result
   * is taken as soon as it comes (a loop of microtasks alone would never see it).
   */
  async letCompileFinish(): Promise<void> {
    if (this.compiling && !this.modules) await new Promise((resolve) => setImmediate(resolve));
  }

  /** What worker threads decide with now: the JIT once its modules are there. */
  get workerEngine(): WorkerEngine {
    if (this.modules) return { engine: 'jit', modules: this.modules };
    return { engine: this.engine === 'interp' ? 'interp' : 'table' };
  }

  /** The JIT's memory, once it is there: records read there are decided without a copy. */
  readonly recordSlots: RecordSlots = (byteOrder, count) => this.jit?.recordSlots(byteOrder, count);

  decide(batch: RecordBatch): Uint32Array {
    if (this.jit) {
      this.jitted += batch.count;
      return this.jit.decide(batch);
    }
    // The first batch is interpreted: building the tables costs more than a short trace takes to interpret.
    if (this.engine === 'interp' || (!this.tier && this.interpreted === 0)) {
      this.interpreted += batch.count;
      return interpretBatch(this.filters, batch);
    }
    this.tabled += batch.count;
    this.tier ??= tableTier(this.filters);
    return this.tier(batch);
  }

  /** Stops a compile still running; throws if the compile failed. */
  async stop(): Promise<void> {
    if (!this.compiling) return;
    if (!this.modules) this.cancel.abort(new Error('not needed'));
    await this.compiling.catch((error: unknown) => {
      if (!this.cancel.signal.aborted) throw error;
    });
  }
}

/**
 * Runs `cbpf eval`, with `pool`'s worker threads beside the main thread if
 * given (startEvalWorkers), and stops them in any case: evaluate() stops the
 * workers it ran with, this those of a run that failed before it set them up.
 */
export async function runEval(command: EvalCommand, io: Io, pool?: EvalPool): Promise<void> {
  try {
    await evaluate(command, io, pool);
  } finally {
    pool?.stop();
  }
}

async function evaluate(command: EvalCommand, io: Io, pool: EvalPool | undefined): Promise<void> {
  const filters = await loadFilters(io, command.inputs, command.inputFormat, command.arch);
  const wantLines = command.output !== undefined || (!command.summary && command.out === undefined);
  const writers: Writer[] = [];
  const open = (path: string | undefined): Writer => {
    const writer = io.openWriter(path);
    writers.push(writer);
    return writer;
  };
  if (command.out === '-' && io.stdoutIsTTY) throw new CommandFailure('refusing to write binary output to a terminal: use --out FILE or a pipe');
  const lines = wantLines ? open(command.output) : undefined;
  const binary = command.out === undefined ? undefined : open(command.out);
  const summary = command.summary ? new Summary() : undefined;
  const wanted: WantedOutput = { format: wantLines ? command.format : undefined, binary: binary !== undefined };
  const skipped: SkippedRecords | undefined = command.skipBad ? { count: 0 } : undefined;
  const straceNotes: StraceNotes = { notSyscalls: 0 };
  /** Writes one piece of work's results, in input order. */
  const take = async (result: Omit<WorkerResult, 'id'>): Promise<void> => {
    if (lines && result.lines !== undefined) await lines.write(result.lines);
    if (binary && result.binary) await binary.write(result.binary);
    if (summary && result.summary) summary.merge(result.summary);
  };

  /** The main thread's fastest piece of work so far: its warm rate, past start-up and the wasm tier-up (one slow piece must not start the workers). */
  const fastestPiece = { records: 0, seconds: Infinity };
  /** Records in the next range of a record file: a batch to start with and for lines, else about RANGE_SECONDS of work. */
  const rangeRecords = (): number => {
    if (wantLines || fastestPiece.records === 0) return BATCH_RECORDS;
    const records = Math.floor((RANGE_SECONDS * fastestPiece.records) / fastestPiece.seconds / BATCH_RECORDS) * BATCH_RECORDS;
    return Math.min(MAX_RANGE_RECORDS, Math.max(BATCH_RECORDS, records));
  };
  const started = performance.now();
  let input: Input;
  try {
    input = await openInput(io, command, rangeRecords, skipped, straceNotes, (task) => pool?.readLines(task));
  } catch (error) {
    throw describeInputError(command.records, error);
  }
  const engines = new Engines(filters, command.engine);
  try {
    await engines.ready();
  } catch (error) {
    input.close();
    throw error;
  }
  let total = 0;
  /** Records still to come, estimated from the bytes read so far; undefined for a stream of unknown length. */
  const remaining = (): number | undefined => {
    const bytesRead = input.bytesRead();
    return input.totalBytes === undefined || bytesRead === 0 ? undefined : ((input.totalBytes - bytesRead) * total) / bytesRead;
  };
  const cores = availableParallelism();
  /** Pieces of work the main thread decided itself. */
  let piecesHere = 0;
  /** Whether default worker threads should start now, during the run (eval-policy.ts); `--workers N` started them with the process. */
  const startWorkers = (): boolean => command.workers === undefined && cores > 1 && workersPay(piecesHere, remaining(), fastestPiece);
  const workerSetup: WorkerSetup = {
    filters: filters.map((f) => [...f.instructions]),
    ...(input.recordFile ? { recordFile: input.recordFile } : {}),
    ...wanted,
    summary: command.summary,
  };
  /** What the workers decide with now. */
  let poolEngine: WorkerEngine | undefined;
  /** Gives `pool`'s workers this run, and the engine of the moment. */
  const setUp = (pool: EvalPool): EvalPool => {
    poolEngine = engines.workerEngine;
    pool.setUp(workerSetup, poolEngine);
    return pool;
  };
  if (pool) setUp(pool);
  const progress = new Progress(io, input.totalBytes);
  /** Whether a worker is up (it answered), taking work. */
  let workersUp = false;
  let failure: unknown;
  /** When the loop asked the input for its latest piece of work. */
  let pieceAsked = performance.now();
  try {
    for await (const work of input.work) {
      await engines.letCompileFinish();
      if (!pool && startWorkers()) {
        pool = setUp(new EvalPool(cores - 1));
        engines.judgeRateFrom(total); // and again once one is up
      } else if (pool && poolEngine?.engine !== 'jit' && engines.modules) {
        poolEngine = engines.workerEngine;
        pool.use(poolEngine); // the JIT is ready: the workers switch to it
      }
      // A worker that is up and has room takes the work; else the main thread decides it (while the workers start, and
      // while they are busy), its result held back if need be until those before it come. Where the workers read the
      // input (lines of text), the main thread decides it all: a piece of work took a worker's room for the next piece to
      // read, and the 1,000,000-record summary took 1.74 to 1.87 s on two threads against 1.44 to 1.84 s so.
      if (pool?.hasRoom() && !input.readingMoves) pool.send(work);
      else {
        piecesHere++;
        const pieceStarted = input.readingMoves ? pieceAsked : performance.now();
        const decided = decideWork(work, input.reader, engines, wanted, summary);
        const seconds = (performance.now() - pieceStarted) / 1000;
        if (seconds * fastestPiece.records < fastestPiece.seconds * work.count) Object.assign(fastestPiece, { records: work.count, seconds });
        if (pool) pool.decidedHere(decided);
        else await take(decided);
      }
      if (pool) {
        for (const result of await pool.ready()) await take(result);
        if (pool.up && !workersUp) {
          workersUp = true;
          engines.judgeRateFrom(total); // past their start-up, the rate is the workers' and the main thread's
        }
      }
      total += work.count;
      progress.update(total, input.bytesRead());
      engines.considerCompiling(total, remaining());
      pieceAsked = performance.now();
    }
  } catch (error) {
    failure = error; // reported below, once everything decided before it is written
  }
  try {
    // Work still with the workers was decided before any failure: write it too.
    for (const result of (await pool?.drain()) ?? []) await take(result);
  } finally {
    pool?.stop(); // every piece is answered by now but after a failure, when one may still be reading the record file as it closes: its result is dropped
    input.close();
    progress.finish();
    // Every writer is closed, and the engines stopped, even when one output failed; then the first failure is reported.
    const closed = await Promise.allSettled(writers.map((writer) => writer.close()));
    await engines.stop();
    const refused = closed.find((outcome) => outcome.status === 'rejected');
    // biome-ignore lint/correctness/noUnsafeFinally: deliberate: a writer that failed to close is the failure reported, over any from draining the pool
    if (refused) throw refused.reason;
  }
  if (failure !== undefined) throw describeInputError(command.records, failure);
  if (summary) io.stdout(command.format === 'json' ? `${JSON.stringify(summary.result())}\n` : summary.format());
  if (straceNotes.notSyscalls > 0)
    io.stderr(`cbpf: ${straceNotes.notSyscalls} line${straceNotes.notSyscalls === 1 ? ' was' : 's were'} not syscalls (signals, exits, strace's notes)\n`);
  if (skipped && skipped.count > 0) io.stderr(`cbpf: skipped ${skipped.count} bad record${skipped.count === 1 ? '' : 's'} (the first: ${skipped.first})\n`);
  if (command.timing) io.stderr(`${timingLine(engines, pool, total, started)}\n`);
}

/** What `--timing` prints: which engine decided how much, where, and how fast. */
function timingLine(engines: Engines, workers: EvalPool | undefined, total: number, started: number): string {
  const now = performance.now();
  const seconds = (now - started) / 1000;
  const parts: string[] = [];
  if (engines.engine === 'interp') parts.push('JIT not used');
  else if (engines.fromCache) parts.push('JIT loaded from the on-disk cache');
  else if (engines.compileStartedAt === undefined) parts.push('JIT not compiled (the trace was too short for it to pay)');
  else if (engines.compiledAt === undefined) parts.push('JIT compile stopped (the trace ended first)');
  else
    parts.push(
      `JIT compiled in the background in ${((engines.compiledAt - engines.compileStartedAt) / 1000).toFixed(3)} s, ${((engines.compileStartedAt - engines.startedAt) / 1000).toFixed(3)} s in`,
    );
  if (workers) {
    const pooled = total - engines.interpreted - engines.tabled - engines.jitted;
    const up =
      workers.upAt === undefined || pooled === 0
        ? ''
        : ` (${(pooled / ((now - workers.upAt) / 1000) / 1e6).toFixed(2)} M records/s from when the first was up, ${((workers.upAt - started) / 1000).toFixed(3)} s in)`;
    parts.push(`${pooled} records on ${workers.size} worker thread${workers.size === 1 ? '' : 's'}${up}`);
    if (workers.recordsReadFromLines > 0) parts.push(`${workers.recordsReadFromLines} records read from lines of text there`);
  }
  const tabled = engines.engine === 'interp' ? '' : `${engines.tabled} by the decision tables (and the interpreter where they could not say), `;
  parts.push(`${engines.interpreted} interpreted, ${tabled}${engines.jitted} by the JIT in the main thread`);
  let line = `${engines.engine}: ${parts.join('; ')}; ${total} records in ${seconds.toFixed(3)} s (${(total / seconds / 1e6).toFixed(2)} M records/s, reading and writing included)`;
  if (engines.engine === 'jit' && engines.compiledAt !== undefined) {
    const deciding = (now - engines.compiledAt) / 1000;
    line += `, ${deciding.toFixed(3)} s after the compile (${(total / deciding / 1e6).toFixed(2)} M records/s)`;
  }
  return line;
}
