/**
 * The worker thread behind `compileInWorker` (background.ts): loads Binaryen,
 * builds one module per byte order asked for, posts their bytes back, and ends.
 * Binaryen's memory goes with the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decisionTable } from '../src/decision-table.js';
import type { Instruction } from '../src/instruction.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { verify } from '../src/verifier.js';
import { buildModule } from './module.js';

/** What the thread is started with. */
export interface CompileJob {
  readonly filters: Instruction[][];
  readonly byteOrders: ByteOrder[];
}

const job = workerData as CompileJob;
const filters = job.filters.map((f) => verify(f));
const table = decisionTable(filters); // the same for every byte order
const binaries = job.byteOrders.map((byteOrder) => [byteOrder, buildModule(filters, byteOrder, { table }).binary] as const);
parentPort!.postMessage(
  Object.fromEntries(binaries),
  binaries.map(([, b]) => b.buffer as ArrayBuffer),
);
