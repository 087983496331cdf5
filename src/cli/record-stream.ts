/**
 * Records from an input of any size, in batches of a bounded number of
 * records: 64-byte binary records (a partial record is carried from one chunk
 * to the next; a file on disk can also be read in ranges), JSON lines, or an
 * strace log. Memory stays bounded by the batch size.
 */
import { readSync } from 'node:fs';
import { RECORD_CAPACITY } from '../../jit/layout-abi.js';
import { DecodeError, ParseError } from '../errors.js';
import type { Arch, ByteOrder } from '../seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { readRecordJson, RecordBatchBuilder, type RecordBatch } from '../seccomp/records.js';
import { looksLikeStrace, StraceReader } from '../seccomp/strace.js';
import type { RecordFormat } from './args.js';

/** How many records a batch holds at most. */
export const BATCH_RECORDS = 16384;

/** Bad records met and skipped (with --skip-bad), and where the first one was. */
export interface SkippedRecords {
  count: number;
  first?: string;
}

/** Counts a bad record with `skipped`: how many, and which was first. */
function countSkipped(skipped: SkippedRecords, where: string): void {
  skipped.count++;
  skipped.first ??= where;
}

/**
 * The format of a trace from its first bytes: binary records have control
 * bytes (the high bytes of small numbers), text never; strace output starts
 * with a syscall or one of strace's notes, JSON lines do not.
 */
export function detectRecordFormat(head: Uint8Array): RecordFormat {
  if (head.some((b) => b < 0x09 || (b > 0x0d && b < 0x20))) return 'bin';
  const firstLine = new TextDecoder().decode(head).split('\n').find((line) => line.trim() !== '') ?? '';
  return looksLikeStrace(firstLine) ? 'strace' : 'jsonl';
}

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
  if (whole > 0) yield flush(whole);
  truncatedRecord(seen, filled - whole, skipped);
}

/** A binary trace ends with `tail` bytes of record `index`: none is fine, any other number is a bad record. */
function truncatedRecord(index: number, tail: number, skipped: SkippedRecords | undefined): void {
  if (tail === 0) return;
  const message = `record ${index} is truncated: ${tail} of ${SECCOMP_DATA_SIZE} bytes`;
  if (!skipped) throw new DecodeError('record-length', message);
  countSkipped(skipped, message);
}

/** A run of whole records of a binary file: `count` records from byte `offset`, the first being record `first`. */
export interface RecordRange {
  readonly first: number;
  readonly offset: number;
  readonly count: number;
}

/**
 * The records of a binary file of `size` bytes, as ranges for readers that
 * read the file themselves (RecordRangeReader), each of at most
 * `rangeRecords()` records, asked as it is made; a truncated last record is
 * reported after the last range, as for a stream.
 */
export function* recordRanges(size: number, rangeRecords: () => number, skipped: SkippedRecords | undefined): Generator<RecordRange> {
  const whole = Math.floor(size / SECCOMP_DATA_SIZE);
  for (let first = 0; first < whole; ) {
    const count = Math.min(rangeRecords(), whole - first);
    yield { first, offset: first * SECCOMP_DATA_SIZE, count };
    first += count;
  }
  truncatedRecord(whole, size % SECCOMP_DATA_SIZE, skipped);
}

/** Some records and the index of the first in the trace. */
export interface RecordPiece {
  readonly batch: RecordBatch;
  readonly first: number;
}

/**
 * Records read from a range at a time: as many as the JIT decides where they
 * lie (256 KiB), which stay in the CPU's 1 MiB L2 cache from the read to the
 * decision and the counting. Reading whole batches at once (1 MiB) went to
 * memory and back, and two threads doing so shared its bandwidth. With
 * pieces of 1,024 records (a read call per 64 KiB), the 1 GiB summary took
 * 0.514 s (median of five) on one thread and 0.372 s on two, against 0.475 s
 * and 0.345 s with these.
 */
const PIECE_RECORDS = RECORD_CAPACITY;

/** Where to read `count` records in `byteOrder`: a buffer of exactly that many bytes, or undefined for the reader's own. */
export type RecordSlots = (byteOrder: ByteOrder, count: number) => Uint8Array | undefined;

/** Reads ranges of a binary record file in pieces, into one reused buffer: a piece is valid until the next read. */
export class RecordRangeReader {
  private readonly bytes = new Uint8Array(PIECE_RECORDS * SECCOMP_DATA_SIZE);
  private readonly bigEndian: Uint8Array;

  constructor(private readonly fd: number, private readonly byteOrder: ByteOrder) {
    this.bigEndian = new Uint8Array(PIECE_RECORDS).fill(byteOrder === 'be' ? 1 : 0);
  }

