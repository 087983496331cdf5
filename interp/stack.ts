/**
 * A stack of filters on the interpreter: every filter runs on the record and
 * the kernel's precedence picks the result (see resolveStack).
 */
import { resolveStack } from '../src/seccomp/actions.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
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
