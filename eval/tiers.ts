/**
 * The one place that chooses an engine for a run: the interpreter (`interp`)
 * or the decision tables (`auto`) until the JIT's modules are there, from the
 * on-disk cache at once or from a compile in a background thread, then the
 * JIT. With `auto`, the compile starts only once it pays (policy.ts).
 */
import { interpreterEngine } from '../interp/engines.js';
import { cachedModules, compileInWorker } from '../jit/background.js';
import { moduleEngine } from '../jit/instance.js';
import { kernelEngine, tableBlock } from '../jit/tables.js';
import { decideCounting, type Engine, type SyscallCount, type Uncounted } from '../src/engine.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import type { RecordBatch } from '../src/seccomp/records.js';
import type { VerifiedProgram } from '../src/verifier.js';
import type { EvalEngine, EvalTiming, TierCounts } from './options.js';
import { compilePays } from './policy.js';
import type { WorkerEngine } from './worker.js';

const BYTE_ORDERS: readonly ByteOrder[] = ['le', 'be'];

/** The engines of one run, behind the one engine shape; counts how many records each decided in this thread. */
export class TieredEngine implements Engine {
  readonly name = 'tiered';
  /** The JIT's modules, once they are there. */
  modules: Partial<Record<ByteOrder, WebAssembly.Module>> | undefined;
  /** When the run started, and when the compile did and when the JIT's modules came (performance.now()). */
  readonly startedAt = performance.now();
  compileStartedAt: number | undefined;
  compiledAt: number | undefined;
  private readonly decided = { interpreted: 0, tabled: 0, jitted: 0 };
  private jit: Engine | undefined;
  private tables: Engine | undefined;
  /** The tables' block, built once for this thread's kernel and every worker's. */
  private tableBytes: Uint8Array | undefined;
  private readonly interpreter: Engine;
  /** Where the first tier's rate is judged from: the start, or when worker threads started or came up (judgeRateFrom). */
  private rateMark = { at: this.startedAt, decided: 0 };
  private compiling: Promise<void> | undefined;
  private readonly cancel = new AbortController();

  /**
   * `shortTrace`: the whole trace is known to be about a batch at most, and
   * the interpreter decides it all, as building the decision tables would take
   * longer; for anything longer the tables decide from the first batch.
   */
  constructor(
    private readonly filters: readonly VerifiedProgram[],
    readonly engine: EvalEngine,
    private readonly shortTrace = false,
  ) {
    this.interpreter = interpreterEngine(filters);
    if (engine === 'interp') return;
    const cached = cachedModules(filters, BYTE_ORDERS);
    if (cached) this.useModules(cached);
    else if (engine === 'jit') this.startCompile();
  }

  get counts(): TierCounts {
    return { ...this.decided };
  }

  /** Whether the JIT's modules came from the on-disk cache: there, but never compiled in this run. */
  get fromCache(): boolean {
    return this.modules !== undefined && this.compileStartedAt === undefined;
  }

  /** Where the JIT came from in this run. */
  get jitSource(): EvalTiming['jit'] {
    if (this.engine === 'interp') return 'not-used';
    if (this.fromCache) return 'cached';
    if (this.compileStartedAt === undefined) return 'not-compiled';
    return this.compiledAt === undefined ? 'stopped' : 'compiled';
  }

  private useModules(modules: Partial<Record<ByteOrder, WebAssembly.Module>>): void {
    this.modules = modules;
    this.jit = moduleEngine(modules, this.filters.length);
    this.compiledAt = performance.now();
  }

  private startCompile(): void {
    this.compileStartedAt = performance.now();
    this.compiling = compileInWorker(this.filters, BYTE_ORDERS, this.cancel.signal).then((modules) => this.useModules(modules));
    this.compiling.catch(() => {}); // awaited in ready() or stop(); not unhandled before then
  }

  /** The first tier's rate changes here (worker threads started, or came up): judge it afresh from `decided` records in. */
  judgeRateFrom(decided: number): void {
    this.rateMark = { at: performance.now(), decided };
  }

  /**
   * For `auto`: starts the compile when it pays (policy.ts), `decided`
   * records in, with `remaining` to come (undefined: unknown).
   */
  considerCompiling(decided: number, remaining: number | undefined): void {
    if (this.engine !== 'auto' || this.modules || this.compiling) return;
    if (compilePays(decided - this.rateMark.decided, remaining, (performance.now() - this.rateMark.at) / 1000)) this.startCompile();
  }

  /** Resolves once the engine asked for can decide: at once but for `jit`, which waits for the compile. */
  async ready(): Promise<void> {
    if (this.engine === 'jit') await this.compiling;
  }

  /**
   * Lets the event loop run while a compile is under way, so that its result
   * is taken as soon as it comes (a loop of microtasks alone would never see it).
   */
  async letCompileFinish(): Promise<void> {
    if (this.compiling && !this.modules) await new Promise((resolve) => setImmediate(resolve));
  }

  /** What worker threads decide with now: the JIT once its modules are there. */
  get workerEngine(): WorkerEngine {
    if (this.modules) return { engine: 'jit', modules: this.modules };
    return this.engine === 'interp' ? { engine: 'interp' } : { engine: 'table', tables: this.sharedTables() };
  }

  private sharedTables(): Uint8Array {
    this.tableBytes ??= tableBlock(this.filters);
    return this.tableBytes;
  }

  /** The memory of the JIT, or else of the tables' kernel, once either is there: records read there are decided without a copy. */
  recordSlots(byteOrder: ByteOrder, count: number): Uint8Array | undefined {
    return (this.jit ?? this.tables)?.recordSlots?.(byteOrder, count);
  }

  /** The engine to decide `batch` with, its records counted as that engine's. */
  private tierFor(batch: RecordBatch): Engine {
    if (this.jit) {
      this.decided.jitted += batch.count;
      return this.jit;
    }
    if (this.engine === 'interp' || this.shortTrace) {
      this.decided.interpreted += batch.count;
      return this.interpreter;
    }
    this.decided.tabled += batch.count;
    this.tables ??= kernelEngine(this.sharedTables(), this.filters.length);
    return this.tables;
  }

  decide(batch: RecordBatch): Uint32Array {
    return this.tierFor(batch).decide(batch);
  }

  /** As Engine.decideCounting: the tiers that count do; the others' records all go to `uncounted`. */
  decideCounting(batch: RecordBatch, uncounted: Uncounted): Uint32Array {
    return decideCounting(this.tierFor(batch), batch, uncounted);
  }

  /** What the tiers counted since the last call. */
  takeCounts(): SyscallCount[] {
    return [this.tables, this.jit].flatMap((tier) => tier?.takeCounts?.() ?? []);
  }

  /** Stops a compile still running; throws if the compile failed. */
  async stop(): Promise<void> {
    if (!this.compiling) return;
    if (!this.modules) this.cancel.abort(new Error('not needed'));
    await this.compiling.catch((error: unknown) => {
      if (!this.cancel.signal.aborted) throw error;
    });
  }
}
