/**
 * The bench's `jit in place` competitor in a worker thread of its own: an
 * instance of the filter's module with every record of the workload in its
 * memory, which it grows to hold them. Growing detaches the memory's old
 * buffer, and once a V8 isolate has seen a buffer detached it checks every
 * typed array access for one: in the bench's own thread, decide() and the
 * JavaScript competitors would then be timed slower than in a program that
 * never grew a memory (docs/benchmarks.md). A worker thread is an isolate of
 * its own.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../src/package-root.js';

/** What the thread is started with. */
export interface InPlaceJob {
  /** A lone filter's module, for little-endian records. */
  readonly module: WebAssembly.Module;
  readonly records: Uint8Array;
}

/** What the thread is asked for, once started: `passes` timed passes after untimed ones for `warmUpMs`. */
export interface InPlaceRound {
  readonly passes: number;
  readonly warmUpMs: number;
}

/** The thread's next message, or why it has none. */
function reply<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const settle = (done: () => void) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      done();
    };
    const onMessage = (value: T) => settle(() => resolve(value));
    const onError = (error: Error) => settle(() => reject(error));
    const onExit = (code: number) => settle(() => reject(new Error(`the in-place thread exited with code ${code}`)));
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

/** The in-place competitor's thread. */
export class InPlaceThread {
  private constructor(
    private readonly worker: Worker,
    /** The records' decisions as the thread first made them, for checking. */
    readonly decisions: Uint32Array,
  ) {}

  /**
   * Starts the thread with `job` (its records copied to it) and waits for
   * its first decisions. A thread started from a pinned one runs on the same
   * CPU: Linux threads inherit their creator's affinity.
   */
  static async start(job: InPlaceJob): Promise<InPlaceThread> {
    // The compiled worker: a worker thread needs JavaScript (npm test builds first).
    const worker = new Worker(join(packageRoot(), 'dist', 'bench', 'in-place-worker.js'), { workerData: job });
    return new InPlaceThread(worker, await reply<Uint32Array>(worker));
  }

  /** `round` in the thread: ns per decision of each timed pass. */
  time(round: InPlaceRound): Promise<number[]> {
    this.worker.postMessage(round);
    return reply<number[]>(this.worker);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