  /**
   * The records of `range`, a piece at a time, read into `slots` when given
   * (where the engine decides records without a copy: ModuleDecider.recordSlots).
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
      if (n === 0) throw new DecodeError('record-length', `record ${first + Math.floor(done / SECCOMP_DATA_SIZE)}: the file ended early (did it shrink while being read?)`);
      done += n;
    }
    return { bytes, count, bigEndian: this.bigEndian.subarray(0, count) };
  }
}

/** The lines of a text input a chunk at a time, with the number of the first (from 1): one await per chunk, not per line. */
async function* linesOf(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<{ lines: string[]; firstNumber: number }> {
  const decoder = new TextDecoder();
  let carry = '';
  let number = 1;
  for await (const chunk of chunks) {
    const lines = (carry + decoder.decode(chunk, { stream: true })).split('\n');
    carry = lines.pop()!;
    yield { lines, firstNumber: number };
    number += lines.length;
  }
  carry += decoder.decode();
  if (carry !== '') yield { lines: [carry], firstNumber: number };
}

/** Whole lines of JSON lines text, as UTF-8 in a buffer of their own (it can move to a worker thread), and the number of the first (from 1). */
export interface JsonPiece {
  readonly bytes: Uint8Array;
  readonly firstLine: number;
}

/** A bad line of a piece: its number, and what is wrong with it. */
export interface BadLine {
  readonly line: number;
  readonly detail: string;
}

/** The records of a piece of JSON lines, and its bad lines. */
export interface ParsedJsonPiece {
  readonly batch: RecordBatch;
  readonly bad: BadLine[];
}

/**
 * A piece of JSON lines is cut at this many bytes or BATCH_RECORDS lines,
 * whichever comes first: about 10 ms of reading (3 µs a line here), so that
 * worker threads share the reading.
 */
const JSON_PIECE_BYTES = 256 << 10;
const LINE_BREAK = 0x0a;

/**
 * JSON lines text in pieces of whole lines (the last may lack its line
 * break), however `chunks` cut it: each piece is cut at the first line break
 * from JSON_PIECE_BYTES in, or at its BATCH_RECORDS-th line.
 */
async function* jsonPieces(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<JsonPiece> {
  /** The bytes since the last cut, but for those of the chunk at hand. */
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  /** Line breaks since the last cut. */
  let lines = 0;
  let firstLine = 1;
  /** The piece of the bytes held and `tail`, in a buffer of its own; the next starts afresh. */
  const cut = (tail: Uint8Array): JsonPiece => {
    const bytes = new Uint8Array(heldBytes + tail.length);
    let at = 0;
    for (const part of [...held, tail]) {
      bytes.set(part, at);
      at += part.length;
    }
    const piece = { bytes, firstLine };
    firstLine += lines;
    [held, heldBytes, lines] = [[], 0, 0];
    return piece;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(LINE_BREAK); end !== -1; end = chunk.indexOf(LINE_BREAK, end + 1)) {
      lines++;
      if (lines === BATCH_RECORDS || heldBytes + end + 1 - start >= JSON_PIECE_BYTES) {
        yield cut(chunk.subarray(start, end + 1));
        start = end + 1;
      }
    }
    if (start < chunk.length) {
      held.push(chunk.subarray(start));
      heldBytes += chunk.length - start;
    }
  }
  if (heldBytes > 0) yield cut(new Uint8Array(0));
}

/**
 * The records of a piece of JSON lines (in a worker thread or the main one):
 * every good line's, with the bad lines noted, or, unless `skipping`, those
 * before the first bad line, which ends the piece.
 */
export function readJsonPiece(piece: JsonPiece, skipping: boolean): ParsedJsonPiece {
  const lines = new TextDecoder().decode(piece.bytes).split('\n');
  if (lines.at(-1) === '') lines.pop(); // after the last line break
  const into = new RecordBatchBuilder(lines.length);
  const bad: BadLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = piece.firstLine + i;
    try {
      const text = lines[i]!.trim();
      if (text !== '' && !text.startsWith('#')) readRecordJson(text, line, into);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      bad.push({ line, detail: error.detail });
      if (!skipping) break;
    }
  }
  return { batch: into.take(), bad };
}

/** Reads a piece of JSON lines on a worker thread, if one has room: its promise, else undefined (it is read here). */
export type JsonPieceReader = (piece: JsonPiece, skipping: boolean) => Promise<ParsedJsonPiece> | undefined;

/** Pieces read elsewhere or here, held for order at most: those out on worker threads, and a few read here meanwhile. */
const JSON_PIECES_HELD = 16;

/**
 * Batches of the records of JSON lines, a piece at a time, each read on a
 * worker thread by `readElsewhere` or else here, in input order. A bad line is
 * counted (with `skipped`) or thrown, once the records before it are out.
 */
async function* jsonBatches(chunks: AsyncIterable<Uint8Array>, readElsewhere: JsonPieceReader | undefined, skipped: SkippedRecords | undefined): AsyncGenerator<RecordBatch> {
  const held: { parsed?: ParsedJsonPiece; readonly result: Promise<ParsedJsonPiece> }[] = [];
  function* settle(parsed: ParsedJsonPiece): Generator<RecordBatch> {
    const [firstBad] = parsed.bad;
    if (firstBad && !skipped) {
      if (parsed.batch.count > 0) yield parsed.batch; // the records before it, all the piece holds
      throw new ParseError('bad-record', firstBad.detail, firstBad.line, 0);
    }
    for (const { line, detail } of parsed.bad) countSkipped(skipped!, `line ${line}: ${detail}`);
    if (parsed.batch.count > 0) yield parsed.batch;
  }
  for await (const piece of jsonPieces(chunks)) {
    // Worker threads' answers come in with the event loop: without a turn here, this thread read piece after piece while they waited.
    if (readElsewhere) await new Promise((resolve) => setImmediate(resolve));
    const elsewhere = readElsewhere?.(piece, skipped !== undefined);
    if (elsewhere) {
      const entry: (typeof held)[number] = { result: elsewhere };
      elsewhere.then((parsed) => (entry.parsed = parsed)).catch(() => {}); // a failure is awaited in order below
      held.push(entry);
    } else {
      const parsed = readJsonPiece(piece, skipped !== undefined);
      held.push({ parsed, result: Promise.resolve(parsed) });
    }
    while (held[0]?.parsed || held.length > JSON_PIECES_HELD) yield* settle(await held.shift()!.result);
  }
  while (held.length > 0) yield* settle(await held.shift()!.result);
}

/** Lines of strace output that were not syscalls (signals, exits, strace's messages). */
export interface StraceNotes {
  notSyscalls: number;
}

/**
 * Batches of the records of an strace log's lines, then of the calls still
 * unfinished at its end. A bad line is counted (with `skipped`) or thrown,
 * once the records before it are out.
 */
async function* straceBatches(chunks: AsyncIterable<Uint8Array>, arch: Arch, skipped: SkippedRecords | undefined, notes: StraceNotes | undefined): AsyncGenerator<RecordBatch> {
  const reader = new StraceReader(arch);
  const builder = new RecordBatchBuilder(BATCH_RECORDS);
  /** Counts a bad record with `skipped`, or returns it to be thrown. */
  const bad = (error: unknown): ParseError | undefined => {
    if (!(error instanceof ParseError)) throw error;
    if (!skipped) return error;
    countSkipped(skipped, `line ${error.line}: ${error.detail}`);
    return undefined;
  };
  /** Yields the batch once it is full, or, before `stop` is thrown, what it holds (called only then: not a generator a line). */
  function* settle(stop: ParseError | undefined): Generator<RecordBatch> {
    if (builder.full || (stop && builder.count > 0)) yield builder.take();
    if (stop) throw stop;
  }
  for await (const { lines, firstNumber } of linesOf(chunks)) {
    for (let i = 0; i < lines.length; i++) {
      let stop: ParseError | undefined;
      try {
        reader.line(lines[i]!, firstNumber + i, builder);
      } catch (error) {
        stop = bad(error);
      }
      if (stop || builder.full) yield* settle(stop);
    }
  }
  for (let more = true; more; ) {
    let stop: ParseError | undefined;
    try {
      more = reader.endNext(builder);
    } catch (error) {
      stop = bad(error); // that call is dropped; the next goes on
    }
    if (stop || builder.full) yield* settle(stop);
  }
  if (builder.count > 0) yield builder.take();
  if (notes) notes.notSyscalls += reader.notSyscalls;
}

/** How recordBatches reads its input. */
export interface RecordStreamOptions {
  /** The input's format; told from its first chunk when undefined. */
  readonly format: RecordFormat | undefined;
  /** The byte order of binary records. */
  readonly byteOrder: ByteOrder;
  /** The arch of strace logs' syscalls (but for processes that change personality). */
  readonly arch: Arch;
  /** Where bad records are counted and passed over; without it, the first stops the stream. */
  readonly skipped?: SkippedRecords;
  /** Where an strace log's lines that are not syscalls are counted. */
  readonly straceNotes?: StraceNotes;
  /** Reads pieces of JSON lines on worker threads (when they have room); without it, all are read here. */
  readonly readJsonElsewhere?: JsonPieceReader;
}

/** Bytes of a stream's start read at most to tell its format, when its first line is longer. */
const HEAD_BYTES = 4096;

/**
 * Batches of records from `chunks`: binary in `byteOrder`, JSON lines (each
 * record in its own arch's byte order), or an strace log. A bad record stops
 * the stream with its position, or, with `skipped`, is counted there and
 * passed over.
 */
export async function* recordBatches(chunks: AsyncIterable<Uint8Array>, options: RecordStreamOptions): AsyncGenerator<RecordBatch> {
  const iterator = chunks[Symbol.asyncIterator]();
  // The input's start, to its first line break (or HEAD_BYTES of it): enough to tell its format, however it is cut into chunks.
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (options.format === undefined && headBytes < HEAD_BYTES && !head.some((chunk) => chunk.includes(LINE_BREAK))) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    headBytes += next.value.length;
  }
  const rest = (async function* (): AsyncGenerator<Uint8Array> {
    yield* head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
  const format = options.format ?? detectRecordFormat(Buffer.concat(head));
  if (format === 'bin') yield* binaryBatches(rest, options.byteOrder, options.skipped);
  else if (format === 'jsonl') yield* jsonBatches(rest, options.readJsonElsewhere, options.skipped);
  else yield* straceBatches(rest, options.arch, options.skipped, options.straceNotes);
}
