/**
 * The layout of `struct seccomp_data`, the 64 bytes a seccomp filter reads:
 * `nr` (s32 at 0), `arch` (u32 at 4), `instruction_pointer` (u64 at 8) and
 * `args[0..5]` (u64 at 16 + 8i), every field in the target's byte order.
 *
 * Also the checks every library entry point makes of the records, batches,
 * byte orders and field values it is given: each throws InputError, so that
 * nothing is ever decided from bytes the caller did not pass.
 */
import { InputError } from '../errors.js';
import type { ByteOrder } from './arches.js';
import type { RecordBatch, SeccompData } from './records.js';

/** `sizeof(struct seccomp_data)`; also what `LD W LEN` loads. */
export const SECCOMP_DATA_SIZE = 64;
/** Offset of `nr`. */
export const SECCOMP_DATA_NR = 0;
/** Offset of `arch`. */
export const SECCOMP_DATA_ARCH = 4;
/** Offset of `instruction_pointer`. */
export const SECCOMP_DATA_IP = 8;
/** Offset of `args[0]`; `args[i]` is at this plus 8i. */
export const SECCOMP_DATA_ARGS = 16;

/**
 * `offsetof(struct seccomp_data, field)` for `nr`, `arch`,
 * `instruction_pointer` and `args[i]` (i in 0..5), or undefined.
 */
export function fieldOffset(field: string): number | undefined {
  if (field === 'nr') return SECCOMP_DATA_NR;
  if (field === 'arch') return SECCOMP_DATA_ARCH;
  if (field === 'instruction_pointer') return SECCOMP_DATA_IP;
  const arg = /^args\[([0-5])\]$/.exec(field);
  return arg ? SECCOMP_DATA_ARGS + 8 * Number(arg[1]) : undefined;
}

/**
 * Offset of the low (`lo`) or high (`hi`) 32-bit half of the u64 at `offset`.
 * @throws InputError `byte-order` unless `byteOrder` is 'le' or 'be'.
 */
export function halfOffset(offset: number, half: 'lo' | 'hi', byteOrder: ByteOrder): number {
  return offset + ((half === 'hi') === littleEndian(byteOrder) ? 4 : 0);
}

