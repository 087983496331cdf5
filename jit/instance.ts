/**
 * An instantiated filter module, with decisions one at a time or in batches
 * (the loop runs inside wasm). Imports no binaryen: worker threads make one
 * from a WebAssembly.Module compiled elsewhere.
 */
import type { ByteOrder } from '../src/seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { batchByteOrder, recordBytes, type RecordBatch } from '../src/seccomp/records.js';
import { OUTPUT_OFFSET, RECORD_CAPACITY, WASM_PAGE_SIZE } from './layout-abi.js';

interface Exports {
  readonly memory: WebAssembly.Memory;
  readonly decide: (record: number) => number;
  readonly decide_batch: (input: number, count: number, output: number) => void;
  readonly heap_base: WebAssembly.Global;
  readonly [filter: `filter_${number}`]: (record: number) => number;
}

/** A stack of verified filters compiled to WebAssembly and instantiated. */
export class CompiledFilter {
  /** How many records fit in the chunk the batch API fills and decides at a time; recordSlots grows memory for more. */
  readonly capacity = RECORD_CAPACITY;
  private readonly exports: Exports;
  /** Where the records recordSlots last handed out are, how many, and where their decisions go. */
  private slots = { at: 0, count: RECORD_CAPACITY, outputAt: OUTPUT_OFFSET };

  constructor(
    /** The module's bytes: a standalone .wasm (see module.ts for its ABI). */
    readonly wasm: Uint8Array,
    readonly module: WebAssembly.Module,
    readonly byteOrder: ByteOrder,
    readonly filterCount: number,
  ) {
    this.exports = new WebAssembly.Instance(module, {}).exports as unknown as Exports;
  }

  /** The stack's value for one 64-byte record. */
  decide(record: Uint8Array): number {
    this.recordSlots(1).set(record.subarray(0, SECCOMP_DATA_SIZE));
    return this.exports.decide(0) >>> 0;
  }

  /** Filter `index`'s own value (0 = oldest) for one record, before precedence. */
  decideFilter(index: number, record: Uint8Array): number {
    this.recordSlots(1).set(record.subarray(0, SECCOMP_DATA_SIZE));
    return this.exports[`filter_${index}`]!(0) >>> 0;
  }

  /**
   * The stack's value for each of the 64-byte records in `records`, written to
   * `out` (allocated if absent). Records recordSlots handed out are decided
   * where they lie; any others are copied into wasm memory and decided in
   * chunks of `capacity`.
   */
  decideBatch(records: Uint8Array, out: Uint32Array = new Uint32Array(records.length / SECCOMP_DATA_SIZE)): Uint32Array {
    const count = records.length / SECCOMP_DATA_SIZE;
    const inSlots = this.decideInSlots(records, count);
    if (inSlots) {
      out.set(inSlots);
      return out;
    }
    for (let done = 0; done < count; done += this.capacity) {
      const n = Math.min(this.capacity, count - done);
      this.recordSlots(n).set(records.subarray(done * SECCOMP_DATA_SIZE, (done + n) * SECCOMP_DATA_SIZE));
      out.set(this.decideSlots(n), done);
    }
    return out;
  }

  /**
   * The decisions of the first `count` records of `records`, if they are the
   * records recordSlots last handed out, as decideSlots gives them (a view
   * valid until the next call); undefined for records anywhere else.
   */
  decideInSlots(records: Uint8Array, count: number): Uint32Array | undefined {
    if (records.buffer !== this.exports.memory.buffer || records.byteOffset !== this.slots.at || count > this.slots.count) return undefined;
    return this.decideSlots(count);
  }

  /**
   * A view of wasm memory with room for `count` records: fill it, then call
   * `decideSlots(count)`, with no copy in between. Up to `capacity` records
   * go at the start of memory; more go from `heap_base`, with their decisions
   * after them, and memory grows to hold them (which leaves views made before
   * detached: take a new one).
   */
  recordSlots(count: number): Uint8Array {
    if (count <= this.capacity) this.slots = { at: 0, count: RECORD_CAPACITY, outputAt: OUTPUT_OFFSET };
    else {
      const at = this.exports.heap_base.value as number;
      this.slots = { at, count, outputAt: at + count * SECCOMP_DATA_SIZE };
      const needed = this.slots.outputAt + count * 4 - this.exports.memory.buffer.byteLength;
      if (needed > 0) this.exports.memory.grow(Math.ceil(needed / WASM_PAGE_SIZE));
    }
    return new Uint8Array(this.exports.memory.buffer, this.slots.at, count * SECCOMP_DATA_SIZE);
  }

  /** Decides the first `count` records of the last recordSlots; the result is a view valid until the next call. */
  decideSlots(count: number): Uint32Array {
    if (count > this.slots.count) throw new RangeError(`${count} records, in slots for ${this.slots.count}`);
    this.exports.decide_batch(this.slots.at, count, this.slots.outputAt);
    return new Uint32Array(this.exports.memory.buffer, this.slots.outputAt, count);
  }
}

/**
 * The value of every record of `batch` (in either byte order) with the module
 * `forOrder` gives for each byte order present: uniform batches in one pass
 * inside wasm, mixed ones record by record.
 */
export function decideBatchWith(forOrder: (byteOrder: ByteOrder) => CompiledFilter, batch: RecordBatch): Uint32Array {
  const out = new Uint32Array(batch.count);
  const byteOrder = batchByteOrder(batch);
  if (byteOrder) return forOrder(byteOrder).decideBatch(batch.bytes.subarray(0, batch.count * SECCOMP_DATA_SIZE), out);
  for (let i = 0; i < batch.count; i++) out[i] = forOrder(batch.bigEndian[i] ? 'be' : 'le').decide(recordBytes(batch, i));
  return out;
}

/** Decides batches in either byte order with the modules of one stack. */
export interface ModuleDecider {
  /**
   * The batch's decisions: for a batch read into recordSlots, a view of wasm
   * memory valid until the next call (a new array for each 1,024 records
   * kept two worker threads faulting in fresh memory); else an array of its
   * own.
   */
  decide(batch: RecordBatch): Uint32Array;
  /**
   * Room in wasm memory for `count` records of `byteOrder`
   * (CompiledFilter.recordSlots): a batch read there is decided where it
   * lies, without the copy decide() makes of a batch anywhere else.
   */
  recordSlots(byteOrder: ByteOrder, count: number): Uint8Array;
}

/**
 * Decides batches with modules compiled elsewhere (one per byte order),
 * instantiating each the first time records need it.
 */
export function moduleDecider(modules: Partial<Record<ByteOrder, WebAssembly.Module>>, filterCount: number): ModuleDecider {
  const instances = new Map<ByteOrder, CompiledFilter>();
  const forOrder = (byteOrder: ByteOrder): CompiledFilter => {
    let instance = instances.get(byteOrder);
    if (!instance) {
      const module = modules[byteOrder];
      if (!module) throw new Error(`no module for ${byteOrder} records`);
      instances.set(byteOrder, (instance = new CompiledFilter(new Uint8Array(), module, byteOrder, filterCount)));
    }
    return instance;
  };
  return {
    decide: (batch) => {
      const byteOrder = batchByteOrder(batch);
      return (byteOrder && instances.get(byteOrder)?.decideInSlots(batch.bytes, batch.count)) || decideBatchWith(forOrder, batch);
    },
    recordSlots: (byteOrder, count) => forOrder(byteOrder).recordSlots(count),
  };
}
