/**
 * The first tier of `cbpf eval --engine auto`: the stack's decision tables
 * (src/decision-table.ts) answer every record whose value needs only its arch
 * and nr, and the interpreter decides the rest. It is ready in milliseconds,
 * and runs while the JIT compiles.
 */
import { interpretStack } from '../../interp/stack.js';
import { decisionTable, lookupDecision, NOT_CONSTANT } from '../decision-table.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { recordByteOrder, recordBytes, type RecordBatch } from '../seccomp/records.js';
import type { VerifiedProgram } from '../verifier.js';

/** Decides batches through `filters` with their decision tables first, then the interpreter. */
export function tableTier(filters: readonly VerifiedProgram[]): (batch: RecordBatch) => Uint32Array {
  const table = decisionTable(filters);
  return (batch) => {
    const out = new Uint32Array(batch.count);
    const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    for (let i = 0; i < batch.count; i++) {
      const at = i * SECCOMP_DATA_SIZE;
      const littleEndian = batch.bigEndian[i] === 0;
      const value = lookupDecision(table, view.getUint32(at + SECCOMP_DATA_ARCH, littleEndian), view.getUint32(at + SECCOMP_DATA_NR, littleEndian));
      out[i] = value !== NOT_CONSTANT ? value : interpretStack(filters, recordBytes(batch, i), recordByteOrder(batch, i)).value;
    }
    return out;
  };
}
