/**
 * Compiling filters: build, instantiate (instance.ts), and an in-process cache
 * keyed by the programs' bytes, so the same stack is never compiled twice.
 */
import { encodeRaw } from '../src/codecs/raw.js';
import type { MakeEngine } from '../src/engine.js';
import { InputError } from '../src/errors.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { checkRecordBatch, littleEndian } from '../src/seccomp/data.js';
import { type RecordBatch, recordByteOrder, recordBytes } from '../src/seccomp/records.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { CompiledFilter, decideBatchWith, instanceEngine } from './instance.js';
import { buildModule, DEFAULT_OPTIMIZE, type OptimizeSettings } from './module.js';

export { CompiledFilter };

/** Options of `compile`. */
export interface CompileOptions {
  /** The byte order of the records this filter will read (default 'le'). */
  readonly byteOrder?: ByteOrder;
  readonly optimize?: OptimizeSettings;
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
 * @throws InputError `empty-stack` for a stack of no filters, `byte-order`
 * unless `options.byteOrder` is 'le', 'be' or absent.
 */
export function compile(filters: VerifiedProgram | readonly VerifiedProgram[], options: CompileOptions = {}): CompiledFilter {
  const stack = Array.isArray(filters) ? (filters as readonly VerifiedProgram[]) : [filters as VerifiedProgram];
  if (stack.length === 0) throw new InputError('empty-stack', 'compile needs at least one filter');
  const byteOrder = options.byteOrder ?? 'le';
  littleEndian(byteOrder);
  const key = cacheKey(stack, options);
  const cached = cache.get(key);
  if (cached) return cached;
  const { binary } = buildModule(stack, byteOrder, { optimize: options.optimize ?? DEFAULT_OPTIMIZE });
  const compiled = new CompiledFilter(binary, new WebAssembly.Module(binary), byteOrder, stack.length);
  cache.set(key, compiled);
  return compiled;
}

/**
 * The stack's value for every record of `batch`, whose records may be in
 * either byte order (JSON-line traces can mix arches): one compiled module
 * per byte order present, each deciding its records in batches.
 * @throws InputError `batch-size` or `batch-count` for a batch whose bytes
 * are not whole records or whose count or byte orders disagree with them,
 * `empty-stack` for no filters.
 */
export function decideRecords(filters: readonly VerifiedProgram[], batch: RecordBatch, options: Omit<CompileOptions, 'byteOrder'> = {}): Uint32Array {
  if (filters.length === 0) throw new InputError('empty-stack', 'decideRecords needs at least one filter');
  return decideBatchWith((byteOrder) => compile(filters, { ...options, byteOrder }), batch);
}

/**
 * The JIT as an engine for `filters`, compiling in this thread the module of
 * each byte order its records need (from the in-process cache after the first time).
 * @throws InputError `empty-stack` for no filters.
 */
export const jitEngine: MakeEngine = (filters) => {
  if (filters.length === 0) throw new InputError('empty-stack', 'the JIT needs at least one filter');
  return instanceEngine((byteOrder) => compile(filters, { byteOrder }));
};

/**
 * CompiledFilter.decide() as an engine, a record at a time: the path a
 * library user deciding syscalls one by one takes (tables, then the filters
 * lowered to JavaScript), for the fuzzer and the conformance corpus.
 * @throws InputError `empty-stack` for no filters.
 */
export const decideEngine: MakeEngine = (filters) => {
  if (filters.length === 0) throw new InputError('empty-stack', 'decide needs at least one filter');
  // Compiled once per byte order, not looked up in the cache by the programs' bytes for every record.
  const compiled: Partial<Record<ByteOrder, CompiledFilter>> = {};
  const forOrder = (byteOrder: ByteOrder): CompiledFilter => (compiled[byteOrder] ??= compile(filters, { byteOrder }));
  return {
    name: 'jit decide',
    decide: (batch) => {
      checkRecordBatch(batch);
      return Uint32Array.from({ length: batch.count }, (_, i) => forOrder(recordByteOrder(batch, i)).decide(recordBytes(batch, i)));
    },
  };
};
