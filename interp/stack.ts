/**
 * A stack of filters on the interpreter: every filter runs on the record and
 * the kernel's precedence picks the result (see resolveStack).
 */

import { InputError } from '../src/errors.js';
import { resolveStack } from '../src/seccomp/actions.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { checkRecordBatch } from '../src/seccomp/data.js';
import { type RecordBatch, recordByteOrder, recordBytes } from '../src/seccomp/records.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { interpret } from './interpret.js';

/** Each filter's value (installation order, oldest first) and the stack's result. */
export interface StackDecision {
  readonly values: number[];
  readonly value: number;
}

/** Throws unless `filters` holds a filter: a stack of none is no input to an engine (compile refuses it too). */
export function checkStack(filters: readonly VerifiedProgram[]): void {
  if (filters.length === 0) throw new InputError('empty-stack', 'a stack needs at least one filter');
}

/**
 * Runs every filter of `filters` (oldest first) on `record` and resolves their values.
 * @throws InputError `empty-stack` for no filters, `record-size` unless
 * `record` is exactly 64 bytes, `byte-order` unless `byteOrder` is 'le' or 'be'.
 */
export function interpretStack(filters: readonly VerifiedProgram[], record: Uint8Array, byteOrder: ByteOrder): StackDecision {
  checkStack(filters);
  const values = filters.map((filter) => interpret(filter, record, byteOrder));
  return { values, value: resolveStack(values) };
}

/**
 * The stack's value for every record of `batch`, each read in its own byte order.
 * @throws InputError `empty-stack` for no filters; `batch-size` or
 * `batch-count` for a batch whose bytes are not whole records or whose count
 * or byte orders disagree with them.
 */
export function interpretBatch(filters: readonly VerifiedProgram[], batch: RecordBatch): Uint32Array {
  checkStack(filters);
  checkRecordBatch(batch);
  return Uint32Array.from({ length: batch.count }, (_, i) => interpretStack(filters, recordBytes(batch, i), recordByteOrder(batch, i)).value);
}
