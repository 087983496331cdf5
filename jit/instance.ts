/**
 * An instantiated filter module, with decisions one at a time or in batches
 * (the loop runs inside wasm). Imports no binaryen: worker threads make one
 * from a WebAssembly.Module compiled elsewhere.
 */
import type { Engine, SyscallCount, Uncounted } from '../src/engine.js';
import { InputError } from '../src/errors.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { checkRecord, checkRecordBatch, checkRecordBytes, littleEndian, SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { batchByteOrder, type RecordBatch, recordBytes } from '../src/seccomp/records.js';
import { type CountingExports, decideCounting, takeCounts } from './counting.js';
import { KERNEL_MEMORY, MAX_MEMORY_PAGES, OUTPUT_OFFSET, pagesFor, RECORD_CAPACITY, TABLE_OFFSET } from './layout-abi.js';
import { lowerDecide, lowerStackToJs, type RecordDecide, rowChains, type WordsView } from './lower-js.js';
import { readTableArches, readTableFilters, TABLE_HEADER } from './table-layout.js';

interface Exports extends CountingExports {
  readonly decide: (record: number) => number;
  readonly decide_batch: (input: number, count: number, output: number) => void;
  readonly heap_base: WebAssembly.Global;
  readonly [filter: `filter_${number}`]: ((record: number) => number) | undefined;
}

/** Where records recordSlots handed out are, how many, and where their decisions go. */
interface Slots {
  readonly at: number;
  readonly count: number;
  readonly outputAt: number;
}

/** The slots at the start of memory, for up to RECORD_CAPACITY records. */
const FIRST_SLOTS: Slots = { at: 0, count: RECORD_CAPACITY, outputAt: OUTPUT_OFFSET };

/** A stack of verified filters compiled to WebAssembly and instantiated. */
export class CompiledFilter {
  /** How many records fit in the chunk the batch API fills and decides at a time; recordSlots grows memory for more. */
  readonly capacity = RECORD_CAPACITY;
  private readonly exports: Exports;
  /** Where the records recordSlots last handed out are, how many, and where their decisions go. */
  private slots: Slots = FIRST_SLOTS;
  /**
   * Where decide and decideFilter put their one record: at heap_base, where
   * no record slot lies, so that they never overwrite records recordSlots
   * handed out. Slots past the capacity start after it.
   */
  private readonly scratchAt: number;
  /** A view of the scratch record, and memory as words for decide()'s lookups: made again whenever growTo grows memory (which detaches them). */
  private scratch = new Uint8Array(0);
  private readonly memoryWords: WordsView = { words: new Int32Array(0) };

  /**
   * The stack's value for one 64-byte record, decided where it lies: by the
   * tables, else by the filters lowered to JavaScript (lower-js.ts), which
   * cost less than copying the record into wasm memory and calling in; a
   * stack too large for that is run in wasm, from a whole copy of the record.
   * A function of this instance's own, made when `decide` is first read
   * (makeDecide: a few milliseconds for a Docker profile) and kept as an own
   * property: a call site never sees a stand-in, which as a second target
   * there made every later call dearer (docs/benchmarks.md).
   * @throws InputError `record-size` unless `record` is exactly 64 bytes
   * (a length comparison, the size as a literal: this is the per-record hot path).
   */
  get decide(): RecordDecide {
    const decide = this.makeDecide();
    Object.defineProperty(this, 'decide', { value: decide });
    return decide;
  }

