import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BATCH_RECORDS, readJsonPiece, recordBatches, type JsonPieceReader, type SkippedRecords } from '../../src/cli/record-stream.js';
import { ParseError } from '../../src/errors.js';
import { archByName } from '../../src/seccomp/arches.js';
import { decodeSeccompData, recordByteOrder, type RecordBatch, type SeccompData } from '../../src/seccomp/records.js';

const x86_64 = archByName('x86_64')!;

/** `text` as chunks cut at `cuts` (byte offsets, any order), as a file or pipe would deliver it. */
async function* chunksOf(text: string, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const bounds = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b);
  for (let i = 0; i + 1 < bounds.length; i++) yield bytes.subarray(bounds[i], bounds[i + 1]);
}

/** The records of every batch, decoded, and the error that ended the stream, if any. */
async function readAll(text: string, cuts: readonly number[], skipped?: SkippedRecords, readJsonElsewhere?: JsonPieceReader): Promise<{ records: SeccompData[]; error?: unknown }> {
  const records: SeccompData[] = [];
  const decode = (batch: RecordBatch): SeccompData[] => Array.from({ length: batch.count }, (_, i) => decodeSeccompData(batch.bytes, recordByteOrder(batch, i), i * 64));
  const options = { format: undefined, byteOrder: 'le' as const, arch: x86_64, ...(skipped ? { skipped } : {}), ...(readJsonElsewhere ? { readJsonElsewhere } : {}) };
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

describe('recordBatches on text', () => {
  it('reads JSON lines cut into chunks anywhere, pieces read here or elsewhere, as it reads them whole, and names the line of the first bad one', async () => {
    // Where each piece is read, in turn: here (null), or "on a worker thread" whose answer comes after that many ms.
    const places = fc.array(fc.option(fc.nat(3)), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(fc.array(jsonLine, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 6 }), places, async (lines, cuts, where) => {
        let piece = 0;
        const elsewhere: JsonPieceReader = (json, skipping) => {
          const delay = where[piece++ % where.length];
          if (delay === null) return undefined;
          const parsed = readJsonPiece(json, skipping);
          return new Promise((resolve) => setTimeout(() => resolve(parsed), delay));
        };
        // A comment first, so that the format is JSON lines whatever follows.
        const text = ['# trace', ...lines.map((l) => l.text)].join('\n');
        const firstBad = lines.findIndex((l) => l.bad);
        const wanted = (firstBad === -1 ? lines : lines.slice(0, firstBad)).filter((l) => l.nr >= 0).map((l) => l.nr);
        const { records, error } = await readAll(text, cuts, undefined, elsewhere);
        expect(records.map((r) => r.nr)).toEqual(wanted);
        if (firstBad === -1) expect(error).toBeUndefined();
        else expect(error instanceof ParseError && error.line).toBe(firstBad + 2);
        // With --skip-bad: every good line, and the bad ones counted, the first named by its line.
        const skipped: SkippedRecords = { count: 0 };
        const all = await readAll(text, cuts, skipped, elsewhere);
        expect(all.records.map((r) => r.nr)).toEqual(lines.filter((l) => l.nr >= 0).map((l) => l.nr));
        expect(skipped.count).toBe(lines.filter((l) => l.bad).length);
        if (firstBad !== -1) expect(skipped.first).toMatch(new RegExp(`^line ${firstBad + 2}: `));
      }),
      { numRuns: 200 },
    );
  });

  it('numbers JSON lines past the pieces a chunk is cut into', async () => {
    // More lines than a piece holds, in one chunk; a blank line every seventh, and one bad line near the end.
    const count = 2 * BATCH_RECORDS + 500;
    const bad = 2 * BATCH_RECORDS + 100; // its number, from 1
    const lines = Array.from({ length: count }, (_, i) => (i + 1 === bad ? '{"nr":"bogus","arch":"x86_64"}' : i % 7 === 3 ? '' : JSON.stringify({ arch: 'x86_64', nr: i % 400 })));
    const good = (upTo: number) => lines.slice(0, upTo).filter((l) => l !== '' && !l.includes('bogus')).map((l) => JSON.parse(l).nr);
    const { records, error } = await readAll(lines.join('\n'), []);
    expect(error instanceof ParseError && [error.line, error.detail]).toEqual([bad, 'unknown syscall "bogus" for arch x86_64']);
    expect(records.map((r) => r.nr)).toEqual(good(bad - 1));
    const skipped: SkippedRecords = { count: 0 };
    expect((await readAll(lines.join('\n'), [], skipped)).records.map((r) => r.nr)).toEqual(good(count));
    expect(skipped.first).toBe(`line ${bad}: unknown syscall "bogus" for arch x86_64`);
  });

  it('joins strace calls whose unfinished and resumed lines come in different chunks', async () => {
    const log = ['100 read(0x3, 0x7ffc, 0x340 <unfinished ...>', '101 getpid() = 0x65', '100 <... read resumed>) = 0x340', '100 close(0x3) = 0', '100 +++ exited with 0 +++'].join('\n');
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
    const log = ['100 read(0x3, 0x7ffc, 0x340 <unfinished ...>', '101 bogus(0x1 <unfinished ...>', '102 close(0x4 <unfinished ...>', '103 getpid() = 0x67'].join('\n');
    // Without --skip-bad: the records before the bad call, then its error, naming the line it started on.
    const stopped = await readAll(log, []);
    expect(stopped.records.map((r) => r.nr)).toEqual([39, 0]);
    expect(stopped.error instanceof ParseError && [stopped.error.line, stopped.error.detail]).toEqual([2, 'unknown syscall "bogus" for arch x86_64']);
    // With it: counted, and the calls after it still read.
    const skipped: SkippedRecords = { count: 0 };
    const all = await readAll(log, [], skipped);
    expect(all.error).toBeUndefined();
    expect(all.records.map((r) => [r.nr, r.args[0]])).toEqual([
      [39, 0n],
      [0, 3n],
      [3, 4n],
    ]);
    expect(skipped).toEqual({ count: 1, first: 'line 2: unknown syscall "bogus" for arch x86_64' });
  });
});
