/** Shared test helpers: random programs and an in-process CLI runner. */
import fc from 'fast-check';
import { main } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/memory-io.js';
import type { Instruction } from '../src/instruction.js';
import { SPELLINGS } from '../src/mnemonics.js';

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

/**
 * Runs `cbpf argv` in-process. `stdin` feeds '-'; `files` are in-memory files
 * read before the real file system; written files are kept in `files` too.
 */
export async function runCli(
  argv: string[],
  { stdin = '', files = {} }: { stdin?: string | Uint8Array; files?: Record<string, string | Uint8Array> } = {},
): Promise<CliRun> {
  const { io, output } = memoryIo({ stdin, files, disk: true });
  const code = await main(argv, io);
  const { stdoutBytes, stderr, files: written } = output();
  return { code, stdout: new TextDecoder().decode(stdoutBytes), stdoutBytes, stderr, files: written };
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

/** The error `run` throws (undefined when it returns). */
export function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
