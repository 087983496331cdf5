/**
 * The worker threads of `cbpf eval`, beside the main thread: the main thread
 * sends a piece of work to a worker that is up and has room for it, or else
 * decides it itself; results, wherever they were decided, are taken in input
 * order.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../src/package-root.js';
import type { DecidedWork, Work } from './batch.js';
import { workersToStart } from './policy.js';
import type { LineTask, PieceRecords } from './record-stream.js';
import type { WorkerEngine, WorkerMessage, WorkerResult, WorkerSetup, WorkerTask } from './worker.js';

/** Pieces of work out per worker at most: the one it decides and the next, so that it never waits for the main thread. */
const PIECES_PER_WORKER = 2;
/** Results held back for order at most, per deciding thread, before the main thread waits for the oldest. */
const HELD_PER_THREAD = 4;

/** A result to come in input order: `done` once it is there. */
interface Ordered {
  done?: WorkerResult;
  readonly result: Promise<WorkerResult>;
}

/** Worker threads that decide pieces of work, and the results of all pieces in input order. */
export class EvalPool {
  private readonly workers: Worker[];
  /** Pieces of work each worker has not answered yet. */
  private readonly pending = new Map<Worker, number>();
  /** Workers that answered their setup: work sent to them is decided at once. */
  private readonly upWorkers = new Set<Worker>();
  /** Workers sent work: only they have a summary to report. */
  private readonly busied = new Set<Worker>();
  /** By task id: whether the task is a piece (of work or of lines), how many records it holds (work only), and how its result is handed on. */
  private readonly waiting = new Map<number, { piece: boolean; records: number | undefined; resolve: (r: WorkerResult) => void; reject: (e: Error) => void }>();
  private readonly ordered: Ordered[] = [];
  private next = 0;
  private failure: Error | undefined;
  private summary = false;
  /** When a worker first answered (performance.now()): until then, the main thread decides everything. */
  upAt: number | undefined;
  /** Records the workers read from pieces of lines (readLines). */
  recordsReadFromLines = 0;

