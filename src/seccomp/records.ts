/**
 * `seccomp_data` records: the 64 bytes a filter reads, as objects and as
 * batches of 64-byte records (binary streams, or built a record at a time).
 * Records as JSON lines are in record-json.ts: what reads no text (a worker
 * thread deciding a record file) loads no text code or syscall names.
 */
import { DecodeError, InputError } from '../errors.js';
import { AUDIT_ARCH_LE, type ByteOrder } from './arches.js';
import {
  checkRecordBytes,
  checkRecordIndex,
  checkSeccompData,
  littleEndian,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_ARGS,
  SECCOMP_DATA_IP,
  SECCOMP_DATA_NR,
  SECCOMP_DATA_SIZE,
} from './data.js';

/** One `struct seccomp_data`. */
export interface SeccompData {
  /** The syscall number, a signed 32-bit value. */
  readonly nr: number;
  /** The `AUDIT_ARCH_*` value, unsigned. */
  readonly arch: number;
  readonly instructionPointer: bigint;
  /** Six unsigned 64-bit arguments. */
  readonly args: readonly bigint[];
}

/** The byte order a record of `arch` is in: little-endian when its `__AUDIT_ARCH_LE` bit is set. */
export function byteOrderOfAuditArch(arch: number): ByteOrder {
  return arch & AUDIT_ARCH_LE ? 'le' : 'be';
}

/**
 * Writes `data` into 64 bytes at `view`'s `offset`, in `byteOrder`.
 * @throws InputError `field-range` or `arg-count` for a field that does not
 * fit (see checkSeccompData), `byte-order`, or `record-offset` when the 64
 * bytes at `offset` are not all in `view`.
 */
export function writeSeccompData(view: DataView, offset: number, data: SeccompData, byteOrder: ByteOrder): void {
  checkSeccompData(data);
  const le = littleEndian(byteOrder);
  if (!(Number.isInteger(offset) && offset >= 0 && offset + SECCOMP_DATA_SIZE <= view.byteLength)) {
    throw new InputError('record-offset', `no room for a ${SECCOMP_DATA_SIZE}-byte record at offset ${offset} of ${view.byteLength} bytes`);
  }
  view.setInt32(offset + SECCOMP_DATA_NR, data.nr, le);
  view.setUint32(offset + SECCOMP_DATA_ARCH, data.arch, le);
  view.setBigUint64(offset + SECCOMP_DATA_IP, data.instructionPointer, le);
  for (let i = 0; i < 6; i++) view.setBigUint64(offset + SECCOMP_DATA_ARGS + 8 * i, data.args[i] ?? 0n, le);
}

/**
 * `data` as 64 bytes in `byteOrder` (by default its arch's).
 * @throws InputError `field-range` or `arg-count` for a field that does not
 * fit (see checkSeccompData), `byte-order` for an unknown byte order.
 */
export function encodeSeccompData(data: SeccompData, byteOrder: ByteOrder = byteOrderOfAuditArch(data.arch)): Uint8Array {
  const bytes = new Uint8Array(SECCOMP_DATA_SIZE);
  writeSeccompData(new DataView(bytes.buffer), 0, data, byteOrder);
  return bytes;
}

/**
 * Reads the 64-byte record at `offset` of `bytes` (whole records, one or
 * more) in `byteOrder`.
 * @throws InputError `batch-size` when `bytes` is not whole records,
 * `record-offset` when `offset` is not the start of one of them, `byte-order`.
 */
export function decodeSeccompData(bytes: Uint8Array, byteOrder: ByteOrder, offset = 0): SeccompData {
  checkRecordBytes(bytes);
  if (!(Number.isInteger(offset) && offset >= 0 && offset % SECCOMP_DATA_SIZE === 0 && offset < bytes.length)) {
    throw new InputError('record-offset', `offset ${offset} is not the start of one of the ${bytes.length / SECCOMP_DATA_SIZE} records`);
  }
  const le = littleEndian(byteOrder);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, SECCOMP_DATA_SIZE);
  return {
    nr: view.getInt32(SECCOMP_DATA_NR, le),
    arch: view.getUint32(SECCOMP_DATA_ARCH, le),
    instructionPointer: view.getBigUint64(SECCOMP_DATA_IP, le),
    args: Array.from({ length: 6 }, (_, i) => view.getBigUint64(SECCOMP_DATA_ARGS + 8 * i, le)),
  };
}

/**
 * Records packed for evaluation: `count` 64-byte records back to back in
 * `bytes`, record i in byte order `bigEndian[i] ? 'be' : 'le'`.
 */
export interface RecordBatch {
  readonly bytes: Uint8Array;
  readonly count: number;
  readonly bigEndian: Uint8Array;
  /**
   * Set when every record is in this byte order, as a binary file's or
   * stream's are (bigEndian then says so for each): engines take it rather
   * than look through bigEndian, a scan per batch on the hot path.
   */
  readonly byteOrder?: ByteOrder;
}

/** The byte order of this machine's typed arrays (little-endian on x86 and most ARM). */
export const HOST_BYTE_ORDER: ByteOrder = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? 'le' : 'be';

/**
 * The byte order of record `i` of `batch`.
 * @throws InputError `record-index` when `i` is not a record of `batch`.
 */
export function recordByteOrder(batch: RecordBatch, i: number): ByteOrder {
  checkRecordIndex(batch, i);
  return batch.bigEndian[i] ? 'be' : 'le';
}

