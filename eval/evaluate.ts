/**
 * evaluate(): every record of a trace through a stack of filters, streamed:
 * records are read, decided and written a batch at a time, so memory stays
 * bounded whatever the size of the trace.
 *
 * Engines (tiers.ts): the JIT compiles in a background thread (Binaryen never
 * loads in this one); with the `auto` engine the decision tables decide
 * meanwhile, so no trace waits for the compiler. Long traces are decided on
 * worker threads too, beside this thread: they share the compiled modules once
 * they are there and, for a binary record file on disk, read their own ranges
 * of it. Lines of text (JSON lines, strace logs) are read into records on the
 * workers too, and decided here.
 */
import { closeSync, openSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { archNamed, type ByteOrder } from '../src/seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { HOST_BYTE_ORDER } from '../src/seccomp/records.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { decideWork, type WantedOutput, type Work } from './batch.js';
import { traceChunks } from './file-chunks.js';
import { outputMaker } from './lines.js';
import type { EvalOptions, EvalReport, EvalTiming, TraceSource } from './options.js';
import { workersToStart } from './policy.js';
import { EvalPool } from './pool.js';
import { RecordRangeReader } from './record-file.js';
import { BATCH_RECORDS, detectFileFormat, type LinePieceReader, recordBatches, recordRanges, type SkippedRecords, type StraceNotes } from './record-stream.js';
import { Summary } from './summary.js';
import { TieredEngine } from './tiers.js';
import type { WorkerEngine, WorkerResult, WorkerSetup } from './worker.js';

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

/** The size of `path` if it is a regular file, which other threads can open and read at any offset. */
function regularFileSize(path: string): number | undefined {
  const info = statSync(path);
  return info.isFile() ? info.size : undefined;
}

/**
 * A binary record file on disk is worked through as ranges (a worker reads its
 * own); anything else (streams, pipes, JSON lines, strace logs) is streamed
 * here, lines of text read into records by `readLinesElsewhere` when it can.
 */
function openInput(
  source: TraceSource,
  options: EvalOptions,
  rangeRecords: () => number,
  skipped: SkippedRecords | undefined,
  straceNotes: StraceNotes,
  readLinesElsewhere: LinePieceReader,
): Input {
  const byteOrder = options.byteOrder ?? 'le';
  const arch = archNamed(options.arch ?? 'x86_64');
  const size = typeof source === 'string' ? regularFileSize(source) : undefined;
  let format = options.format;
  if (typeof source === 'string' && size !== undefined) {
    const fd = openSync(source, 'r');
    try {
      format ??= detectFileFormat(fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    if (format === 'bin') {
      const reader = new RecordRangeReader(fd, byteOrder);
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
        recordFile: { fd, byteOrder },
        reader,
        readingMoves: false,
        close: () => closeSync(fd),
      };
    }
    closeSync(fd); // text is streamed, as from a pipe
  }
  let read = 0;
  const counted = (async function* () {
    for await (const chunk of traceChunks(source)) {
      read += chunk.length;
      yield chunk;
    }
  })();
  return {
    work: (async function* () {
      let first = 0;
      const streamOptions = { format, byteOrder, arch, ...(skipped ? { skipped } : {}), straceNotes, readLinesElsewhere };
      for await (const batch of recordBatches(counted, streamOptions)) {
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

/** The decisions as little-endian u32s, `bytes` as given. */
function valuesOf(bytes: Uint8Array): Uint32Array {
  if (HOST_BYTE_ORDER === 'le' && bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint32Array.from({ length: bytes.length / 4 }, (_, i) => view.getUint32(i * 4, true));
}

/**
 * Decides every record of `source` through `filters` (a stack, oldest
 * first), writing the decisions to the sinks `options` names, and reports
 * what it did. Throws at the first record that cannot be read (InputError,
 * RecordError with its position), after the decisions before it are written;
 * with `skipBad`, such records are skipped and counted instead.
 */
export async function evaluate(filters: readonly VerifiedProgram[], source: TraceSource, options: EvalOptions = {}): Promise<EvalReport> {
  let pool = options.pool;
  try {
    return await run(
      filters,
      source,
      options,
      () => pool,
      (started) => (pool = started),
    );
  } finally {
    pool?.stop();
  }
}

/** What evaluate() does; `pool` is read and set through accessors, so that evaluate() stops the workers whatever happens here. */
async function run(
  filters: readonly VerifiedProgram[],
  source: TraceSource,
  options: EvalOptions,
  currentPool: () => EvalPool | undefined,
  startedPool: (pool: EvalPool) => void,
): Promise<EvalReport> {
  let pool = currentPool();
  const summary = options.summary ? new Summary() : undefined;
  const wanted: WantedOutput = { format: options.lines?.format, binary: options.values !== undefined };
  const output = outputMaker(wanted);
  const skipped: SkippedRecords | undefined = options.skipBad ? { count: 0 } : undefined;
  const straceNotes: StraceNotes = { notSyscalls: 0 };
  /** Writes one piece of work's results, in input order. */
  const take = async (result: Omit<WorkerResult, 'id'>): Promise<void> => {
    if (result.lines !== undefined) await options.lines?.sink.write(result.lines);
    if (result.binary) await options.values?.write(result.binary);
    if (summary && result.summary) summary.merge(result.summary);
  };

  /** The main thread's fastest piece of work so far: its warm rate, past start-up and the wasm tier-up (one slow piece must not start the workers). */
  const fastestPiece = { records: 0, seconds: Infinity };
  /** Records in the next range of a record file: a batch to start with and for lines, else about RANGE_SECONDS of work. */
  const rangeRecords = (): number => {
    if (wanted.format || fastestPiece.records === 0) return BATCH_RECORDS;
    const records = Math.floor((RANGE_SECONDS * fastestPiece.records) / fastestPiece.seconds / BATCH_RECORDS) * BATCH_RECORDS;
    return Math.min(MAX_RANGE_RECORDS, Math.max(BATCH_RECORDS, records));
  };
  const started = performance.now();
  const input = openInput(source, options, rangeRecords, skipped, straceNotes, (task) => pool?.readLines(task));
  const cores = availableParallelism();
  /** Starts `count` worker threads, if any, for the rest of the run. */
  const startPool = (count: number): void => {
    if (count === 0) return;
    pool = new EvalPool(count);
    startedPool(pool);
  };
  // No pool started before the run (a library caller, or the command's policy said none then): the policy is asked here.
  if (!pool) startPool(workersToStart(options.workers, cores, input.totalBytes));
  const shortTrace = input.totalBytes !== undefined && input.totalBytes <= BATCH_RECORDS * SECCOMP_DATA_SIZE;
  const engine = new TieredEngine(filters, options.engine ?? 'auto', shortTrace);
  try {
    await engine.ready();
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
  /** Pieces of work the main thread decided itself. */
  let piecesHere = 0;
  const workerSetup: WorkerSetup = {
    filters: filters.map((f) => [...f.instructions]),
    ...(input.recordFile ? { recordFile: input.recordFile } : {}),
    ...wanted,
    summary: summary !== undefined,
  };
  /** What the workers decide with now. */
  let poolEngine: WorkerEngine | undefined;
  /** Gives `pool`'s workers this run, and the engine of the moment. */
  const setUp = (pool: EvalPool): EvalPool => {
    poolEngine = engine.workerEngine;
    pool.setUp(workerSetup, poolEngine);
    return pool;
  };
  if (pool) setUp(pool);
  /** Whether a worker is up (it answered), taking work. */
  let workersUp = false;
  let failure: unknown;
  /** When the loop asked the input for its latest piece of work. */
  let pieceAsked = performance.now();
  try {
    for await (const work of input.work) {
      await engine.letCompileFinish();
      const startNow = pool ? 0 : workersToStart(options.workers, cores, input.totalBytes, { pieces: piecesHere, fastestPiece, remaining: remaining() });
      if (startNow > 0) {
        startPool(startNow);
        setUp(pool!);
        engine.judgeRateFrom(total); // and again once one is up
      } else if (pool && poolEngine?.engine !== 'jit' && engine.modules) {
        poolEngine = engine.workerEngine; // the JIT is ready: the workers switch to it
        pool.use(poolEngine);
      }
      // A worker that is up and has room takes the work; else the main thread decides it (while the workers start, and
      // while they are busy), its result held back if need be until those before it come. Where the workers read the
      // input (lines of text), the main thread decides it all: a piece of work took a worker's room for the next piece
      // to read, and summaries of lines ran slower so (docs/benchmarks.md).
      if (pool?.hasRoom() && !input.readingMoves) pool.send(work);
      else {
        piecesHere++;
        const pieceStarted = input.readingMoves ? pieceAsked : performance.now();
        const decided = decideWork(work, input.reader, engine, output, summary);
        const seconds = (performance.now() - pieceStarted) / 1000;
        if (seconds * fastestPiece.records < fastestPiece.seconds * work.count) Object.assign(fastestPiece, { records: work.count, seconds });
        if (pool) pool.decidedHere(decided);
        else await take(decided);
      }
      if (pool) {
        for (const result of await pool.ready()) await take(result);
        if (pool.up && !workersUp) {
          workersUp = true;
          engine.judgeRateFrom(total); // past their start-up, the rate is the workers' and the main thread's
        }
      }
      total += work.count;
      options.onProgress?.(total, input.bytesRead(), input.totalBytes);
      engine.considerCompiling(total, remaining());
      pieceAsked = performance.now();
    }
  } catch (error) {
    failure = error; // thrown below, once everything decided before it is written
  }
  try {
    // Work still with the workers was decided before any failure: write it too.
    for (const result of (await pool?.drain()) ?? []) await take(result);
  } finally {
    pool?.stop(); // every piece is answered by now but after a failure, when one may still be reading the record file as it closes: its result is dropped
    input.close();
    await engine.stop();
  }
  if (failure !== undefined) throw failure;
  summary?.addCounts(engine.takeCounts());
  const now = performance.now();
  const counts = engine.counts;
  const timing: EvalTiming = {
    engine: engine.engine,
    seconds: (now - started) / 1000,
    ...counts,
    jit: engine.jitSource,
    ...(engine.compileStartedAt === undefined ? {} : { compileStarted: (engine.compileStartedAt - started) / 1000 }),
    ...(engine.compiledAt === undefined || engine.fromCache ? {} : { compiled: (engine.compiledAt - started) / 1000 }),
    workerRecords: total - counts.interpreted - counts.tabled - counts.jitted,
    workerThreads: pool?.size ?? 0,
    ...(pool?.upAt === undefined ? {} : { workersUp: (pool.upAt - started) / 1000 }),
    recordsReadFromLines: pool?.recordsReadFromLines ?? 0,
  };
  return {
    records: total,
    ...(summary ? { summary: summary.result() } : {}),
    skipped: { count: skipped?.count ?? 0, ...(skipped?.first === undefined ? {} : { first: skipped.first }) },
    notSyscalls: straceNotes.notSyscalls,
    timing,
  };
}

/** Every decision of `source`, as a whole array: for traces that fit in memory (evaluate() streams any size). */
export async function decideTrace(filters: readonly VerifiedProgram[], source: TraceSource, options: Omit<EvalOptions, 'values'> = {}): Promise<Uint32Array> {
  const parts: Uint32Array[] = [];
  await evaluate(filters, source, { ...options, values: { write: (bytes) => void parts.push(valuesOf(bytes.slice())) } });
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
