/**
 * The worker threads of `cbpf eval`: each piece of work goes to the worker
 * with the least work waiting, a few pieces per worker at a time, and results
 * come back in input order. Consecutive ranges of a record file go out
 * joined, so that a worker is sent a message per few milliseconds of work.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../package-root.js';
import { SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import type { Work } from './eval-batch.js';
import { BATCH_RECORDS } from './record-stream.js';
import type { WorkerEngine, WorkerResult, WorkerSetup, WorkerTask } from './eval-worker.js';

/** Pieces of work out per worker at most: enough that no worker waits while the oldest result is awaited. */
const IN_FLIGHT_PER_WORKER = 4;

/**
 * Records of a record file sent to a worker as one range, when no text lines
 * are wanted: about 8 ms of the JIT's work. A message per batch (0.5 ms)
 * woke the main thread a thousand times a second on two cores the workers
 * already filled: the 1 GiB summary took 0.60 to 0.63 s on two workers,
 * against 0.47 to 0.53 s with ranges joined. Lines stay a batch a message,
 * as their text can be 100 bytes a record.
 */
const JOINED_RANGE_RECORDS = 16 * BATCH_RECORDS;

/** A pool that decides batches on `count` workers, keeping their order. */
export class EvalPool {
  private readonly workers: Worker[];
  /** Pieces of work each worker has not answered yet. */
  private readonly pending = new Map<Worker, number>();
  /** By task id: how many records the task holds, and how its result is handed on. */
  private readonly waiting = new Map<number, { records: number; resolve: (r: WorkerResult) => void; reject: (e: Error) => void }>();
  private readonly inFlight: Array<Promise<WorkerResult>> = [];
  private next = 0;
  private failure: Error | undefined;
  private readonly summary: boolean;
  /** Records a range sent as one task may hold (see JOINED_RANGE_RECORDS). */
  private readonly rangeRecords: number;
  /** Consecutive ranges not sent yet, joined into one. */
  private joined: Extract<Work, { range: unknown }> | undefined;
  /** When a worker first answered (its engine message; performance.now()): until then, work sent waits for a thread still starting. */
  upAt: number | undefined;

  constructor(count: number, setup: WorkerSetup) {
    this.summary = setup.summary;
    this.rangeRecords = setup.format ? BATCH_RECORDS : JOINED_RANGE_RECORDS;
    // The compiled worker: tests run from src/, but a worker thread needs JavaScript (npm test builds first).
    const script = join(packageRoot(), 'dist', 'src', 'cli', 'eval-worker.js');
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(script, { workerData: setup });
      this.pending.set(worker, 0);
      worker.on('message', (result: WorkerResult) => {
        this.upAt ??= performance.now();
        this.pending.set(worker, this.pending.get(worker)! - 1);
        const waiting = this.waiting.get(result.id);
        this.waiting.delete(result.id);
        // A worker that decided other than it was sent would shift every decision after it: fail the run instead.
        if (waiting && result.count !== waiting.records) waiting.reject(new Error(`a worker thread decided ${result.count} records of a piece of ${waiting.records}`));
        else waiting?.resolve(result);
      });
      worker.on('error', (error) => {
        this.failure = error;
        for (const { reject } of this.waiting.values()) reject(error);
        this.waiting.clear();
      });
      return worker;
    });
  }

  /** Whether any worker has answered (see upAt). */
  get up(): boolean {
    return this.upAt !== undefined;
  }

  /**
   * Tells every worker which engine to decide with; workers start loading
   * before this, so they can start while the JIT still compiles.
   */
  use(engine: WorkerEngine): void {
    for (const worker of this.workers) this.send(worker, engine);
  }

  /**
   * Sends `work` to the least busy worker, or keeps it to join the ranges
   * after it; returns, in input order, the results ready to be taken, so
   * that at most IN_FLIGHT_PER_WORKER pieces of work per worker are out.
   */
  async submit(work: Work): Promise<WorkerResult[]> {
    const joined = this.joined;
    if ('range' in work && joined && joined.range.offset + joined.range.count * SECCOMP_DATA_SIZE === work.range.offset && joined.count + work.count <= this.rangeRecords) {
      this.joined = { ...joined, count: joined.count + work.count, range: { ...joined.range, count: joined.range.count + work.range.count } };
      return [];
    }
    this.sendJoined();
    if ('range' in work) this.joined = work;
    else this.sendToIdlest(work);
    return this.readyResults();
  }

  /** Sends the ranges joined so far, if any. */
  private sendJoined(): void {
    if (this.joined) this.sendToIdlest(this.joined);
    this.joined = undefined;
  }

  private sendToIdlest(work: Work): void {
    this.send(this.workers.reduce((a, b) => (this.pending.get(b)! < this.pending.get(a)! ? b : a)), work);
  }

  /** The oldest results, awaited until no more than IN_FLIGHT_PER_WORKER pieces of work per worker are out. */
  private async readyResults(): Promise<WorkerResult[]> {
    const ready: WorkerResult[] = [];
    while (this.inFlight.length >= IN_FLIGHT_PER_WORKER * this.workers.length) ready.push(await this.inFlight.shift()!);
    return ready;
  }

  /**
   * Every result still out, in order, then each worker's summary (a worker
   * counts all it decided and reports once, at the end); the workers stop in
   * any case.
   */
  async drain(): Promise<WorkerResult[]> {
    try {
      this.sendJoined();
      if (this.summary) for (const worker of this.workers) this.send(worker, { finish: true });
      return await Promise.all(this.inFlight.splice(0));
    } finally {
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
  }

  /** Posts a task to `worker` (a batch moves, not copied), its result to come in order. */
  private send(worker: Worker, message: WorkerEngine | Work | { readonly finish: true }): void {
    if (this.failure) throw this.failure;
    const id = this.next++;
    this.pending.set(worker, this.pending.get(worker)! + 1);
    const records = 'count' in message ? message.count : 0;
    const result = new Promise<WorkerResult>((resolve, reject) => this.waiting.set(id, { records, resolve, reject }));
    result.catch(() => {}); // awaited in order later; a worker's failure must not count as unhandled before then
    this.inFlight.push(result);
    const task: WorkerTask = { ...message, id };
    worker.postMessage(task, 'batch' in message ? [message.batch.bytes.buffer as ArrayBuffer] : []);
  }
}
