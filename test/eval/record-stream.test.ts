import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BATCH_RECORDS,
  detectFileFormat,
  detectRecordFormat,
  type LinePieceReader,
  type RecordStreamOptions,
  readHead,
  readLinePiece,
  recordBatches,
  type SkippedRecords,
  type StraceNotes,
} from '../../eval/record-stream.js';
import { ParseError } from '../../src/errors.js';
import { archByName } from '../../src/seccomp/arches.js';
import { decodeSeccompData, type RecordBatch, RecordBatchBuilder, recordByteOrder, type SeccompData } from '../../src/seccomp/records.js';
import { StraceReader } from '../../src/seccomp/strace.js';

const x86_64 = archByName('x86_64')!;

/** `text` (or bytes) as chunks cut at `cuts` (byte offsets, any order), as a file or pipe would deliver it. */
async function* chunksOf(text: string | Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const bounds = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b);
  for (let i = 0; i + 1 < bounds.length; i++) yield bytes.subarray(bounds[i], bounds[i + 1]);
}

/** The records of every batch, decoded, and the error that ended the stream, if any. */
async function readAll(text: string, cuts: readonly number[], given: Partial<RecordStreamOptions> = {}): Promise<{ records: SeccompData[]; error?: unknown }> {
  const records: SeccompData[] = [];
  const decode = (batch: RecordBatch): SeccompData[] =>
    Array.from({ length: batch.count }, (_, i) => decodeSeccompData(batch.bytes, recordByteOrder(batch, i), i * 64));
  const options: RecordStreamOptions = { format: undefined, byteOrder: 'le', arch: x86_64, ...given };
  try {
    for await (const batch of recordBatches(chunksOf(text, cuts), options)) records.push(...decode(batch));
  } catch (error) {
    return { records, error };
  }
  return { records };
}

/** A JSON line, a comment or a blank line, or (bad) an unknown syscall. */
const jsonLine = fc.oneof(
  fc.record({ nr: fc.nat(400), arg: fc.nat() }).map(({ nr, arg }) => ({ text: JSON.stringify({ arch: 'x86_64', nr, args: [arg] }), nr, bad: false })),
  fc.constantFrom({ text: '# a comment', nr: -1, bad: false }, { text: '', nr: -1, bad: false }, { text: '{"arch":"x86_64","nr":"bogus"}', nr: -1, bad: true }),
);

/**
 * Reads each piece in turn (cycling through `where`) here (null: the stream
 * reads it), or "on a worker thread" whose answer comes after that many ms.
 */
function readingElsewhere(where: readonly (number | null)[]): LinePieceReader {
  let piece = 0;
  return (task) => {
    const delay = where[piece++ % where.length];
    if (delay === null) return undefined;
    const read = readLinePiece(task);
    return new Promise((resolve) => setTimeout(() => resolve(read), delay));
  };
}
const places = fc.array(fc.option(fc.nat(3)), { minLength: 1, maxLength: 4 });
/** Where pieces are cut: a few bytes in, so that short texts are cut into many pieces. */
const pieceBytes = fc.integer({ min: 1, max: 400 });

/**
 * An strace log of processes 100, 101 and 102: calls, whole or split into an
 * unfinished line and a resumed one a few lines later (or never); changes of
 * personality; notes; and lines that cannot be read, a stray resumed line
 * among them.
 */
