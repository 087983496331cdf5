/**
 * The engines the fuzzer compares, behind one interface: the interpreter (the
 * reference) and the JIT. A test can plug in its own. (The kernel decides
 * records as it issued them, so it has a target of its own in differential.ts.)
 */
import { interpretStack } from '../../interp/stack.js';
import { decideRecords } from '../../jit/compiled.js';
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

/** The JIT, deciding the whole set in batches inside wasm. */
export const jitEngine: Engine = {
  name: 'jit',
  decide: (filters, records) => [...decideRecords(filters, packRecords(records))],
};
