/**
 * A stack of filters on the interpreter: every filter runs on the record and
 * the kernel's precedence picks the result (see resolveStack).
 */
import { resolveStack } from '../src/seccomp/actions.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { recordByteOrder, recordBytes, type RecordBatch } from '../src/seccomp/records.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { interpret } from './interpret.js';

/** Each filter's value (installation order, oldest first) and the stack's result. */
export interface StackDecision {
  readonly values: number[];
  readonly value: number;
}

/** Runs every filter of `filters` (oldest first) on `record` and resolves their values. */
export function interpretStack(filters: readonly VerifiedProgram[], record: Uint8Array, byteOrder: ByteOrder): StackDecision {
  const values = filters.map((filter) => interpret(filter, record, byteOrder));
  return { values, value: resolveStack(values) };
}

/** The stack's value for every record of `batch`, each read in its own byte order. */
export function interpretBatch(filters: readonly VerifiedProgram[], batch: RecordBatch): Uint32Array {
  return Uint32Array.from({ length: batch.count }, (_, i) => interpretStack(filters, recordBytes(batch, i), recordByteOrder(batch, i)).value);
}
