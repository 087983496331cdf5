/**
 * What `cbpf eval` does with each piece of work, wherever it is decided (the
 * main thread or a worker): decide its records and make text lines, binary
 * values and summary counts of the decisions (the summary is in
 * eval-summary.ts).
 */
import { formatAction, hexValue } from '../seccomp/actions.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { HOST_BYTE_ORDER, type RecordBatch } from '../seccomp/records.js';
import type { DecisionFormat } from './args.js';
import { actionOf, syscallNames, type Summary } from './eval-summary.js';
import type { RecordPiece, RecordRange, RecordRangeReader, RecordSlots } from './record-stream.js';

/** A view of the whole batch, made once per batch: records are read on the hot path. */
const batchView = (batch: RecordBatch): DataView => new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);

/** The arch value and syscall number of record i, read through `view` (from batchView). */
function syscallOf(view: DataView, batch: RecordBatch, i: number): { arch: number; nr: number } {
  const at = i * SECCOMP_DATA_SIZE;
  const le = !batch.bigEndian[i];
  return { arch: view.getUint32(at + SECCOMP_DATA_ARCH, le), nr: view.getInt32(at + SECCOMP_DATA_NR, le) };
}

/** The lines for one batch; `first` is the index of its first record in the whole trace. */
export function decisionLines(values: Uint32Array, batch: RecordBatch, format: DecisionFormat, first: number): string {
  const lines: string[] = [];
  const view = batchView(batch);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (format === 'hex') lines.push(hexValue(v));
    else if (format === 'action') lines.push(actionOf(v));
    else {
      const { arch, nr } = syscallOf(view, batch, i);
      lines.push(JSON.stringify({ record: first + i, value: hexValue(v), action: formatAction(v) ?? null, ...syscallNames(arch, nr) }));
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** The decisions as little-endian u32s: the bytes of `values` itself where the host is little-endian. */
function binaryDecisions(values: Uint32Array): Uint8Array {
  if (HOST_BYTE_ORDER === 'le') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v, true));
  return bytes;
}

/** What the command wants made of the decisions: lines in a format, binary values, both or neither. */
export interface WantedOutput {
  readonly format: DecisionFormat | undefined;
  readonly binary: boolean;
}

/** The decisions of a piece of work, as the command wants them. */
export interface DecidedWork {
  readonly count: number;
  readonly lines?: string;
  readonly binary?: Uint8Array;
}

/** Records to decide: a batch in hand, or a range of a binary record file (read by whoever decides it). */
export type Work = { readonly first: number; readonly count: number } & ({ readonly batch: RecordBatch } | { readonly range: RecordRange });

/** What decides the records of a piece of work, and where it wants records read, if anywhere (the JIT's memory). */
export interface BatchEngine {
  decide(batch: RecordBatch): Uint32Array;
  readonly recordSlots?: RecordSlots;
}

/**
 * Decides the records of `work` and makes the wanted output of them; the
 * decisions are also counted in `summary`. A range is read with `reader` a
 * cache-sized piece at a time (into the engine's record slots, if it has
 * them), each piece decided before the next is read.
 */
export function decideWork(work: Work, reader: RecordRangeReader | undefined, engine: BatchEngine, wanted: WantedOutput, summary: Summary | undefined): DecidedWork {
  if (!('batch' in work) && !reader) throw new Error('a range of the record file, with no reader for it');
  const pieces: Iterable<RecordPiece> = 'batch' in work ? [{ batch: work.batch, first: work.first }] : reader!.pieces(work.range, engine.recordSlots);
  const lines: string[] = [];
  const values = wanted.binary ? new Uint32Array(work.count) : undefined;
  let done = 0;
  for (const { batch, first } of pieces) {
    const decided = engine.decide(batch);
    summary?.add(decided, batch, first);
    if (wanted.format) lines.push(decisionLines(decided, batch, wanted.format, first));
    values?.set(decided, done);
    done += batch.count;
  }
  return { count: done, ...(wanted.format ? { lines: lines.join('') } : {}), ...(values ? { binary: binaryDecisions(values) } : {}) };
}