/** The byte order every record of `batch` is in, or undefined when they mix (JSON lines of several arches). */
export function batchByteOrder(batch: RecordBatch): ByteOrder | undefined {
  if (batch.byteOrder !== undefined) return batch.byteOrder;
  const first = batch.bigEndian[0]!;
  const other = batch.bigEndian.indexOf(first ^ 1); // native indexOf: a JS loop here slowed a summary (docs/benchmarks.md)
  return other !== -1 && other < batch.count ? undefined : first ? 'be' : 'le';
}

/**
 * Record `i` of `batch`, as a view of its 64 bytes.
 * @throws InputError `record-index` when `i` is not a record of `batch`.
 */
export function recordBytes(batch: RecordBatch, i: number): Uint8Array {
  checkRecordIndex(batch, i);
  return batch.bytes.subarray(i * SECCOMP_DATA_SIZE, (i + 1) * SECCOMP_DATA_SIZE);
}

/**
 * A binary stream of 64-byte records, all in `byteOrder`.
 * @throws DecodeError `record-length` unless the stream is whole records;
 * InputError `byte-order` for an unknown byte order.
 */
export function readRecordStream(bytes: Uint8Array, byteOrder: ByteOrder): RecordBatch {
  littleEndian(byteOrder);
  if (bytes.length % SECCOMP_DATA_SIZE !== 0) {
    const whole = Math.floor(bytes.length / SECCOMP_DATA_SIZE);
    throw new DecodeError(
      'record-length',
      `record stream is ${bytes.length} bytes: ${whole} whole records and a truncated last one of ${bytes.length % SECCOMP_DATA_SIZE} bytes`,
    );
  }
  return uniformBatch(bytes, byteOrder);
}

/** A batch of the whole records in `bytes`, every one in `byteOrder`. */
export function uniformBatch(bytes: Uint8Array, byteOrder: ByteOrder): RecordBatch {
  const count = bytes.length / SECCOMP_DATA_SIZE;
  return { bytes, count, bigEndian: new Uint8Array(count).fill(byteOrder === 'be' ? 1 : 0), byteOrder };
}

/**
 * A batch of records built one at a time, each in its own arch's byte order.
 * A record starts with its arch and nr, its ip and arguments 0; a 64-bit
 * value is set from its 32-bit halves, so a reader of text makes no BigInt
 * (BigInts made of strace's arguments were a large part of reading a line:
 * docs/benchmarks.md).
 */
export class RecordBatchBuilder {
  /** The batch's memory, made (zeroed) when its first record starts. */
  private bytes = new Uint8Array();
  private view = new DataView(this.bytes.buffer);
  private bigEndian = new Uint8Array();
  /** Records in the batch so far. */
  count = 0;
  /** Where the record started last is, and whether it is little-endian. */
  private at = 0;
  private le = true;

  constructor(private readonly capacity: number) {}

  /** Whether the batch holds `capacity` records: take() it before adding more. */
  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Starts the next record, of `arch` and syscall `nr`. */
  start(arch: number, nr: number): void {
    this.next(arch);
    this.view.setInt32(this.at + SECCOMP_DATA_NR, nr, this.le);
    this.view.setUint32(this.at + SECCOMP_DATA_ARCH, arch, this.le);
  }

  /** Sets the 64-bit value at byte `field` of the record started last (SECCOMP_DATA_IP, or an argument's) from its halves. */
  setHalves(field: number, low: number, high: number): void {
    const at = this.at + field;
    this.view.setUint32(this.le ? at : at + 4, low, this.le);
    this.view.setUint32(this.le ? at + 4 : at, high, this.le);
  }

  /** Adds a whole record. */
  add(data: SeccompData): void {
    this.next(data.arch);
    writeSeccompData(this.view, this.at, data, this.le ? 'le' : 'be');
  }

  /** Adds records `from` to `to` of `batch`, as many as there is room for: how many. */
  append(batch: RecordBatch, from: number, to: number): number {
    const count = Math.min(to - from, this.capacity - this.count);
    if (count <= 0) return 0;
    if (this.count === 0) this.renew();
    this.bytes.set(batch.bytes.subarray(from * SECCOMP_DATA_SIZE, (from + count) * SECCOMP_DATA_SIZE), this.count * SECCOMP_DATA_SIZE);
    this.bigEndian.set(batch.bigEndian.subarray(from, from + count), this.count);
    this.count += count;
    return count;
  }

  /** Makes the next record the current one, in the byte order of `arch`; its bytes are all 0. */
  private next(arch: number): void {
    if (this.full) throw new RangeError(`a batch of ${this.capacity} records is full`);
    if (this.count === 0) this.renew();
    this.at = this.count * SECCOMP_DATA_SIZE;
    this.le = byteOrderOfAuditArch(arch) === 'le';
    this.bigEndian[this.count++] = this.le ? 0 : 1;
  }

  /** Makes the memory of a new batch (zeroed): the one taken last keeps its own. */
  private renew(): void {
    this.bytes = new Uint8Array(this.capacity * SECCOMP_DATA_SIZE);
    this.view = new DataView(this.bytes.buffer);
    this.bigEndian = new Uint8Array(this.capacity);
  }

  /** The records added since the last take(), as a batch of their own; the builder starts afresh. */
  take(): RecordBatch {
    const batch = { bytes: this.bytes.subarray(0, this.count * SECCOMP_DATA_SIZE), count: this.count, bigEndian: this.bigEndian.subarray(0, this.count) };
    this.count = 0;
    return batch;
  }
}

/** Packs records, each in its own arch's byte order. */
export function packRecords(records: readonly SeccompData[]): RecordBatch {
  const builder = new RecordBatchBuilder(records.length);
  for (const record of records) builder.add(record);
  return builder.take();
}