  /**
   * Instantiates `module`, built for `byteOrder` records and a stack of
   * `filterCount` filters; for the generic table kernel (kernel.ts), which
   * carries no tables of its own, `tables` is the stack's table block
   * (table-layout.ts), loaded into its memory here.
   * @throws InputError `byte-order` unless `byteOrder` is 'le' or 'be', `empty-stack` unless `filterCount` is a positive integer.
   */
  constructor(
    /** The module's bytes: a standalone .wasm (see module.ts for its ABI), or the table kernel's. */
    readonly wasm: Uint8Array,
    readonly module: WebAssembly.Module,
    readonly byteOrder: ByteOrder,
    readonly filterCount: number,
    tables?: Uint8Array,
  ) {
    const le = littleEndian(byteOrder); // throws for any other byte order
    if (!(Number.isInteger(filterCount) && filterCount >= 1)) throw new InputError('empty-stack', `a module of ${filterCount} filters`);
    const kernelHeap = tables && TABLE_OFFSET + Math.ceil(tables.length / 8) * 8; // the kernel's heap starts past the block
    const memory = kernelHeap ? new WebAssembly.Memory({ initial: pagesFor(kernelHeap + SECCOMP_DATA_SIZE), maximum: MAX_MEMORY_PAGES }) : undefined;
    const imports = memory ? { [KERNEL_MEMORY.module]: { [KERNEL_MEMORY.name]: memory } } : {};
    this.exports = new WebAssembly.Instance(module, imports).exports as unknown as Exports;
    if (kernelHeap) this.exports.heap_base.value = kernelHeap;
    this.scratchAt = this.exports.heap_base.value as number;
    this.growTo(this.scratchAt + SECCOMP_DATA_SIZE);
    if (tables) {
      new Uint8Array(this.exports.memory.buffer, TABLE_OFFSET).set(tables);
      new DataView(this.exports.memory.buffer).setUint32(TABLE_OFFSET + TABLE_HEADER.bigEndian, le ? 0 : 1, true);
    }
  }

  /**
   * Grows wasm memory to at least `bytes` (nothing else grows it), and makes
   * decide()'s views of it when its buffer changed. Growing detaches the old
   * buffer, and once any buffer was detached V8 checks for it on every typed
   * array access of the process, decide()'s reads of a record among them: a
   * new instance has room for its scratch record already (module.ts, and the
   * kernel's memory made above), so only recordSlots past the capacity grows.
   */
  private growTo(bytes: number): void {
    const { memory } = this.exports;
    const needed = bytes - memory.buffer.byteLength;
    if (needed > 0) memory.grow(pagesFor(needed));
    if (this.memoryWords.words.buffer === memory.buffer) return;
    this.scratch = new Uint8Array(memory.buffer, this.scratchAt, SECCOMP_DATA_SIZE);
    this.memoryWords.words = new Int32Array(memory.buffer);
  }

  /**
   * decide() for this stack, as JavaScript of its own (lower-js.ts): the
   * table lookup, and the stack lowered from the filters and resume points in
   * the table block, which the module's own code was made from, so that any
   * instance can make it; where the lowering cannot (lower-js.ts says when),
   * the module's `decide` on a whole copy of the record in wasm memory.
   */
  private makeDecide(): RecordDecide {
    const block = this.exports.memory.buffer;
    const arches = readTableArches(block);
    const run = lowerStackToJs(
      readTableFilters(block),
      this.byteOrder,
      (record) => {
        this.scratch.set(record);
        return this.exports.decide(this.scratchAt);
      },
      rowChains(block, arches, this.byteOrder),
    );
    return lowerDecide(arches, this.byteOrder, run, this.memoryWords, checkRecord);
  }

  /**
   * Filter `index`'s own value (0 = oldest) for one record, before precedence.
   * @throws InputError `filter-index` unless `index` is an integer in
   * 0..filterCount-1, `record-size` unless `record` is exactly 64 bytes.
   */
  decideFilter(index: number, record: Uint8Array): number {
    if (!(Number.isInteger(index) && index >= 0 && index < this.filterCount))
      throw new InputError('filter-index', `filter ${index} of a stack of ${this.filterCount}`);
    checkRecord(record);
    this.scratch.set(record);
    return this.exports[`filter_${index}`]!(this.scratchAt) >>> 0;
  }

  /**
   * The stack's value for each of the 64-byte records in `records`, written to
   * `out` (allocated if absent). Records recordSlots handed out are decided
   * where they lie; any others are copied into wasm memory and decided in
   * chunks of `capacity`.
   * @throws InputError `batch-size` unless `records` is a whole number of
   * 64-byte records, `output-size` when `out` has room for fewer decisions.
   */
  decideBatch(records: Uint8Array, out?: Uint32Array): Uint32Array {
    checkRecordBytes(records);
    const count = records.length / SECCOMP_DATA_SIZE;
    if (!out) out = new Uint32Array(count);
    else if (out.length < count) throw new InputError('output-size', `${count} records, and room for ${out.length} decisions`);
    if (this.inSlots(records, count)) {
      out.set(this.decideSlots(count));
      return out;
    }
    return this.decideInChunks(records, out, (n) => this.decideSlots(n));
  }

