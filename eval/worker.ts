/**
 * A worker thread of `cbpf eval`: decides the batches the main thread sends,
 * or reads them itself from a record file, with the JIT modules compiled
 * elsewhere (no binaryen here), the decision tables or the interpreter, and
 * returns what the command wants of each.
 */
import { parentPort } from 'node:worker_threads';
import { interpreterEngine } from '../interp/engines.js';
import { moduleEngine } from '../jit/instance.js';
import { kernelEngine } from '../jit/tables.js';
import type { Engine } from '../src/engine.js';
import type { Instruction } from '../src/instruction.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { type VerifiedProgram, verify } from '../src/verifier.js';
import { type DecidedWork, decideWork, type WantedOutput, type Work } from './batch.js';
import { type LineTask, type PieceRecords, RecordRangeReader, readLinePiece } from './record-stream.js';
import { Summary, type SummaryPartial } from './summary.js';

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
  readonly wanted: WantedOutput;
  readonly filters: VerifiedProgram[];
  readonly reader: RecordRangeReader | undefined;
  readonly summary: Summary | undefined;
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

parentPort!.on('message', (task: WorkerTask) => {
  if ('setup' in task) {
    const { setup } = task;
    run = {
      wanted: setup,
      filters: setup.filters.map((f) => verify(f)),
      reader: setup.recordFile && new RecordRangeReader(setup.recordFile.fd, setup.recordFile.byteOrder),
      summary: setup.summary ? new Summary() : undefined,
    };
    return answer({ id: task.id, count: 0 });
  }
  if (!run) throw new Error('a worker was sent a task before its setup');
  if ('engine' in task) {
    const { filters } = run;
    takeCounts(run); // the engine's counts, before it goes
    if (task.engine === 'jit') run.engine = moduleEngine(task.modules, filters.length);
    else if (task.engine === 'table') run.engine = kernelEngine(task.tables, filters.length);
    else run.engine = interpreterEngine(filters);
    return answer({ id: task.id, count: 0 });
  }
  if ('piece' in task) {
    const read = readLinePiece(task);
    return answer({ id: task.id, count: read.batch.count, read });
  }
  if ('finish' in task) {
    takeCounts(run);
    return answer({ id: task.id, count: 0, ...(run.summary ? { summary: run.summary.partial() } : {}) });
  }
  if (!run.engine) throw new Error('a worker was sent work before its engine');
  answer({ id: task.id, ...decideWork(task, run.reader, run.engine, run.wanted, run.summary) });
});
