/**
 * The engines the fuzzer compares, behind one interface: the interpreter (the
 * reference), the decision tables (eval's first tier) and the JIT. A test can
 * plug in its own. (The kernel decides records as it issued them, so it has a
 * target of its own in differential.ts.)
 */
import { interpretStack } from '../../interp/stack.js';
import { compile, decideRecords } from '../../jit/compiled.js';
import { tableTier } from '../cli/eval-table-tier.js';
import { byteOrderOfAuditArch, encodeSeccompData, packRecords, type SeccompData } from '../seccomp/records.js';
import type { VerifiedProgram } from '../verifier.js';

/** Decides records through a stack; undefined where it cannot say (a record the kernel never saw). */
export interface Engine {
  readonly name: string;
  decide(filters: readonly VerifiedProgram[], records: readonly SeccompData[]): (number | undefined)[];
}

/** The reference interpreter, each record in its own arch's byte order. */
export const interpreterEngine: Engine = {
  name: 'interp',
  decide: (filters, records) => records.map((r) => interpretStack(filters, encodeSeccompData(r), byteOrderOfAuditArch(r.arch)).value),
};

/**
 * The first tier of `cbpf eval`: the stack's decision tables, and where they
 * cannot say, the interpreter from each filter's resume point (so both the
 * table values and the resume points are checked).
 */
export const tableEngine: Engine = {
  name: 'table',
  decide: (filters, records) => [...tableTier(filters)(packRecords(records))],
};

/**
 * The same module bytes, run with nothing but plain WebAssembly and the ABI the
 * README documents (memory, decide_batch): what a standalone .wasm user gets.
 */
function decideStandalone(filters: readonly VerifiedProgram[], records: readonly SeccompData[]): number[] {
  const out: number[] = [];
  records.forEach((record, i) => {
    const byteOrder = byteOrderOfAuditArch(record.arch);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(compile(filters, { byteOrder }).wasm), {});
    const { memory, decide_batch } = instance.exports as { memory: WebAssembly.Memory; decide_batch: (input: number, count: number, output: number) => void };
    new Uint8Array(memory.buffer, 0, 64).set(encodeSeccompData(record, byteOrder));
    decide_batch(0, 1, 64);
    out[i] = new DataView(memory.buffer).getUint32(64, true);
  });
  return out;
}

/**
 * The JIT, deciding the set in batches inside wasm, cross-checked with
 * the standalone module for the first records; a difference between the two
 * is thrown, so the fuzzer reports and shrinks it.
 */
export const jitEngine: Engine = {
  name: 'jit',
  decide: (filters, records) => {
    // Each byte order's records as one batch, so that decide_batch runs them one after another (a batch of both orders goes a record at a time).
    const batch: number[] = [];
    for (const order of ['le', 'be'] as const) {
      const indices = records.flatMap((record, i) => (byteOrderOfAuditArch(record.arch) === order ? [i] : []));
      const values = decideRecords(filters, packRecords(indices.map((i) => records[i]!)));
      indices.forEach((i, j) => {
        batch[i] = values[j]!;
      });
    }
    const checked = records.slice(0, 4);
    decideStandalone(filters, checked).forEach((value, i) => {
      if (value !== batch[i]) throw new Error(`the standalone module says ${value} for record ${i}, the JIT's batch API ${batch[i]}`);
    });
    return batch;
  },
};
