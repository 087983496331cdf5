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
  /**
   * Decides as decide() does and counts the decisions by arch, syscall
   * number and value where it can, without leaving its own code (what
   * `--summary` counts): every record it does not count goes to `uncounted`,
   * in order. Engines that cannot count leave this and takeCounts out.
   */
  decideCounting?(batch: RecordBatch, uncounted: Uncounted): Uint32Array;
  /** The records decideCounting counted since the last call. */
  takeCounts?(): SyscallCount[];
}

/**
 * Given each record an engine decided but did not count (decideCounting),
 * with its index in the batch and its value; returns whether the engine may
 * count the records of that record's arch and syscall number decided that
 * value from now on.
 */
export type Uncounted = (index: number, value: number) => boolean;

/** Records counted inside an engine: of one arch value and syscall number, decided one value. */
export type SyscallCount = readonly [arch: number, nr: number, value: number, records: number];

/** Decides `batch` with engine.decideCounting where the engine has it, else with decide(), every record going to `uncounted`. */
export function decideCounting(engine: Engine, batch: RecordBatch, uncounted: Uncounted): Uint32Array {
  if (engine.decideCounting) return engine.decideCounting(batch, uncounted);
  const values = engine.decide(batch);
  values.forEach((value, i) => void uncounted(i, value));
  return values;
}

/** Makes an engine for a stack of verified filters (installation order, oldest first). */
export type MakeEngine = (filters: readonly VerifiedProgram[]) => Engine;