  /**
   * As decideBatch, also counting the decisions in the tables' rows
   * (counting.ts): every record not counted goes to `uncounted` with its
   * index in `records`. Records recordSlots handed out are decided where they
   * lie, and the result is then a view valid until the next call.
   * @throws InputError `batch-size` unless `records` is a whole number of 64-byte records.
   */
  decideCounting(records: Uint8Array, uncounted: Uncounted): Uint32Array {
    checkRecordBytes(records);
    const count = records.length / SECCOMP_DATA_SIZE;
    if (this.inSlots(records, count)) return this.countSlots(count, uncounted);
    return this.decideInChunks(records, new Uint32Array(count), (n, done) => this.countSlots(n, (i, value) => uncounted(done + i, value)));
  }

  /** Whether the first `count` records of `records` are the ones recordSlots last handed out. */
  private inSlots(records: Uint8Array, count: number): boolean {
    return records.buffer === this.exports.memory.buffer && records.byteOffset === this.slots.at && count <= this.slots.count;
  }

  /**
   * Decides `records`, which lie outside wasm memory, into `out`: a chunk of
   * up to `capacity` at a time copied into the first slots and decided there
   * by `decide(n, done)` (n records, `done` before them).
   */
  private decideInChunks(records: Uint8Array, out: Uint32Array, decide: (n: number, done: number) => Uint32Array): Uint32Array {
    const count = records.length / SECCOMP_DATA_SIZE;
    for (let done = 0; done < count; done += this.capacity) {
      const n = Math.min(this.capacity, count - done);
      this.recordSlots(n).set(records.subarray(done * SECCOMP_DATA_SIZE, (done + n) * SECCOMP_DATA_SIZE));
      out.set(decide(n, done), done);
    }
    return out;
  }

  /** decideSlots, counting (counting.ts). */
  private countSlots(count: number, uncounted: Uncounted): Uint32Array {
    decideCounting(this.exports, this.slots.at, count, this.slots.outputAt, uncounted);
    return new Uint32Array(this.exports.memory.buffer, this.slots.outputAt, count);
  }

  /** The records decideCounting counted since the last call; their counts start again from 0. */
  takeCounts(): SyscallCount[] {
    return takeCounts(this.exports.memory);
  }

  /**
   * The decisions of the first `count` records of `records`, if they are the
   * records recordSlots last handed out, as decideSlots gives them (a view
   * valid until the next call); undefined for records anywhere else.
   * @throws InputError `batch-size` unless `records` is whole 64-byte
   * records, `batch-count` unless `count` is an integer in 0..their number.
   */
  decideInSlots(records: Uint8Array, count: number): Uint32Array | undefined {
    checkRecordBytes(records);
    if (!(Number.isInteger(count) && count >= 0 && count * SECCOMP_DATA_SIZE <= records.length)) {
      throw new InputError('batch-count', `${count} records of ${records.length / SECCOMP_DATA_SIZE}`);
    }
    return this.inSlots(records, count) ? this.decideSlots(count) : undefined;
  }

  /**
   * A view of wasm memory with room for `count` records: fill it, then call
   * `decideSlots(count)`, with no copy in between. Up to `capacity` records
   * go at the start of memory; more go past `heap_base` (and decide's scratch record there), with their decisions
   * after them, and memory grows to hold them (which leaves views made before
   * detached: take a new one).
   * @throws InputError `slot-count` unless `count` is a non-negative integer.
   */
  recordSlots(count: number): Uint8Array {
    if (!(Number.isInteger(count) && count >= 0)) throw new InputError('slot-count', `room for ${count} records`);
    if (count <= this.capacity) this.slots = FIRST_SLOTS;
    else {
      const at = this.scratchAt + SECCOMP_DATA_SIZE;
      this.slots = { at, count, outputAt: at + count * SECCOMP_DATA_SIZE };
      this.growTo(this.slots.outputAt + count * 4);
    }
    return new Uint8Array(this.exports.memory.buffer, this.slots.at, count * SECCOMP_DATA_SIZE);
  }

