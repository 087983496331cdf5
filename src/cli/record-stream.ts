/**
 * Records from an input of any size, in batches of a bounded number of
 * records: 64-byte binary records (a partial record is carried from one chunk
 * to the next) or JSON lines. Memory stays bounded by the batch size.
 */
import { DecodeError, ParseError } from '../errors.js';
import type { ByteOrder } from '../seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { packRecords, parseRecordJson, type RecordBatch, type SeccompData } from '../seccomp/records.js';
import type { RecordFormat } from './args.js';

/** How many records a batch holds at most. */
export const BATCH_RECORDS = 16384;

/** Bad records met and skipped (with --skip-bad), and where the first one was. */
export interface SkippedRecords {
  count: number;
  first?: string;
}

/** Control bytes: binary records have them (the high bytes of small numbers), JSON lines never. */
const isBinary = (bytes: Uint8Array): boolean => bytes.some((b) => b < 0x09 || (b > 0x0d && b < 0x20));

async function* binaryBatches(chunks: AsyncIterable<Uint8Array>, byteOrder: ByteOrder, skipped: SkippedRecords | undefined): AsyncGenerator<RecordBatch> {
  const batchBytes = BATCH_RECORDS * SECCOMP_DATA_SIZE;
  let pending = new Uint8Array(batchBytes);
  let filled = 0;
  let seen = 0;
  const flush = (bytes: number): RecordBatch => {
    const count = bytes / SECCOMP_DATA_SIZE;
    const batch = { bytes: pending.subarray(0, bytes), count, bigEndian: new Uint8Array(count).fill(byteOrder === 'be' ? 1 : 0) };
    pending = new Uint8Array(batchBytes);
    seen += count;
    return batch;
  };
  for await (const chunk of chunks) {
    // A chunk of whole records in a buffer of its own becomes a batch as it is, without a copy.
    if (filled === 0 && chunk.length % SECCOMP_DATA_SIZE === 0 && chunk.length <= batchBytes && chunk.byteOffset === 0 && chunk.buffer.byteLength === chunk.length) {
      const count = chunk.length / SECCOMP_DATA_SIZE;
      seen += count;
      yield { bytes: chunk, count, bigEndian: new Uint8Array(count).fill(byteOrder === 'be' ? 1 : 0) };
      continue;
    }
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(batchBytes - filled, chunk.length - at);
      pending.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === batchBytes) {
        yield flush(batchBytes);
        filled = 0;
      }
    }
  }
  const whole = filled - (filled % SECCOMP_DATA_SIZE);
  const tail = filled - whole;
  if (whole > 0) yield flush(whole);
  if (tail === 0) return;
  const message = `record ${seen} is truncated: ${tail} of ${SECCOMP_DATA_SIZE} bytes`;
  if (!skipped) throw new DecodeError('record-length', message);
  skipped.count++;
  skipped.first ??= message;
}

async function* jsonBatches(chunks: AsyncIterable<Uint8Array>, skipped: SkippedRecords | undefined): AsyncGenerator<RecordBatch> {
  const decoder = new TextDecoder();
  let carry = '';
  let line = 0;
  let records: SeccompData[] = [];
  /** Parses one line; a bad one is counted (skipping) or returned, to be thrown once what came before is out. */
  const take = (text: string): ParseError | undefined => {
    line++;
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return undefined;
    try {
      records.push(parseRecordJson(trimmed, line));
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      if (!skipped) return error;
      skipped.count++;
      skipped.first ??= `line ${line}: ${error.detail}`;
    }
    return undefined;
  };
  const flush = function* (): Generator<RecordBatch> {
    if (records.length > 0) yield packRecords(records);
    records = [];
  };
  for await (const chunk of chunks) {
    const lines = (carry + decoder.decode(chunk, { stream: true })).split('\n');
    carry = lines.pop()!;
    for (const text of lines) {
      const bad = take(text);
      if (bad || records.length >= BATCH_RECORDS) yield* flush();
      if (bad) throw bad;
    }
  }
  carry += decoder.decode();
  const bad = carry === '' ? undefined : take(carry);
  yield* flush();
  if (bad) throw bad;
}

/**
 * Batches of records from `chunks`: binary in `byteOrder`, or JSON lines (each
 * record in its own arch's byte order); the format is told from the first
 * chunk unless given. A bad record stops the stream with its position, or,
 * with `skipped`, is counted there and passed over.
 */
export async function* recordBatches(
  chunks: AsyncIterable<Uint8Array>,
  format: RecordFormat | undefined,
  byteOrder: ByteOrder,
  skipped?: SkippedRecords,
): AsyncGenerator<RecordBatch> {
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => {
      let sentFirst = false;
      return { next: async () => (sentFirst ? iterator.next() : ((sentFirst = true), { done: false, value: first.value })) };
    },
  };
  const binary = format === undefined ? isBinary(first.value) : format === 'bin';
  yield* binary ? binaryBatches(rest, byteOrder, skipped) : jsonBatches(rest, skipped);
}