const straceLog = fc
  .array(
    fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({
          pid: fc.constantFrom('100', '101', '102'),
          name: fc.constantFrom('read', 'write', 'close', 'getpid'),
          arg: fc.nat(0xffff),
          resumedAfter: fc.option(fc.nat(4), { freq: 3 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '[ Process PID=101 runs in 32 bit mode. ]',
          '[ Process PID=101 runs in 64 bit mode. ]',
          '[ Process PID=102 runs in 32 bit mode. ]',
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom('100 +++ exited with 0 +++', '101 --- SIGCHLD {si_signo=SIGCHLD} ---', '') },
      { weight: 1, arbitrary: fc.constantFrom('100 bogus(0x1) = 0', '101 read(AT_FDCWD) = 0', '102 <... close resumed>, 0x2) = 0') },
    ),
    { minLength: 1, maxLength: 60 },
  )
  .map((items) => {
    const lines: string[] = [];
    /** Resumed lines to come, each after that many more items. */
    let resumes: { after: number; line: string }[] = [];
    for (const item of items) {
      if (typeof item === 'string') lines.push(item);
      else {
        const { pid, name, arg, resumedAfter } = item;
        const split = arg % 2 === 0;
        lines.push(split ? `${pid} ${name}(0x${arg.toString(16)} <unfinished ...>` : `${pid} ${name}(0x${arg.toString(16)}, 0x1) = 0x1`);
        if (split && resumedAfter !== null) resumes.push({ after: resumedAfter, line: `${pid} <... ${name} resumed>, 0x2) = 0` });
      }
      for (const resume of resumes) if (resume.after-- === 0) lines.push(resume.line);
      resumes = resumes.filter((r) => r.after >= 0);
    }
    return lines;
  });

/** An strace log read with StraceReader a line at a time, all in one go: what streaming it must give. */
function straceInOneGo(lines: readonly string[], skipping: boolean): { records: SeccompData[]; error?: string; skipped: SkippedRecords; notSyscalls: number } {
  const reader = new StraceReader(x86_64);
  const into = new RecordBatchBuilder(lines.length);
  const skipped: SkippedRecords = { count: 0 };
  let error: string | undefined;
  /** Runs one step; false once a bad line stops the log. */
  const step = (read: () => unknown): boolean => {
    try {
      read();
    } catch (caught) {
      const where = `line ${(caught as ParseError).line}: ${(caught as ParseError).detail}`;
      if (!skipping) {
        error = where;
        return false;
      }
      skipped.count++;
      skipped.first ??= where;
    }
    return true;
  };
  if (lines.every((line, i) => step(() => reader.line(line, i + 1, into)))) {
    let more = true;
    while (more && step(() => (more = reader.endNext(into))));
  }
  const batch = into.take();
  const records = Array.from({ length: batch.count }, (_, i) => decodeSeccompData(batch.bytes, recordByteOrder(batch, i), i * 64));
  return { records, ...(error ? { error } : {}), skipped, notSyscalls: reader.notSyscalls };
}

describe('recordBatches on text', () => {
  it('reads JSON lines cut into chunks anywhere, pieces read here or elsewhere, as it reads them whole, and names the line of the first bad one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(jsonLine, { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        places,
        pieceBytes,
        async (lines, cuts, where, perPiece) => {
          // A comment first, so that the format is JSON lines whatever follows.
          const text = ['# trace', ...lines.map((l) => l.text)].join('\n');
          const firstBad = lines.findIndex((l) => l.bad);
          const wanted = (firstBad === -1 ? lines : lines.slice(0, firstBad)).filter((l) => l.nr >= 0).map((l) => l.nr);
          const { records, error } = await readAll(text, cuts, { readLinesElsewhere: readingElsewhere(where), pieceBytes: perPiece });
          expect(records.map((r) => r.nr)).toEqual(wanted);
          if (firstBad === -1) expect(error).toBeUndefined();
          else expect(error instanceof ParseError && error.line).toBe(firstBad + 2);
          // With --skip-bad: every good line, and the bad ones counted, the first named by its line.
          const skipped: SkippedRecords = { count: 0 };
          const all = await readAll(text, cuts, { skipped, readLinesElsewhere: readingElsewhere(where), pieceBytes: perPiece });
          expect(all.records.map((r) => r.nr)).toEqual(lines.filter((l) => l.nr >= 0).map((l) => l.nr));
          expect(skipped.count).toBe(lines.filter((l) => l.bad).length);
          if (firstBad !== -1) expect(skipped.first).toMatch(new RegExp(`^line ${firstBad + 2}: `));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads an strace log in pieces, here or elsewhere, as a line at a time in one go: calls joined across pieces, personalities, bad lines and all', async () => {
    await fc.assert(
      fc.asyncProperty(straceLog, fc.array(fc.nat(), { maxLength: 6 }), places, pieceBytes, fc.boolean(), async (body, cuts, where, perPiece, skipping) => {
        // A call first, so that the format is strace whatever follows.
        const lines = ['99 getpid() = 0x63', ...body];
        const wanted = straceInOneGo(lines, skipping);
        const skipped: SkippedRecords = { count: 0 };
        const straceNotes: StraceNotes = { notSyscalls: 0 };
        const { records, error } = await readAll(lines.join('\n'), cuts, {
          ...(skipping ? { skipped } : {}),
          straceNotes,
          readLinesElsewhere: readingElsewhere(where),
          pieceBytes: perPiece,
        });
        expect(records).toEqual(wanted.records);
        expect(error instanceof ParseError ? `line ${error.line}: ${error.detail}` : error).toBe(wanted.error);
        expect(skipped).toEqual(wanted.skipped);
        if (!error) expect(straceNotes.notSyscalls).toBe(wanted.notSyscalls);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    {
      what: 'a call left unfinished in the piece before',
      lines: [
        '101 getpid(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = 0x65',
        '100 read(0x1 <unfinished ...>',
        '100 write(0x2 <unfinished ...>',
        '100 <... write resumed>, 0x2) = 0',
      ],
      firstPiece: 2,
    },
    {
      what: 'a call replaced before it was resumed',
      lines: [
        '100 read(0x1 <unfinished ...>',
        '100 <... read resumed>, 0x2) = 0',
        '100 write(0x2 <unfinished ...>',
        '100 close(0x3 <unfinished ...>',
        '100 <... close resumed>, 0x2) = 0',
      ],
      firstPiece: 5,
    },
    {
      what: 'a call resumed by another name',
      lines: [
        '100 read(0x1 <unfinished ...>',
        '100 <... read resumed>, 0x2) = 0',
        '100 write(0x2 <unfinished ...>',
        '100 <... close resumed>, 0x2) = 0',
        '100 close(0x3 <unfinished ...>',
        '100 <... close resumed>, 0x2) = 0',
      ],
      firstPiece: 6,
    },
  ])('joins the calls of a piece read alone only where the whole log holds no unfinished call of that process: $what', async ({ lines, firstPiece }) => {
    const skipped: SkippedRecords = { count: 0 };
    const pieceBytes = lines.slice(0, firstPiece).join('\n').length; // the first piece ends at the line break after these lines; the rest is shorter
    let pieces = 0;
    const elsewhere = readingElsewhere([0]);
    const { records } = await readAll(lines.join('\n'), [], {
      skipped,
      readLinesElsewhere: (task) => {
        pieces++;
        return elsewhere(task);
      },
      pieceBytes,
    });
    expect(pieces).toBe(firstPiece < lines.length ? 2 : 1);
    const wanted = straceInOneGo(lines, true);
    expect(records).toEqual(wanted.records);
    expect(skipped).toEqual(wanted.skipped);
  });

  it('numbers JSON lines past the pieces a chunk is cut into', async () => {
    // More lines than a piece holds, in one chunk; a blank line every seventh, and one bad line near the end.
    const count = 2 * BATCH_RECORDS + 500;
    const bad = 2 * BATCH_RECORDS + 100; // its number, from 1
    const lines = Array.from({ length: count }, (_, i) =>
      i + 1 === bad ? '{"nr":"bogus","arch":"x86_64"}' : i % 7 === 3 ? '' : JSON.stringify({ arch: 'x86_64', nr: i % 400 }),
    );
    const good = (upTo: number) =>
      lines
        .slice(0, upTo)
        .filter((l) => l !== '' && !l.includes('bogus'))
        .map((l) => JSON.parse(l).nr);
    const { records, error } = await readAll(lines.join('\n'), []);
    expect(error instanceof ParseError && [error.line, error.detail]).toEqual([bad, 'unknown syscall "bogus" for arch x86_64']);
    expect(records.map((r) => r.nr)).toEqual(good(bad - 1));
    const skipped: SkippedRecords = { count: 0 };
    expect((await readAll(lines.join('\n'), [], { skipped })).records.map((r) => r.nr)).toEqual(good(count));
    expect(skipped.first).toBe(`line ${bad}: unknown syscall "bogus" for arch x86_64`);
  });

  it('joins strace calls whose unfinished and resumed lines come in different chunks', async () => {
    const log = [
      '100 read(0x3, 0x7ffc, 0x340 <unfinished ...>',
      '101 getpid() = 0x65',
      '100 <... read resumed>) = 0x340',
      '100 close(0x3) = 0',
      '100 +++ exited with 0 +++',
    ].join('\n');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 6 }), async (cuts) => {
        const { records, error } = await readAll(log, cuts);
        expect(error).toBeUndefined();
        expect(records.map((r) => [r.nr, r.args[0]])).toEqual([
          [39, 0n],
          [0, 3n],
          [3, 3n],
        ]);
      }),
      { numRuns: 100 },
    );
  });
  it('treats an unfinished strace call it cannot read at the end of the log as any bad line', async () => {
    const log = [
      '100 read(0x3, 0x7ffc, 0x340 <unfinished ...>',
      '101 bogus(0x1 <unfinished ...>',
      '102 close(0x4 <unfinished ...>',
      '103 getpid() = 0x67',
    ].join('\n');
    // Without --skip-bad: the records before the bad call, then its error, naming the line it started on.
    const stopped = await readAll(log, []);
    expect(stopped.records.map((r) => r.nr)).toEqual([39, 0]);
    expect(stopped.error instanceof ParseError && [stopped.error.line, stopped.error.detail]).toEqual([2, 'unknown syscall "bogus" for arch x86_64']);
    // With it: counted, and the calls after it still read.
    const skipped: SkippedRecords = { count: 0 };
    const all = await readAll(log, [], { skipped });
    expect(all.error).toBeUndefined();
    expect(all.records.map((r) => [r.nr, r.args[0]])).toEqual([
      [39, 0n],
      [0, 3n],
      [3, 4n],
    ]);
    expect(skipped).toEqual({ count: 1, first: 'line 2: unknown syscall "bogus" for arch x86_64' });
  });
});

describe("a trace's format", () => {
  /** The format of a stream, told as recordBatches tells it: from the chunks readHead takes. */
  const streamFormat = async (chunks: AsyncIterable<Uint8Array>) => detectRecordFormat(Buffer.concat(await readHead(chunks[Symbol.asyncIterator]())));
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cbpf-format-'));
  });
  afterAll(() => rmSync(dir, { recursive: true }));
  /** The format of a file of `bytes`, told as evaluate() tells it. */
  const fileFormat = (bytes: Uint8Array) => {
    const path = join(dir, 'trace');
    writeFileSync(path, bytes);
    const fd = openSync(path, 'r');
    try {
      return detectFileFormat(fd);
    } finally {
      closeSync(fd);
    }
  };

  /** Starts that put a line break, a control byte or both near the rule's bounds (64 bytes, 4,096). */
  const start = fc
    .array(
      fc.oneof(
        fc.constantFrom('~', 'x', ' ', '{', '1', '\n', '\r', '\0', '\x01', '\xff'),
        fc.constantFrom('~'.repeat(60), '~'.repeat(4000), '123 read(0x1) = 0\n', '{"nr":0}\n'),
      ),
      { maxLength: 40 },
    )
    .map((parts) => Uint8Array.from(Buffer.from(parts.join(''), 'latin1')));

  it('is told the same from a file and however a pipe cuts the input into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(start, fc.array(fc.nat(), { maxLength: 8 }), async (bytes, cuts) => {
        expect(await streamFormat(chunksOf(bytes, cuts))).toBe(detectRecordFormat(bytes));
        expect(fileFormat(bytes)).toBe(detectRecordFormat(bytes));
      }),
    );
  });

  it.each([
    // Found by `cbpf fuzz --target inputs` (seed 410387127, case 264000): a file was binary (control bytes in its first
    // chunk of 1 MiB) where the same bytes streamed were JSON lines (no line break in the first 4,096 bytes, all "~").
    { what: 'a long first line, control bytes after 4,096 bytes', text: `${'~'.repeat(10_000)}\0\x01\n`, format: 'jsonl' },
    { what: 'control bytes in the first line', text: `${'~'.repeat(100)}\0\n`, format: 'bin' },
    { what: 'a binary record whose first byte is a line break (nr 10)', text: '\n\0\0\0>\0\0\xc0'.padEnd(64, '\0'), format: 'bin' },
    { what: 'short JSON lines', text: '{"nr":0}\n{"nr":1}\n{"nr":2}\n', format: 'jsonl' },
    { what: 'an strace log after a blank line', text: '\n28936 read(0x3, 0x7ffd, 0x200) = 0x200\n', format: 'strace' },
  ])('$what: $format', async ({ text, format }) => {
    const bytes = Uint8Array.from(Buffer.from(text, 'latin1'));
    expect(detectRecordFormat(bytes)).toBe(format);
    expect(await streamFormat(chunksOf(bytes, [1, 2, 3, 70, 4100]))).toBe(format);
    expect(fileFormat(bytes)).toBe(format);
  });
});
