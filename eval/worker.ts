/**
 * A worker thread of `cbpf eval`: decides the batches the main thread sends,
 * or reads them itself from a record file, with the JIT modules compiled
 * elsewhere (no binaryen here), the decision tables or the interpreter, and
 * returns what the command wants of each. It loads only the code the run
 * uses, when the run asks for it: its start-up is time the main thread
 * decides alone (docs/benchmarks.md).
 */
import { parentPort } from 'node:worker_threads';
import { moduleEngine } from '../jit/instance.js';
import type { Engine } from '../src/engine.js';
import type { Instruction } from '../src/instruction.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { type DecidedWork, decideWork, type OutputMaker, type WantedOutput, type Work } from './batch.js';
import { RecordRangeReader } from './record-file.js';
import type { LineTask, PieceRecords } from './record-stream.js';
import { SummaryCounts, type SummaryPartial } from './summary-counts.js';

/** What a worker decides for: its first message, once the run has loaded its filters (the worker starts before). */
export interface WorkerSetup extends WantedOutput {
  readonly filters: Instruction[][];
  /** A binary record file the worker reads its ranges from, open in the main thread (a descriptor belongs to the process). */
  readonly recordFile?: { readonly fd: number; readonly byteOrder: ByteOrder };
  readonly summary: boolean;
}

/**
 * The engine to decide with: the JIT's modules (by the byte order they read),
 * the main thread's decision tables (jit/tables.ts tableBlock), or the interpreter. A later engine
 * message replaces the engine for the work after it.
 */
export type WorkerEngine =
  | { readonly engine: 'jit'; readonly modules: Partial<Record<ByteOrder, WebAssembly.Module>> }
  | { readonly engine: 'table'; readonly tables: Uint8Array }
  | { readonly engine: 'interp' };

/**
 * What the main thread sends a worker: its setup (first), the engine to use
 * (before any work), a piece of work, a piece of lines to read into records
 * (see readLinePiece; not to decide: the main thread numbers them first), or
 * the end (send the summary).
 */
export type WorkerMessage = { readonly setup: WorkerSetup } | WorkerEngine | Work | LineTask | { readonly finish: true };
/** A message as sent: `id` orders the answers. */
export type WorkerTask = WorkerMessage & { readonly id: number };

/** What a worker sends back for a task: the summary comes only for `finish`, the records read only for a LineTask. */
export interface WorkerResult extends DecidedWork {
  readonly id: number;
  readonly summary?: SummaryPartial;
  readonly read?: PieceRecords;
}

/** The run this worker decides for, from its setup message. */
interface Run {
  readonly output: OutputMaker;
  readonly filters: Instruction[][];
  readonly reader: RecordRangeReader | undefined;
  readonly summary: SummaryCounts | undefined;
  engine?: Engine;
}
let run: Run | undefined;

/** Sends the main thread a task's result (lines, decisions and records move, not copied). */
function answer(result: WorkerResult): void {
  const moved = [result.lines, result.binary, result.read?.batch.bytes, result.read?.batch.bigEndian].flatMap((bytes) =>
    bytes ? [bytes.buffer as ArrayBuffer] : [],
  );
  parentPort!.postMessage(result, moved);
}

/** Adds what the run's engine counted to its summary. */
function takeCounts(run: Run): void {
  if (run.summary && run.engine?.takeCounts) run.summary.addCounts(run.engine.takeCounts());
}

/** The engine `message` asks for, its code loaded first where the JIT's is not enough. */
async function engineFor(message: WorkerEngine, filters: Instruction[][]): Promise<Engine> {
  if (message.engine === 'jit') return moduleEngine(message.modules, filters.length);
  if (message.engine === 'table') return (await import('../jit/tables.js')).kernelEngine(message.tables, filters.length);
  const [{ interpreterEngine }, { verify }] = await Promise.all([import('../interp/engines.js'), import('../src/verifier.js')]);
  return interpreterEngine(filters.map((f) => verify(f)));
}

/** Handles one task, loading first the code it needs that the worker has not loaded yet (lines, reading text, an engine). */
async function handle(task: WorkerTask): Promise<void> {
  if ('setup' in task) {
    const { setup } = task;
    run = {
      output: setup.format ? (await import('./lines.js')).outputMaker(setup) : { binary: setup.binary },
      filters: setup.filters,
      reader: setup.recordFile && new RecordRangeReader(setup.recordFile.fd, setup.recordFile.byteOrder),
      summary: setup.summary ? new SummaryCounts() : undefined,
    };
    return answer({ id: task.id, count: 0 });
  }
  if (!run) throw new Error('a worker was sent a task before its setup');
  if ('engine' in task) {
    takeCounts(run); // the engine's counts, before it goes
    run.engine = await engineFor(task, run.filters);
    return answer({ id: task.id, count: 0 });
  }
  if ('piece' in task) {
    const read = (await import('./record-stream.js')).readLinePiece(task);
    return answer({ id: task.id, count: read.batch.count, read });
  }
  if ('finish' in task) {
    takeCounts(run);
    return answer({ id: task.id, count: 0, ...(run.summary ? { summary: run.summary.partial() } : {}) });
  }
  if (!run.engine) throw new Error('a worker was sent work before its engine');
  answer({ id: task.id, ...decideWork(task, run.reader, run.engine, run.output, run.summary) });
}

/**
 * Tasks are handled one at a time, in the order they came (one may wait for
 * code to load). A task that fails is thrown again outside the promise: an
 * uncaught exception ends the thread with an 'error' event, which fails the
 * run in the main thread (pool.ts).
 */
let handled: Promise<void> = Promise.resolve();
parentPort!.on('message', (task: WorkerTask) => {
  handled = handled
    .then(() => handle(task))
    .catch((error: unknown) =>
      process.nextTick(() => {
        throw error;
      }),
    );
});
