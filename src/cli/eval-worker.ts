/**
 * A worker thread of `cbpf eval --workers N`: decides the batches the main
 * thread sends, with the JIT module the main thread compiled (no binaryen
 * here) or the interpreter, and returns what the command wants of each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { interpretBatch } from '../../interp/stack.js';
import { CompiledFilter, decideBatchWith } from '../../jit/instance.js';
import type { Instruction } from '../instruction.js';
import type { ByteOrder } from '../seccomp/arches.js';
import type { RecordBatch } from '../seccomp/records.js';
import { verify } from '../verifier.js';
import type { DecisionFormat, Engine } from './args.js';
import { binaryDecisions, decisionLines, Summary, type SummaryPartial } from './eval-batch.js';

/** What every worker is started with. */
export interface WorkerSetup {
  readonly engine: Engine;
  readonly filters: Instruction[][];
  /** The JIT's modules, by the byte order they read. */
  readonly modules: Partial<Record<ByteOrder, WebAssembly.Module>>;
  readonly format: DecisionFormat | undefined;
  readonly binary: boolean;
  readonly summary: boolean;
}

/** One batch to decide; `first` is the index of its first record in the trace. */
export interface WorkerTask {
  readonly id: number;
  readonly first: number;
  readonly batch: RecordBatch;
}

/** What a worker sends back for a task. */
export interface WorkerResult {
  readonly id: number;
  readonly count: number;
  readonly lines?: string;
  readonly binary?: Uint8Array;
  readonly summary?: SummaryPartial;
}

const setup = workerData as WorkerSetup;
const filters = setup.filters.map((f) => verify(f));
const instances = new Map<ByteOrder, CompiledFilter>();
const forOrder = (byteOrder: ByteOrder): CompiledFilter => {
  let instance = instances.get(byteOrder);
  if (!instance) {
    const module = setup.modules[byteOrder];
    if (!module) throw new Error(`no module for ${byteOrder} records`);
    instances.set(byteOrder, (instance = new CompiledFilter(new Uint8Array(), module, byteOrder, filters.length)));
  }
  return instance;
};
const decide = (batch: RecordBatch): Uint32Array =>
  setup.engine === 'jit'
    ? decideBatchWith(forOrder, batch)
    : interpretBatch(filters, batch);

parentPort!.on('message', ({ id, first, batch }: WorkerTask) => {
  const values = decide(batch);
  const summary = setup.summary ? new Summary() : undefined;
  summary?.add(values, batch);
  const binary = setup.binary ? binaryDecisions(values) : undefined;
  const result: WorkerResult = {
    id,
    count: batch.count,
    ...(setup.format ? { lines: decisionLines(values, batch, setup.format, first) } : {}),
    ...(binary ? { binary } : {}),
    ...(summary ? { summary: summary.partial() } : {}),
  };
  parentPort!.postMessage(result, binary ? [binary.buffer as ArrayBuffer] : []);
});
