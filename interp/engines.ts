/**
 * The interpreter's engines: the reference interpreter itself, and the
 * decision tables (src/decision-table.ts) with the interpreter where they
 * cannot say, which `cbpf eval --engine auto` runs while the JIT compiles.
 */
import { archDecisions, type DecisionTable, decisionTable, NOT_CONSTANT, resumePoints } from '../src/decision-table.js';
import type { MakeEngine } from '../src/engine.js';
import { resolveStack } from '../src/seccomp/actions.js';
import { checkRecordBatch, SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { type RecordBatch, recordByteOrder, recordBytes } from '../src/seccomp/records.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { interpretFrom } from './interpret.js';
import { checkStack, interpretBatch, interpretStack } from './stack.js';

/** The reference interpreter: every filter runs on every record. */
export const interpreterEngine: MakeEngine = (filters) => ({ name: 'interp', decide: (batch) => interpretBatch(filters, batch) });

/** The table of an arch the decision tables leave out: every record runs the filters. */
const NO_VALUES: Uint32Array = new Uint32Array(0);

/**
 * The decision tables answer every record whose value needs only its arch and
 * nr; the interpreter decides the rest, from each filter's resume point past
 * the syscall dispatch where there is one. It is ready in milliseconds.
 * @throws InputError `empty-stack` for no filters.
 */
export const tableEngine: MakeEngine = (filters) => {
  checkStack(filters);
  const table = decisionTable(filters);
  return { name: 'table', decide: (batch) => decideWithTables(filters, table, batch) };
};

/** The value of record i, which the table cannot give: the filters run, from their resume points where there are some. */
function interpretRecord(filters: readonly VerifiedProgram[], table: DecisionTable, batch: RecordBatch, i: number, view: DataView): number {
  const record = recordBytes(batch, i);
  const byteOrder = recordByteOrder(batch, i);
  const at = i * SECCOMP_DATA_SIZE;
  const arch = view.getUint32(at + SECCOMP_DATA_ARCH, byteOrder === 'le');
  const nr = view.getUint32(at + SECCOMP_DATA_NR, byteOrder === 'le');
  const resume = resumePoints(archDecisions(table, arch), nr);
  if (!resume) return interpretStack(filters, record, byteOrder).value;
  return resolveStack(filters.map((filter, f) => interpretFrom(filter, record, byteOrder, resume[f]!)));
}

function decideWithTables(filters: readonly VerifiedProgram[], table: DecisionTable, batch: RecordBatch): Uint32Array {
  checkRecordBatch(batch);
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
  for (const i of misses) out[i] = interpretRecord(filters, table, batch, i, view);
  return out;
}
