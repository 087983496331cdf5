/**
 * Records from an input of any size, in batches of a bounded number of
 * records: 64-byte binary records (a partial record is carried from one chunk
 * to the next; a file on disk can also be cut into ranges, which record-file.ts
 * reads), JSON lines, or an strace log. Memory stays bounded by the batch size.
 */
import { readSync } from 'node:fs';
import { DecodeError, ParseError } from '../src/errors.js';
import { type Arch, archByName, type ByteOrder } from '../src/seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { JsonLinesReader, type LeftLine, type LineReader } from '../src/seccomp/record-json.js';
import { type RecordBatch, RecordBatchBuilder, uniformBatch } from '../src/seccomp/records.js';
import { looksLikeStrace, type StraceContext, StraceReader } from '../src/seccomp/strace.js';
import type { RecordFormat } from './options.js';
import type { RecordRange } from './record-file.js';

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

/** Bytes of a trace's start read at most to tell its format. */
const HEAD_BYTES = 4096;
const LINE_BREAK = 0x0a;

/**
 * Where the part of a trace that tells its format ends in `start`: at the
 * first line break past the first 64 bytes (a binary record's worth: a real
 * record has control bytes in them), else at HEAD_BYTES; undefined when
 * `start` is too short to say (more must be read, unless it is all there is).
 * A rule on bytes, so a file and a pipe of it, however they are cut into
 * chunks, are told the same.
 */
function headEnd(start: Uint8Array): number | undefined {
  const lineBreak = start.indexOf(LINE_BREAK, SECCOMP_DATA_SIZE);
  if (lineBreak !== -1 && lineBreak < HEAD_BYTES) return lineBreak + 1;
  return start.length >= HEAD_BYTES ? HEAD_BYTES : undefined;
}

/**
 * The format of a trace from its start (at least what headEnd needs, or the
 * whole trace): binary records have control bytes (the high bytes of small
 * numbers), text never; strace output starts with a syscall or one of
 * strace's notes, JSON lines do not. Lines end with "\n" or "\r\n" alike.
 */
export function detectRecordFormat(start: Uint8Array): RecordFormat {
  const head = start.subarray(0, headEnd(start) ?? start.length);
  if (head.some((b) => b < 0x09 || (b > 0x0d && b < 0x20))) return 'bin';
  const firstLine =
    new TextDecoder()
      .decode(head)
      .split('\n')
      .find((line) => line.trim() !== '') ?? '';
  return looksLikeStrace(firstLine) ? 'strace' : 'jsonl';
}

/**
 * Reads `iterator` until its chunks hold the part of the trace that tells its
 * format (headEnd), or end; returns those chunks, whole.
 */
export async function readHead(iterator: AsyncIterator<Uint8Array>): Promise<Uint8Array[]> {
  const head: Uint8Array[] = [];
  for (;;) {
    const next = await iterator.next();
    if (next.done) return head;
    head.push(next.value);
    if (headEnd(Buffer.concat(head)) !== undefined) return head;
  }
}

/**
 * The format of the file open as `fd`, from its first HEAD_BYTES (all headEnd
 * ever needs), read at once: a stream's chunks wait on the event loop, which
 * cost a run's start more than the read itself.
 */
export function detectFileFormat(fd: number): RecordFormat {
  const head = new Uint8Array(HEAD_BYTES);
  let filled = 0;
  while (filled < head.length) {
    const read = readSync(fd, head, filled, head.length - filled, filled);
    if (read === 0) break;
    filled += read;
  }
  return detectRecordFormat(head.subarray(0, filled));
}