  /**
   * Decides the first `count` records of the last recordSlots; the result is a view valid until the next call.
   * @throws InputError `slot-count` unless `count` is an integer in 0..the slots' count.
   */
  decideSlots(count: number): Uint32Array {
    if (!(Number.isInteger(count) && count >= 0 && count <= this.slots.count))
      throw new InputError('slot-count', `${count} records, in slots for ${this.slots.count}`);
    this.exports.decide_batch(this.slots.at, count, this.slots.outputAt);
    return new Uint32Array(this.exports.memory.buffer, this.slots.outputAt, count);
  }
}

/**
 * The value of every record of `batch` (in either byte order) with the module
 * `forOrder` gives for each byte order present: uniform batches in one pass
 * inside wasm, mixed ones record by record.
 * @throws InputError `batch-size` or `batch-count` for a batch whose bytes
 * are not whole records or whose count or byte orders disagree with them.
 */
export function decideBatchWith(forOrder: (byteOrder: ByteOrder) => CompiledFilter, batch: RecordBatch): Uint32Array {
  checkRecordBatch(batch);
  const out = new Uint32Array(batch.count);
  const byteOrder = batchByteOrder(batch);
  if (byteOrder) return forOrder(byteOrder).decideBatch(batch.bytes, out);
  for (let i = 0; i < batch.count; i++) out[i] = forOrder(batch.bigEndian[i] ? 'be' : 'le').decide(recordBytes(batch, i));
  return out;
}

/** The JIT's engines: memory of their own for records, and counting, always. */
export interface JitEngine extends Engine {
  recordSlots(byteOrder: ByteOrder, count: number): Uint8Array;
  decideCounting(batch: RecordBatch, uncounted: Uncounted): Uint32Array;
  takeCounts(): SyscallCount[];
}

/**
 * The JIT as an engine: batches in either byte order, each decided with the
 * instance `instantiate` makes for its byte order the first time records need
 * it. A batch read into recordSlots is decided where it lies, and its result
 * is a view of wasm memory valid until the next call (a new array for each
 * 1,024 records kept two worker threads faulting in fresh memory); any other
 * batch is copied in, and its result is an array of its own.
 * decide() throws InputError `byte-order` for records in a byte order there is
 * no module for; recordSlots() also `slot-count`, as CompiledFilter.recordSlots does.
 */
export function instanceEngine(instantiate: (byteOrder: ByteOrder) => CompiledFilter): JitEngine {
  const instances = new Map<ByteOrder, CompiledFilter>();
  const forOrder = (byteOrder: ByteOrder): CompiledFilter => {
    let instance = instances.get(byteOrder);
    if (!instance) {
      instance = instantiate(byteOrder);
      instances.set(byteOrder, instance);
    }
    return instance;
  };
  return {
    name: 'jit',
    decide: (batch) => {
      checkRecordBatch(batch);
      const byteOrder = batchByteOrder(batch);
      return (byteOrder && instances.get(byteOrder)?.decideInSlots(batch.bytes, batch.count)) || decideBatchWith(forOrder, batch);
    },
    recordSlots: (byteOrder, count) => forOrder(byteOrder).recordSlots(count),
    decideCounting: (batch, uncounted) => {
      checkRecordBatch(batch);
      const byteOrder = batchByteOrder(batch);
      if (byteOrder) return forOrder(byteOrder).decideCounting(batch.bytes, uncounted);
      const values = decideBatchWith(forOrder, batch); // records in both byte orders: each counted outside
      values.forEach((value, i) => void uncounted(i, value));
      return values;
    },
    takeCounts: () => [...instances.values()].flatMap((instance) => instance.takeCounts()),
  };
}

/** The JIT as an engine, with modules compiled elsewhere (one per byte order): what worker threads and a cached run decide with, binaryen never loaded. */
export function moduleEngine(modules: Partial<Record<ByteOrder, WebAssembly.Module>>, filterCount: number): JitEngine {
  return instanceEngine((byteOrder) => {
    const module = modules[byteOrder];
    if (!module) throw new InputError('byte-order', `no module for ${JSON.stringify(byteOrder)} records`);
    return new CompiledFilter(new Uint8Array(), module, byteOrder, filterCount);
  });
}
