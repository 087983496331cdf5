/**
 * The one shape of an engine: it decides batches of records through one stack
 * of verified filters, with the kernel's precedence (docs/semantics.md). The
 * interpreter and the decision tables (interp/engines.ts), the JIT and the
 * standalone module (jit/engines.ts) implement it; the evaluator, the fuzzer,
 * `kernel-check`, the conformance corpus and `bench` take engines from the
 * one list in eval/engines.ts.
 */
import type { ByteOrder } from './seccomp/arches.js';
import type { RecordBatch } from './seccomp/records.js';
import type { VerifiedProgram } from './verifier.js';

/** The engines cbpf has, in the order reports list them (eval/engines.ts has what each is). */
export const ENGINE_NAMES = ['interp', 'table', 'jit', 'standalone'] as const;
/** One of ENGINE_NAMES. */
export type EngineName = (typeof ENGINE_NAMES)[number];

/** Decides records through the stack it was made for. */
export interface Engine {
  /** Which engine this is, as reports name it. */
  readonly name: string;
  /**
   * The stack's value for every record of `batch` (records in either byte
   * order). The array may be a view of the engine's memory, valid until the
   * next call.
   * @throws InputError for a batch that disagrees with itself (checkRecordBatch).
   */
  decide(batch: RecordBatch): Uint32Array;
  /**
   * Room in the engine's own memory for `count` records of `byteOrder`: a
   * batch read there is decided where it lies, without a copy. Engines
   * without such memory leave this out, or return undefined while they have none.
   */
  recordSlots?(byteOrder: ByteOrder, count: number): Uint8Array | undefined;
}

/** Makes an engine for a stack of verified filters (installation order, oldest first). */
export type MakeEngine = (filters: readonly VerifiedProgram[]) => Engine;