async function* binaryBatches(chunks: AsyncIterable<Uint8Array>, byteOrder: ByteOrder, skipped: SkippedRecords | undefined): AsyncGenerator<RecordBatch> {
  const batchBytes = BATCH_RECORDS * SECCOMP_DATA_SIZE;
  let pending = new Uint8Array(batchBytes);
  let filled = 0;
  let seen = 0;
  const flush = (bytes: number): RecordBatch => {
    const batch = uniformBatch(pending.subarray(0, bytes), byteOrder);
    pending = new Uint8Array(batchBytes);
    seen += batch.count;
    return batch;
  };
  for await (const chunk of chunks) {
    // A chunk of whole records in a buffer of its own becomes a batch as it is, without a copy.
    if (
      filled === 0 &&
      chunk.length % SECCOMP_DATA_SIZE === 0 &&
      chunk.length <= batchBytes &&
      chunk.byteOffset === 0 &&
      chunk.buffer.byteLength === chunk.length
    ) {
      const batch = uniformBatch(chunk, byteOrder);
      seen += batch.count;
      yield batch;
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

/**
 * A piece of lines is cut at the first line break from this many bytes in:
 * a few milliseconds of reading, small enough that worker threads share the
 * reading, large enough that a message per piece costs nothing.
 */
const LINE_PIECE_BYTES = 256 << 10;

/**
 * Text in pieces of whole lines (the last may lack its line break), however
 * `chunks` cut it, each in a buffer of its own (it can go to a worker
 * thread): a piece is cut at the first line break from `pieceBytes` in. The
 * lines are numbered when the pieces are read in order: looking for each
 * line break here cost the main thread a noticeable share of reading an
 * strace log (docs/benchmarks.md).
 */
async function* linePieces(chunks: AsyncIterable<Uint8Array>, pieceBytes: number): AsyncGenerator<Uint8Array> {
  /** The bytes since the last cut, but for those of the chunk at hand. */
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  /** The piece of the bytes held and `tail`; the next starts afresh. */
  const cut = (tail: Uint8Array): Uint8Array => {
    const piece = new Uint8Array(heldBytes + tail.length);
    let at = 0;
    for (const part of [...held, tail]) {
      piece.set(part, at);
      at += part.length;
    }
    [held, heldBytes] = [[], 0];
    return piece;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (
      let end = chunk.indexOf(LINE_BREAK, Math.max(start, start + pieceBytes - heldBytes - 1));
      end !== -1;
      end = chunk.indexOf(LINE_BREAK, start + pieceBytes - 1)
    ) {
      yield cut(chunk.subarray(start, end + 1));
      start = end + 1;
    }
    if (start < chunk.length) {
      held.push(chunk.subarray(start));
      heldBytes += chunk.length - start;
    }
  }
  if (heldBytes > 0) yield cut(new Uint8Array(0));
}

/** The lines of a piece. */
function pieceLines(piece: Uint8Array): string[] {
  const lines = new TextDecoder().decode(piece).split('\n');
  if (lines.at(-1) === '') lines.pop(); // after the last line break
  return lines;
}

/**
 * How a piece of lines is read alone (LineReader.readAlone): as JSON lines,
 * those without an arch of `arch` (a name; x86_64 when not given), or as
 * strace lines after those that gave `strace`.
 */
export type LineContext = { readonly format: 'jsonl'; readonly arch?: string } | { readonly format: 'strace'; readonly strace: StraceContext };

/** A piece of lines (linePieces) to read into records, and how. */
export interface LineTask {
  readonly piece: Uint8Array;
  readonly context: LineContext;
}

/** What a piece of lines read alone gives: the records it could read, the lines it left, how many lines it has, and how many were no syscall. */
export interface PieceRecords {
  readonly batch: RecordBatch;
  readonly left: LeftLine[];
  readonly lines: number;
  readonly notSyscalls: number;
}

/**
 * Reads a piece of lines alone (in a worker thread or the main one): every
 * line it can, the others left (see LineReader.readAlone). The lines are
 * numbered in the trace only when those left are read in order.
 */
export function readLinePiece({ piece, context }: LineTask): PieceRecords {
  const reader: LineReader = context.format === 'jsonl' ? new JsonLinesReader(archByName(context.arch ?? 'x86_64')) : StraceReader.after(context.strace);
  const lines = pieceLines(piece);
  const into = new RecordBatchBuilder(lines.length);
  const left = reader.readAlone(lines, into);
  return { batch: into.take(), left, lines: lines.length, notSyscalls: reader.notSyscalls };
}

/** Reads a piece of lines on a worker thread, if one has room: its promise, else undefined. */
export type LinePieceReader = (task: LineTask) => Promise<PieceRecords> | undefined;

/** Pieces read alone and held for order at most: those out on worker threads, and a few read here meanwhile. */
const LINE_PIECES_HELD = 16;

/** The main thread's reader of a text trace's lines, what it tells readers of pieces, and when what it told them changes. */
interface TraceLines {
  readonly reader: LineReader;
  context(): LineContext;
  /** Changes whenever context() would: a piece read alone before no longer holds. */
  version(): number;
}

function traceLines(format: 'jsonl' | 'strace', arch: Arch): TraceLines {
  if (format === 'jsonl') return { reader: new JsonLinesReader(arch), context: () => ({ format, arch: arch.name }), version: () => 0 };
  const reader = new StraceReader(arch);
  return { reader, context: () => ({ format, strace: reader.context() }), version: () => reader.personalityLines };
}

/** A piece read alone, held until those before it are in: the version of the trace's lines it was read with (TraceLines), and its records once there. */
interface HeldPiece {
  readonly piece: Uint8Array;
  readonly version: number;
  read?: PieceRecords;
  readonly result: Promise<PieceRecords>;
}

/** Lines of strace output that were not syscalls (signals, exits, strace's messages). */
export interface StraceNotes {
  notSyscalls: number;
}

/**
 * Batches of the records of a text trace, in input order, then of those
 * owed at its end (strace's calls still unfinished). A piece of lines is read
 * here with all the lines before it when nothing is held for order; else it
 * is read alone (see readLinePiece), on a worker thread by `readElsewhere` or
 * here, and the lines it leaves are read here once the pieces before it are
 * in. A bad line is counted (with `skipped`) or thrown, once the records
 * before it are out.
 */
async function* lineBatches(chunks: AsyncIterable<Uint8Array>, lines: TraceLines, options: RecordStreamOptions): AsyncGenerator<RecordBatch> {
  const { readLinesElsewhere: readElsewhere, skipped, straceNotes: notes } = options;
  const { reader } = lines;
  const builder = new RecordBatchBuilder(BATCH_RECORDS);
  /** A bad line's error: counted with `skipped`, or returned to be thrown. */
  const bad = (error: unknown): ParseError | undefined => {
    if (!(error instanceof ParseError)) throw error;
    if (!skipped) return error;
    countSkipped(skipped, `line ${error.line}: ${error.detail}`);
    return undefined;
  };
  /** Reads a line with all those before it; a bad one as bad() says. */
  const readLine = (text: string, number: number): ParseError | undefined => {
    try {
      reader.line(text, number, builder);
      return undefined;
    } catch (error) {
      return bad(error);
    }
  };
  /** Yields the batch once it is full, or, before `stop` is thrown, what it holds (called only then: not a generator a line). */
  function* settle(stop: ParseError | undefined): Generator<RecordBatch> {
    if (builder.full || (stop && builder.count > 0)) yield builder.take();
    if (stop) throw stop;
  }
  /** The number of the next piece's first line. */
  let firstLine = 1;
  /** Reads a piece here, a line at a time with all those before it. */
  function* readPiece(piece: Uint8Array): Generator<RecordBatch> {
    const texts = pieceLines(piece);
    for (let i = 0; i < texts.length; i++) {
      const stop = readLine(texts[i]!, firstLine + i);
      if (stop || builder.full) yield* settle(stop);
    }
    firstLine += texts.length;
  }
  /** Records `from` to `to` of a piece read alone: the piece's own batch when it is all of it, of a batch's size, and nothing is before it in the builder. */
  function* copy(batch: RecordBatch, from: number, to: number): Generator<RecordBatch> {
    if (builder.count === 0 && from === 0 && to === batch.count && to <= BATCH_RECORDS) {
      if (to > 0) yield batch;
      return;
    }
    while (from < to) {
      from += builder.append(batch, from, to);
      if (builder.full) yield builder.take();
    }
  }
  /** A piece read alone, in order: its records, and the lines it left read here; read here whole if what it was read with has changed since. */
  function* inOrder(entry: HeldPiece, read: PieceRecords): Generator<RecordBatch> {
    if (entry.version !== lines.version()) {
      yield* readPiece(entry.piece);
      return;
    }
    if (notes) notes.notSyscalls += read.notSyscalls;
    let from = 0;
    for (const { index, text, before } of read.left) {
      yield* copy(read.batch, from, before);
      from = before;
      const stop = readLine(text, firstLine + index);
      if (stop || builder.full) yield* settle(stop);
    }
    yield* copy(read.batch, from, read.batch.count);
    firstLine += read.lines;
  }
  const held: HeldPiece[] = [];
  for await (const piece of linePieces(chunks, options.pieceBytes ?? LINE_PIECE_BYTES)) {
    // Worker threads' answers come in with the event loop: without a turn here, this thread read piece after piece while they waited.
    if (readElsewhere) await new Promise((resolve) => setImmediate(resolve));
    const task = { piece, context: lines.context() };
    const elsewhere = readElsewhere?.(task);
    if (elsewhere) {
      const entry: HeldPiece = { piece, version: lines.version(), result: elsewhere };
      elsewhere.then((read) => (entry.read = read)).catch(() => {}); // a failure is awaited in order below
      held.push(entry);
    } else if (held.length === 0) {
      yield* readPiece(piece);
    } else {
      const read = readLinePiece(task);
      held.push({ piece, version: lines.version(), read, result: Promise.resolve(read) });
    }
    while (held[0]?.read || held.length > LINE_PIECES_HELD) {
      const entry = held.shift()!;
      yield* inOrder(entry, await entry.result);
    }
  }
  while (held.length > 0) {
    const entry = held.shift()!;
    yield* inOrder(entry, await entry.result);
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
  /** The arch of strace logs' syscalls (but for processes that change personality), and of JSON lines without an arch. */
  readonly arch: Arch;
  /** Where bad records are counted and passed over; without it, the first stops the stream. */
  readonly skipped?: SkippedRecords;
  /** Where an strace log's lines that are not syscalls are counted. */
  readonly straceNotes?: StraceNotes;
  /** Reads pieces of lines (JSON lines, strace logs) on worker threads when they have room; without it, all are read here. */
  readonly readLinesElsewhere?: LinePieceReader;
  /** Where pieces of lines are cut (see linePieces): LINE_PIECE_BYTES, or fewer in tests, for many pieces of a short text. */
  readonly pieceBytes?: number;
}

/**
 * Batches of records from `chunks`: binary in `byteOrder`, JSON lines (each
 * record in its own arch's byte order), or an strace log. A bad record stops
 * the stream with its position, or, with `skipped`, is counted there and
 * passed over.
 */
export async function* recordBatches(chunks: AsyncIterable<Uint8Array>, options: RecordStreamOptions): AsyncGenerator<RecordBatch> {
  const iterator = chunks[Symbol.asyncIterator]();
  try {
    const head = options.format === undefined ? await readHead(iterator) : [];
    const rest = (async function* (): AsyncGenerator<Uint8Array> {
      yield* head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    })();
    const format = options.format ?? detectRecordFormat(Buffer.concat(head));
    if (format === 'bin') yield* binaryBatches(rest, options.byteOrder, options.skipped);
    else yield* lineBatches(rest, traceLines(format, options.arch), options);
  } finally {
    // The chunks are read by hand, so no loop ends them: a bad record or a reader that stops early must close the file here.
    await iterator.return?.();
  }
}