/** A 32-bit word with its bytes in the other order, as a signed 32-bit integer (`>>> 0` for unsigned). */
export const byteSwap32 = (word: number): number => ((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24);

/**
 * The 32-bit word at `at` of `bytes` as a signed integer, little-endian when
 * `le`, else big-endian: byte reads, no view to make. For per-record paths:
 * V8 keeps a signed word in a register, where it makes a double of a u32
 * above 2^31, as audit values are (decide(), docs/benchmarks.md).
 */
export function int32At(bytes: Uint8Array, at: number, le: boolean): number {
  return le
    ? bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)
    : (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

/** The u32 at `at` of `bytes`, little-endian when `le`, else big-endian. */
export function wordAt(bytes: Uint8Array, at: number, le: boolean): number {
  return int32At(bytes, at, le) >>> 0;
}

/**
 * The name of the aligned 32-bit word at `offset`, as bpf_asm sugar writes it:
 * `nr`, `arch`, `instruction_pointer.lo`, `args[2].hi`; undefined elsewhere.
 * @throws InputError `byte-order` unless `byteOrder` is 'le' or 'be'.
 */
export function wordName(offset: number, byteOrder: ByteOrder): string | undefined {
  littleEndian(byteOrder);
  if (offset === SECCOMP_DATA_NR) return 'nr';
  if (offset === SECCOMP_DATA_ARCH) return 'arch';
  if (offset % 4 !== 0 || offset < SECCOMP_DATA_IP || offset >= SECCOMP_DATA_SIZE) return undefined;
  const base = offset - (offset % 8);
  const field = base === SECCOMP_DATA_IP ? 'instruction_pointer' : `args[${(base - SECCOMP_DATA_ARGS) / 8}]`;
  return `${field}.${halfOffset(base, 'lo', byteOrder) === offset ? 'lo' : 'hi'}`;
}

/**
 * Whether `byteOrder` is little-endian: true for 'le', false for 'be'.
 * @throws InputError `byte-order` for anything else (a JavaScript caller's
 * 'LE' or undefined would otherwise read every record big-endian).
 */
export function littleEndian(byteOrder: ByteOrder): boolean {
  if (byteOrder === 'le') return true;
  if (byteOrder === 'be') return false;
  throw new InputError('byte-order', `byte order ${JSON.stringify(byteOrder)} is neither 'le' nor 'be'`);
}

/**
 * Checks that `record` is one whole `seccomp_data`: exactly 64 bytes. A
 * length comparison and nothing else, so it costs nothing on a hot path.
 * @throws InputError `record-size` for any other length.
 */
export function checkRecord(record: Uint8Array): void {
  if (record.length !== SECCOMP_DATA_SIZE) throw new InputError('record-size', `a seccomp_data record is ${SECCOMP_DATA_SIZE} bytes, got ${record.length}`);
}

/**
 * Checks that `bytes` is a whole number of 64-byte records (0 included), so
 * that no trailing partial record is dropped unseen.
 * @throws InputError `batch-size` otherwise.
 */
export function checkRecordBytes(bytes: Uint8Array): void {
  if (bytes.length % SECCOMP_DATA_SIZE !== 0) {
    throw new InputError(
      'batch-size',
      `${bytes.length} bytes are not whole ${SECCOMP_DATA_SIZE}-byte records: ${Math.floor(bytes.length / SECCOMP_DATA_SIZE)} and ${bytes.length % SECCOMP_DATA_SIZE} bytes over`,
    );
  }
}

/**
 * Checks that `batch` agrees with itself: its bytes are whole records, and
 * its `count` is exactly how many, and how many byte orders it gives. Work
 * that does not depend on the size of the batch.
 * @throws InputError `batch-size` when the bytes are not whole records,
 * `batch-count` when `count` is not a non-negative integer or disagrees with
 * the bytes or with `bigEndian`.
 */
export function checkRecordBatch(batch: RecordBatch): void {
  const { bytes, count, bigEndian } = batch;
  checkRecordBytes(bytes);
  if (!Number.isInteger(count) || count < 0) throw new InputError('batch-count', `a batch's count must be a non-negative integer, got ${count}`);
  if (bytes.length !== count * SECCOMP_DATA_SIZE)
    throw new InputError('batch-count', `a batch of ${count} records has ${bytes.length / SECCOMP_DATA_SIZE} records' bytes`);
  if (bigEndian.length !== count) throw new InputError('batch-count', `a batch of ${count} records has ${bigEndian.length} byte orders`);
  if (batch.byteOrder !== undefined && count > 0 && bigEndian[0] !== (batch.byteOrder === 'be' ? 1 : 0))
    throw new InputError('byte-order', `a batch said to hold only '${batch.byteOrder}' records, whose first is not`);
}

/**
 * Checks that `i` is the index of a record of `batch`.
 * @throws InputError `record-index` otherwise.
 */
export function checkRecordIndex(batch: RecordBatch, i: number): void {
  if (!(Number.isInteger(i) && i >= 0 && i < batch.count)) throw new InputError('record-index', `record ${i} of a batch of ${batch.count}`);
}

const U32_MAX = 0xffffffff;
const U64_MAX = 0xffffffffffffffffn;

function checkU64(value: unknown, what: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX)
    throw new InputError('field-range', `${what} must be a bigint in 0..2^64-1, got ${String(value)}`);
}

/**
 * Checks that every field of `data` fits its place in `struct seccomp_data`,
 * which DataView would otherwise wrap or cut without a word: `nr` an integer
 * in -2^31..2^32-1 (either spelling of its 32 bits), `arch` one in 0..2^32-1,
 * `instructionPointer` and each argument a bigint in 0..2^64-1. Up to six
 * arguments; the missing ones are 0.
 * @throws InputError `field-range` for a field out of range or of the wrong
 * type, `arg-count` for more than six arguments.
 */
export function checkSeccompData(data: SeccompData): void {
  if (!Number.isInteger(data.nr) || data.nr < -0x80000000 || data.nr > U32_MAX)
    throw new InputError('field-range', `nr must be an integer in -2^31..2^32-1, got ${data.nr}`);
  if (!Number.isInteger(data.arch) || data.arch < 0 || data.arch > U32_MAX)
    throw new InputError('field-range', `arch must be an integer in 0..2^32-1, got ${data.arch}`);
  checkU64(data.instructionPointer, 'instructionPointer');
  if (!Array.isArray(data.args) || data.args.length > 6)
    throw new InputError('arg-count', `a syscall has at most 6 arguments, got ${Array.isArray(data.args) ? data.args.length : String(data.args)}`);
  for (let i = 0; i < data.args.length; i++) checkU64(data.args[i], `args[${i}]`);
}
