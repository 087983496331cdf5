/**
 * A binary record file read in ranges, by whichever thread decides a range:
 * the main thread or a worker (which loads only this of the input code).
 */
import { readSync } from 'node:fs';
import { RECORD_CAPACITY } from '../jit/layout-abi.js';
import { DecodeError } from '../src/errors.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import type { RecordBatch } from '../src/seccomp/records.js';

/** A run of whole records of a binary file: `count` records from byte `offset`, the first being record `first`. */
export interface RecordRange {
  readonly first: number;
  readonly offset: number;
  readonly count: number;
}

/** Some records and the index of the first in the trace. */
export interface RecordPiece {
  readonly batch: RecordBatch;
  readonly first: number;
}

/**
 * Records read from a range at a time: as many as the JIT decides where they
 * lie (256 KiB), which stay in the CPU's L2 cache from the read to the
 * decision and the counting. Whole batches at once (1 MiB) went to memory and
 * back, and smaller pieces cost more read calls; both were slower
 * (docs/benchmarks.md).
 */
const PIECE_RECORDS = RECORD_CAPACITY;

/** Where to read `count` records in `byteOrder`: a buffer of exactly that many bytes, or undefined for the reader's own. */
export type RecordSlots = (byteOrder: ByteOrder, count: number) => Uint8Array | undefined;

/** Reads ranges of a binary record file in pieces, into one reused buffer: a piece is valid until the next read. */
export class RecordRangeReader {
  private readonly bytes = new Uint8Array(PIECE_RECORDS * SECCOMP_DATA_SIZE);
  private readonly bigEndian: Uint8Array;

  constructor(
    private readonly fd: number,
    private readonly byteOrder: ByteOrder,
  ) {
    this.bigEndian = new Uint8Array(PIECE_RECORDS).fill(byteOrder === 'be' ? 1 : 0);
  }

  /**
   * The records of `range`, a piece at a time, read into `slots` when given
   * (where the engine decides records without a copy: Engine.recordSlots).
   */
  *pieces(range: RecordRange, slots?: RecordSlots): Generator<RecordPiece> {
    for (let done = 0; done < range.count; done += PIECE_RECORDS) {
      const count = Math.min(PIECE_RECORDS, range.count - done);
      const into = slots?.(this.byteOrder, count) ?? this.bytes.subarray(0, count * SECCOMP_DATA_SIZE);
      yield { batch: this.read(into, range.offset + done * SECCOMP_DATA_SIZE, count, range.first + done), first: range.first + done };
    }
  }

  /** Fills `bytes` with `count` records from byte `offset`, the first being record `first`. */
  private read(bytes: Uint8Array, offset: number, count: number, first: number): RecordBatch {
    for (let done = 0; done < bytes.length; ) {
      const n = readSync(this.fd, bytes, done, bytes.length - done, offset + done);
      if (n === 0)
        throw new DecodeError(
          'record-length',
          `record ${first + Math.floor(done / SECCOMP_DATA_SIZE)}: the file ended early (did it shrink while being read?)`,
        );
      done += n;
    }
    return { bytes, count, bigEndian: this.bigEndian.subarray(0, count), byteOrder: this.byteOrder };
  }
}