  /**
   * Starts `count` worker threads, which load their code while this thread
   * goes on; setUp() gives them the run. Until then they do
   * not keep the process alive, so a run that fails before needs no stop().
   */
  constructor(count: number) {
    // The compiled worker: tests run from src/, but a worker thread needs JavaScript (npm test builds first).
    const script = join(packageRoot(), 'dist', 'eval', 'worker.js');
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(script);
      this.pending.set(worker, 0);
      worker.on('message', (result: WorkerResult) => {
        this.upAt ??= performance.now();
        this.upWorkers.add(worker);
        const waiting = this.waiting.get(result.id);
        this.waiting.delete(result.id);
        if (waiting?.piece) this.pending.set(worker, this.pending.get(worker)! - 1);
        // A worker that decided other than it was sent would shift every decision after it: fail the run instead.
        if (waiting?.records !== undefined && result.count !== waiting.records)
          waiting.reject(new Error(`a worker thread decided ${result.count} records of a piece of ${waiting.records}`));
        else waiting?.resolve(result);
      });
      worker.on('error', (error) => {
        this.failure = error;
        for (const { reject } of this.waiting.values()) reject(error);
        this.waiting.clear();
      });
      worker.unref(); // after the listeners: adding a 'message' listener refs the worker again
      return worker;
    });
  }

  /** Gives every worker the run to decide for, and the engine to start with (see use()). */
  setUp(setup: WorkerSetup, engine: WorkerEngine): void {
    this.summary = setup.summary;
    for (const worker of this.workers) {
      worker.ref();
      this.post(worker, { setup });
    }
    this.use(engine);
  }

  /** How many worker threads there are. */
  get size(): number {
    return this.workers.length;
  }

  /** Whether any worker has answered (see upAt). */
  get up(): boolean {
    return this.upAt !== undefined;
  }

  /** Tells every worker which engine to decide with from now on (the JIT, once its modules are there). */
  use(engine: WorkerEngine): void {
    for (const worker of this.workers) this.post(worker, engine);
  }

  /** Whether a worker that is up has room for another piece of work (see PIECES_PER_WORKER). */
  hasRoom(): boolean {
    return this.idlestUp() !== undefined;
  }

  /** Sends `work` to the least busy worker that is up and has room; its result comes in order. */
  send(work: Work): void {
    const worker = this.idlestUp();
    if (!worker) throw new Error('work sent to worker threads with no room for it');
    this.busied.add(worker);
    this.order(this.post(worker, work));
  }

  /**
   * Sends a piece of lines to the least busy worker that is up and has room,
   * to be read into records: its promise, or undefined when none has room.
   */
  readLines(task: LineTask): Promise<PieceRecords> | undefined {
    const worker = this.idlestUp();
    return (
      worker &&
      this.post(worker, task).then((result) => {
        this.recordsReadFromLines += result.count;
        return result.read!;
      })
    );
  }

  /** Takes a piece of work the main thread decided: its result comes in order after those sent before it. */
  decidedHere(decided: DecidedWork): void {
    const done = { id: -1, ...decided };
    this.ordered.push({ done, result: Promise.resolve(done) });
  }

  /**
   * The results that are there, oldest first, up to the first still out;
   * waits for the oldest while too many are held back for order. Lets the
   * event loop run first, so that workers' answers come in; throws if a
   * worker failed (even one not sent work yet).
   */
  async ready(): Promise<WorkerResult[]> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failure) throw this.failure;
    const ready: WorkerResult[] = [];
    while (this.ordered[0]?.done || this.ordered.length > HELD_PER_THREAD * (this.workers.length + 1)) ready.push(await this.ordered.shift()!.result);
    return ready;
  }

  /**
   * Every result still to come, in order, then the summary of each worker
   * that was sent work (a worker counts all it decided and reports once, at
   * the end).
   */
  async drain(): Promise<WorkerResult[]> {
    if (this.summary) for (const worker of this.busied) this.order(this.post(worker, { finish: true }));
    return Promise.all(this.ordered.splice(0).map((o) => o.result));
  }

  /**
   * Stops every worker, those still starting too, without waiting for them to
   * end: nothing is left for them to answer.
   */
  stop(): void {
    for (const worker of this.workers) void worker.terminate();
  }

  private idlestUp(): Worker | undefined {
    let idlest: Worker | undefined;
    for (const worker of this.upWorkers)
      if (this.pending.get(worker)! < PIECES_PER_WORKER && (!idlest || this.pending.get(worker)! < this.pending.get(idlest)!)) idlest = worker;
    return idlest;
  }

  private order(result: Promise<WorkerResult>): void {
    const ordered: Ordered = { result };
    result.then((done) => (ordered.done = done)).catch(() => {}); // a failure is awaited in order later; not unhandled before then
    this.ordered.push(ordered);
  }

  /** Posts a message to `worker` (a batch moves, not copied; a piece of lines is copied, to be read here again if need be); resolves with the worker's answer. */
  private post(worker: Worker, message: WorkerMessage): Promise<WorkerResult> {
    if (this.failure) throw this.failure;
    const id = this.next++;
    const piece = 'count' in message || 'piece' in message;
    if (piece) this.pending.set(worker, this.pending.get(worker)! + 1);
    const records = 'count' in message ? message.count : undefined;
    const result = new Promise<WorkerResult>((resolve, reject) => this.waiting.set(id, { piece, records, resolve, reject }));
    result.catch(() => {}); // setup and engine answers are not awaited; others are, in order
    const task: WorkerTask = { ...message, id };
    worker.postMessage(task, 'batch' in message ? [message.batch.bytes.buffer as ArrayBuffer] : []);
    return result;
  }
}

/**
 * The worker threads to start before a run, if any (policy.ts): `workers` as
 * asked (undefined: the default), for a trace of `traceBytes` (undefined: a
 * stream). Started before the run loads its own code and its filters, they
 * are up, or nearly, when it starts deciding.
 */
export function earlyPool(workers: number | undefined, traceBytes: number | undefined): EvalPool | undefined {
  const count = workersToStart(workers, availableParallelism(), traceBytes);
  return count > 0 ? new EvalPool(count) : undefined;
}
