/**
 * Compiled filters: instantiation, decisions one at a time or in batches
 * (the loop runs inside wasm), and an in-process cache keyed by the programs'
 * bytes, so the same stack is never compiled twice.
 */
import { encodeRaw } from '../src/codecs/raw.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { recordBytes, type RecordBatch } from '../src/seccomp/records.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { buildModule, DEFAULT_OPTIMIZE, OUTPUT_OFFSET, RECORD_CAPACITY, type OptimizeSettings } from './module.js';

interface Exports {
  readonly memory: WebAssembly.Memory;
  readonly decide: (record: number) => number;
  readonly decide_batch: (input: number, count: number, output: number) => void;
  readonly [filter: `filter_${number}`]: (record: number) => number;
}

/** Options of `compile`. */
export interface CompileOptions {
  /** The byte order of the records this filter will read (default 'le'). */
  readonly byteOrder?: ByteOrder;
  readonly optimize?: OptimizeSettings;
}

/** A stack of verified filters compiled to WebAssembly and instantiated. */
export class CompiledFilter {
  /** How many records `recordSlots` can hold at once. */
  readonly capacity = RECORD_CAPACITY;
  private readonly exports: Exports;

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
   * The stack's value for each of the 64-byte records in `records`, decided in
   * chunks of `capacity` inside wasm, written to `out` (allocated if absent).
   */
  decideBatch(records: Uint8Array, out: Uint32Array = new Uint32Array(records.length / SECCOMP_DATA_SIZE)): Uint32Array {
    const count = records.length / SECCOMP_DATA_SIZE;
    for (let done = 0; done < count; done += this.capacity) {
      const n = Math.min(this.capacity, count - done);
      this.recordSlots(n).set(records.subarray(done * SECCOMP_DATA_SIZE, (done + n) * SECCOMP_DATA_SIZE));
      out.set(this.decideSlots(n), done);
    }
    return out;
  }

  /**
   * A view of wasm memory with room for `count` (at most `capacity`) records:
   * fill it, then call `decideSlots(count)`, with no copy in between.
   */
  recordSlots(count: number): Uint8Array {
    if (count > this.capacity) throw new RangeError(`at most ${this.capacity} records at a time, asked for ${count}`);
    return new Uint8Array(this.exports.memory.buffer, 0, count * SECCOMP_DATA_SIZE);
  }

  /** Decides the first `count` records in `recordSlots`; the result is a view valid until the next call. */
  decideSlots(count: number): Uint32Array {
    this.exports.decide_batch(0, count, OUTPUT_OFFSET);
    return new Uint32Array(this.exports.memory.buffer, OUTPUT_OFFSET, count);
  }
}

const cache = new Map<string, CompiledFilter>();

function cacheKey(filters: readonly VerifiedProgram[], options: CompileOptions): string {
  const optimize = options.optimize ?? DEFAULT_OPTIMIZE;
  const programs = filters.map((f) => Buffer.from(encodeRaw(f.instructions)).toString('base64')).join(',');
  return `${options.byteOrder ?? 'le'}|${optimize.level}.${optimize.shrink}|${programs}`;
}

/**
 * Compiles a verified filter, or a stack of them (installation order, oldest
 * first), to WebAssembly. The same stack with the same options comes from an
 * in-process cache after the first time.
 */
export function compile(filters: VerifiedProgram | readonly VerifiedProgram[], options: CompileOptions = {}): CompiledFilter {
  const stack = Array.isArray(filters) ? (filters as readonly VerifiedProgram[]) : [filters as VerifiedProgram];
  if (stack.length === 0) throw new RangeError('compile needs at least one filter');
  const key = cacheKey(stack, options);
  const cached = cache.get(key);
  if (cached) return cached;
  const { binary } = buildModule(stack, options.byteOrder ?? 'le', { optimize: options.optimize ?? DEFAULT_OPTIMIZE });
  const compiled = new CompiledFilter(binary, new WebAssembly.Module(binary), options.byteOrder ?? 'le', stack.length);
  cache.set(key, compiled);
  return compiled;
}

/**
 * The stack's value for every record of `batch`, whose records may be in
 * either byte order (JSON-line traces can mix arches): one compiled module
 * per byte order present, each deciding its records in batches.
 */
export function decideRecords(filters: readonly VerifiedProgram[], batch: RecordBatch, options: Omit<CompileOptions, 'byteOrder'> = {}): Uint32Array {
  const out = new Uint32Array(batch.count);
  const mixed = batch.bigEndian.some((b) => b !== batch.bigEndian[0]);
  if (!mixed) {
    const byteOrder: ByteOrder = batch.bigEndian[0] ? 'be' : 'le';
    return compile(filters, { ...options, byteOrder }).decideBatch(batch.bytes.subarray(0, batch.count * SECCOMP_DATA_SIZE), out);
  }
  for (const byteOrder of ['le', 'be'] as const) {
    const compiled = compile(filters, { ...options, byteOrder });
    for (let i = 0; i < batch.count; i++) {
      if ((batch.bigEndian[i] ? 'be' : 'le') === byteOrder) out[i] = compiled.decide(recordBytes(batch, i));
    }
  }
  return out;
}
