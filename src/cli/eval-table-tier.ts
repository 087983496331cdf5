/**
 * The first tier of `cbpf eval --engine auto`: the stack's decision tables
 * (src/decision-table.ts) answer every record whose value needs only its arch
 * and nr, and the interpreter decides the rest, from each filter's resume
 * point past the syscall dispatch where there is one. It is ready in
 * milliseconds, and runs while the JIT compiles.
 */
import { interpretFrom } from '../../interp/interpret.js';
import { interpretStack } from '../../interp/stack.js';
import { archDecisions, decisionTable, NOT_CONSTANT, resumePoints } from '../decision-table.js';
import { resolveStack } from '../seccomp/actions.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { type RecordBatch, recordByteOrder, recordBytes } from '../seccomp/records.js';
import type { VerifiedProgram } from '../verifier.js';

/** The table of an arch the decision tables leave out: every record runs the filters. */
const NO_VALUES: Uint32Array = new Uint32Array(0);

/** Decides batches through `filters` with their decision tables first, then the interpreter. */
export function tableTier(filters: readonly VerifiedProgram[]): (batch: RecordBatch) => Uint32Array {
  const table = decisionTable(filters);
  /** The value of record i, which the table cannot give: the filters run, from their resume points where there are some. */
  const run = (batch: RecordBatch, i: number, view: DataView): number => {
    const record = recordBytes(batch, i);
    const byteOrder = recordByteOrder(batch, i);
    const at = i * SECCOMP_DATA_SIZE;
    const arch = view.getUint32(at + SECCOMP_DATA_ARCH, byteOrder === 'le');
    const nr = view.getUint32(at + SECCOMP_DATA_NR, byteOrder === 'le');
    const resume = resumePoints(archDecisions(table, arch), nr);
    if (!resume) return interpretStack(filters, record, byteOrder).value;
    return resolveStack(filters.map((filter, f) => interpretFrom(filter, record, byteOrder, resume[f]!)));
  };
  return (batch) => {
    const out = new Uint32Array(batch.count);
    const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    const misses: number[] = [];
    // lookupDecision, with the arch's table looked up once per run of records of one arch, and
    // inline, in a loop that does nothing else: this way it takes about half the time.
    let arch = -1;
    let values = NO_VALUES;
    let firstNr = 0;
    for (let i = 0; i < batch.count; i++) {
      const at = i * SECCOMP_DATA_SIZE;
      const littleEndian = batch.bigEndian[i] === 0;
      const recordArch = view.getUint32(at + SECCOMP_DATA_ARCH, littleEndian);
      if (recordArch !== arch) {
        arch = recordArch;
        const entry = archDecisions(table, arch);
        values = entry?.values ?? NO_VALUES;
        firstNr = entry?.firstNr ?? 0;
      }
      const index = view.getUint32(at + SECCOMP_DATA_NR, littleEndian) - firstNr;
      const value = index >= 0 && index < values.length ? values[index]! : NOT_CONSTANT;
      out[i] = value;
      if (value === NOT_CONSTANT) misses.push(i);
    }
    for (const i of misses) out[i] = run(batch, i, view);
    return out;
  };
}
