/** Shared test helpers: random programs and an in-process CLI runner. */
import { readFile, stat } from 'node:fs/promises';
import fc from 'fast-check';
import type { Instruction } from '../src/instruction.js';
import { SPELLINGS } from '../src/mnemonics.js';
import { main } from '../src/cli/main.js';
import type { Io } from '../src/cli/io.js';

/**
 * Any instruction: half of the time a classic opcode with fitting fields, the
 * rest any u16 code with any jt/jf/k (what a corrupt or foreign file holds).
 */
export const arbitraryInstruction: fc.Arbitrary<Instruction> = fc.record({
  code: fc.oneof(fc.constantFrom(...SPELLINGS.map((s) => s.code)), fc.integer({ min: 0, max: 0xffff })),
  jt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xff })),
  jf: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xff })),
  k: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffffffff })),
});

/** Programs of 1 to 64 instructions. */
export const arbitraryProgram: fc.Arbitrary<Instruction[]> = fc.array(arbitraryInstruction, { minLength: 1, maxLength: 64 });

/** What one `cbpf` run printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stdoutBytes: Uint8Array;
  readonly stderr: string;
  readonly files: Map<string, Uint8Array>;
}

const encode = (d: string | Uint8Array): Uint8Array => (typeof d === 'string' ? new TextEncoder().encode(d) : d);

/**
 * Runs `cbpf argv` in-process. `stdin` feeds '-'; `files` are in-memory files
 * read before the real file system; written files are kept in `files` too.
 */
export async function runCli(
  argv: string[],
  { stdin = '', files: given = {} }: { stdin?: string | Uint8Array; files?: Record<string, string | Uint8Array> } = {},
): Promise<CliRun> {
  const out: Uint8Array[] = [];
  let stderr = '';
  const files = new Map(Object.entries(given).map(([path, data]) => [path, encode(data)]));
  const read = async (path: string) => (path === '-' ? encode(stdin) : files.get(path) ?? new Uint8Array(await readFile(path)));
  const io: Io = {
    readFile: read,
    // In small, odd-sized chunks, so that records and lines cross chunk boundaries.
    readStream: async function* (path) {
      const bytes = await read(path);
      for (let at = 0; at < bytes.length; at += 1000) yield bytes.subarray(at, at + 1000);
    },
    // In-memory files are streamed; files on disk are what they are (worker threads read them themselves).
    regularFileSize: async (path) => {
      if (path === '-' || files.has(path)) return undefined;
      const info = await stat(path);
      return info.isFile() ? info.size : undefined;
    },
    openWriter: (path) => ({
      write: async (data) => {
        if (path === undefined) out.push(encode(data));
        else files.set(path, new Uint8Array(Buffer.concat([files.get(path) ?? new Uint8Array(), encode(data)])));
      },
      close: async () => {
        if (path !== undefined && !files.has(path)) files.set(path, new Uint8Array());
      },
    }),
    writeFile: async (path, data) => void files.set(path, encode(data)),
    stdout: (data) => void out.push(encode(data)),
    stderr: (text) => void (stderr += text),
    flush: async () => {},
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
  const code = await main(argv, io);
  const stdoutBytes = new Uint8Array(Buffer.concat(out));
  return { code, stdout: new TextDecoder().decode(stdoutBytes), stdoutBytes, stderr, files };
}

/**
 * Where two lists of decisions first differ, in one line ('' when they are the
 * same). Comparing 100,000s of decisions with toEqual printed a diff that took
 * minutes to make when they differed in length.
 */
export function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string {
  const hex = (v: number | undefined) => `0x${(v! >>> 0).toString(16)}`;
  for (let i = 0; i < Math.min(actual.length, expected.length); i++) {
    if (actual[i] !== expected[i]) return `record ${i} decided ${hex(actual[i])}, expected ${hex(expected[i])}`;
  }
  return actual.length === expected.length ? '' : `${actual.length} decisions, expected ${expected.length}`;
}
