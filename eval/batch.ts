/**
 * What `cbpf eval` does with each piece of work, wherever it is decided (the
 * main thread or a worker): decide its records and make text lines, binary
 * values and summary counts of the decisions (the lines are made in
 * lines.ts, the summary's counts in summary-counts.ts).
 */
import { decideCounting, type Engine } from '../src/engine.js';
import { HOST_BYTE_ORDER, type RecordBatch } from '../src/seccomp/records.js';
import type { DecisionLines } from './lines.js';
import type { DecisionFormat } from './options.js';
import type { RecordPiece, RecordRange, RecordRangeReader } from './record-file.js';
import type { SummaryCounts } from './summary-counts.js';

/** The decisions as little-endian u32s: the bytes of `values` itself where the host is little-endian. */
function binaryDecisions(values: Uint32Array): Uint8Array {
  if (HOST_BYTE_ORDER === 'le') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    view.setUint32(i * 4, v, true);
  });
  return bytes;
}

/** What the command wants made of the decisions: lines in a format, binary values, both or neither. */
export interface WantedOutput {
  readonly format: DecisionFormat | undefined;
  readonly binary: boolean;
}

/**
 * How a thread makes the wanted output: `lines` makes the lines of a piece
 * of `count` decisions (lines.ts, which a thread loads only when lines are
 * wanted: it brings syscall names).
 */
export interface OutputMaker {
  readonly lines?: (count: number) => DecisionLines;
  readonly binary: boolean;
}

/** The decisions of a piece of work, as the command wants them. */
export interface DecidedWork {
  readonly count: number;
  /** The lines, as UTF-8. */
  readonly lines?: Uint8Array;
  readonly binary?: Uint8Array;
}

/** Records to decide: a batch in hand, or a range of a binary record file (read by whoever decides it). */
export type Work = { readonly first: number; readonly count: number } & ({ readonly batch: RecordBatch } | { readonly range: RecordRange });

/**
 * Decides the records of `work` and makes the wanted output of them; the
 * decisions are also counted in `summary`. A range is read with `reader` a
 * cache-sized piece at a time (into the engine's record slots, if it has
 * them), each piece decided before the next is read.
 */
export function decideWork(
  work: Work,
  reader: RecordRangeReader | undefined,
  engine: Engine,
  output: OutputMaker,
  summary: SummaryCounts | undefined,
): DecidedWork {
  if (!('batch' in work) && !reader) throw new Error('a range of the record file, with no reader for it');
  const pieces: Iterable<RecordPiece> =
    'batch' in work ? [{ batch: work.batch, first: work.first }] : reader!.pieces(work.range, (byteOrder, count) => engine.recordSlots?.(byteOrder, count));
  const lines = output.lines?.(work.count);
  const values = output.binary ? new Uint32Array(work.count) : undefined;
  let done = 0;
  for (const { batch, first } of pieces) {
    // With a summary, engines that count do so inside; the interpreter's records are counted here one by one.
    const decided = summary ? decideCounting(engine, batch, (i, value) => summary.countOne(batch, i, value, first)) : engine.decide(batch);
    lines?.add(decided, batch, first);
    values?.set(decided, done);
    done += batch.count;
  }
  return { count: done, ...(lines ? { lines: lines.text() } : {}), ...(values ? { binary: binaryDecisions(values) } : {}) };
}
