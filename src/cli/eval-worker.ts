/**
 * A worker thread of `cbpf eval`: decides the batches the main thread sends,
 * or reads them itself from a record file, with the JIT modules compiled
 * elsewhere (no binaryen here), the table tier or the interpreter, and
 * returns what the command wants of each.
 */
import { openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { interpretBatch } from '../../interp/stack.js';
import { moduleDecider } from '../../jit/instance.js';
import type { Instruction } from '../instruction.js';
import type { ByteOrder } from '../seccomp/arches.js';
import type { RecordBatch } from '../seccomp/records.js';
import { verify } from '../verifier.js';
import { decideWork, type BatchEngine, type DecidedWork, type WantedOutput, type Work } from './eval-batch.js';
import { Summary, type SummaryPartial } from './eval-summary.js';
import { tableTier } from './eval-table-tier.js';
import { RecordRangeReader } from './record-stream.js';

/** What every worker is started with (the engine comes later, see WorkerTask). */
export interface WorkerSetup extends WantedOutput {
  readonly filters: Instruction[][];
  /** A binary record file the worker reads its ranges from. */
  readonly recordFile?: { readonly path: string; readonly byteOrder: ByteOrder };
  readonly summary: boolean;
}

/**
 * The engine to decide with: the JIT's modules (by the byte order they read),
 * the table tier (eval-table-tier.ts), or the interpreter. A later engine
 * message replaces the engine for the work after it.
 */
export type WorkerEngine =
  | { readonly engine: 'jit'; readonly modules: Partial<Record<ByteOrder, WebAssembly.Module>> }
  | { readonly engine: 'table' | 'interp' };

/**
 * One message to a worker: the engine to use (first, before any work), a
 * piece of work, or the end (send the summary); `id` orders the answers.
 */
export type WorkerTask = (WorkerEngine | Work | { readonly finish: true }) & { readonly id: number };

/** What a worker sends back for a task: the summary comes only for `finish`. */
export interface WorkerResult extends DecidedWork {
  readonly id: number;
  readonly summary?: SummaryPartial;
}

const setup = workerData as WorkerSetup;
const filters = setup.filters.map((f) => verify(f));
let engine: BatchEngine | undefined;
const reader = setup.recordFile && new RecordRangeReader(openSync(setup.recordFile.path, 'r'), setup.recordFile.byteOrder);

const summary = setup.summary ? new Summary() : undefined;

parentPort!.on('message', (task: WorkerTask) => {
  if ('engine' in task) {
    if (task.engine === 'jit') engine = moduleDecider(task.modules, filters.length);
    else engine = { decide: task.engine === 'table' ? tableTier(filters) : (batch: RecordBatch) => interpretBatch(filters, batch) };
    parentPort!.postMessage({ id: task.id, count: 0 } satisfies WorkerResult);
    return;
  }
  if ('finish' in task) {
    const result: WorkerResult = { id: task.id, count: 0, ...(summary ? { summary: summary.partial() } : {}) };
    parentPort!.postMessage(result);
    return;
  }
  if (!engine) throw new Error('a worker was sent work before its engine');
  const decided = decideWork(task, reader, engine, setup, summary);
  const result: WorkerResult = { id: task.id, ...decided };
  parentPort!.postMessage(result, decided.binary ? [decided.binary.buffer as ArrayBuffer] : []);
});
