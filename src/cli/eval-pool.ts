/**
 * The worker threads of `cbpf eval --workers N`: batches go out in turn, at
 * most two per worker at a time, and results come back in input order.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../package-root.js';
import type { RecordBatch } from '../seccomp/records.js';
import type { WorkerResult, WorkerSetup } from './eval-worker.js';

/** A pool that decides batches on `count` workers, keeping their order. */
export class EvalPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (r: WorkerResult) => void; reject: (e: Error) => void }>();
  private readonly inFlight: Array<Promise<WorkerResult>> = [];
  private next = 0;
  private failure: Error | undefined;

  constructor(count: number, setup: WorkerSetup) {
    // The compiled worker: tests run from src/, but a worker thread needs JavaScript (npm test builds first).
    const script = join(packageRoot(), 'dist', 'src', 'cli', 'eval-worker.js');
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(script, { workerData: setup });
      worker.on('message', (result: WorkerResult) => {
        this.waiting.get(result.id)?.resolve(result);
        this.waiting.delete(result.id);
      });
      worker.on('error', (error) => {
        this.failure = error;
        for (const { reject } of this.waiting.values()) reject(error);
        this.waiting.clear();
      });
      return worker;
    });
  }

  /**
   * Sends `batch` to the next worker; returns, in input order, the results
   * that are ready to be taken so that at most two batches per worker wait.
   */
  async submit(batch: RecordBatch, first: number): Promise<WorkerResult[]> {
    if (this.failure) throw this.failure;
    const id = this.next++;
    const worker = this.workers[id % this.workers.length]!;
    const result = new Promise<WorkerResult>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    result.catch(() => {}); // awaited in order later; a worker's failure must not count as unhandled before then
    this.inFlight.push(result);
    worker.postMessage({ id, first, batch }, [batch.bytes.buffer as ArrayBuffer]);
    const ready: WorkerResult[] = [];
    while (this.inFlight.length >= 2 * this.workers.length) ready.push(await this.inFlight.shift()!);
    return ready;
  }

  /** Every result still out, in order; the workers stop in any case. */
  async drain(): Promise<WorkerResult[]> {
    try {
      return await Promise.all(this.inFlight.splice(0));
    } finally {
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
  }
}
