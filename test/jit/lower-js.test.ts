import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { argumentHeavyFilter } from '../../bench/synthetic.js';
import { interpret } from '../../interp/interpret.js';
import { interpretBatch } from '../../interp/stack.js';
import { compile } from '../../jit/compiled.js';
import { lowerStackToJs, MAX_JS_TARGETS } from '../../jit/lower-js.js';
import { assemble } from '../../src/codecs/asm.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { biasedRecords } from '../../src/fuzz/programs.js';
import { seededRandom } from '../../src/fuzz/random.js';
import { type Instruction, jump, stmt } from '../../src/instruction.js';
import { BPF_ABS, BPF_JA, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W } from '../../src/opcodes.js';
import { ACTIONS } from '../../src/seccomp/actions.js';
import { encodeSeccompData, packRecords } from '../../src/seccomp/records.js';
import { verify } from '../../src/verifier.js';

const sample = (name: string) => verify(decodeRaw(readFileSync(SAMPLE_FILTERS.find((s) => s.name === name)!.path)));

/** Each record of `records`, decided one at a time by compile(stack).decide(). */
function decideEach(stack: Parameters<typeof compile>[0], records: Uint8Array): number[] {
  const compiled = compile(stack);
  return Array.from({ length: records.length / 64 }, (_, i) => compiled.decide(records.subarray(i * 64, i * 64 + 64)));
}

describe('decide() past the decision tables (jit/lower-js.ts)', () => {
  it.each([...SAMPLE_FILTERS.map((s) => s.name), 'argument-heavy'])('runs %s from its resume points as the interpreter decides', (name) => {
    const filter = name === 'argument-heavy' ? argumentHeavyFilter() : sample(name);
    const records = packRecords(biasedRecords(filter.instructions, seededRandom(11), 4000, true)).bytes;
    const expected = Array.from({ length: 4000 }, (_, i) => interpret(filter, records.subarray(i * 64, i * 64 + 64), 'le'));
    expect(decideEach(filter, records)).toEqual(expected);
  });

  it('runs a stack newest first with the kernel precedence, A returned as a value', () => {
    const fromA = verify(assemble('ld [16]\nret a')); // args[0].lo: the tables cannot say
    const errno = verify(assemble('ld [24]\njeq #1, errno, allow\nerrno: ret ERRNO(7)\nallow: ret ALLOW'));
    const args = [0x7fff0001n, 0x00050003n, 0x80000000n, 0x00030000n].flatMap((a0) => [0n, 1n].map((a1) => [a0, a1, 0n, 0n, 0n, 0n]));
    const batch = packRecords(args.map((a) => ({ arch: 0xc000003e, nr: 1, instructionPointer: 0n, args: a })));
    for (const stack of [[fromA], [fromA, errno], [errno, fromA]])
      expect(decideEach(stack, batch.bytes), `${stack.length} filters`).toEqual([...interpretBatch(stack, batch)]);
  });

  it(`leaves a filter with more than ${MAX_JS_TARGETS} jump targets to wasm, deciding alike`, () => {
    // ld args[0]; then per i: jeq #i, jt 0, jf 1 (past the ja); ja to ret ERRNO(i); last, ret ALLOW and the rets.
    const n = 1100;
    const program: Instruction[] = [stmt(BPF_LD | BPF_W | BPF_ABS, 16)];
    for (let i = 0; i < n; i++) program.push(jump(BPF_JMP | BPF_JEQ | BPF_K, i, 0, 1), stmt(BPF_JMP | BPF_JA, 2 * (n - i) - 1 + i));
    program.push(stmt(BPF_RET | BPF_K, ACTIONS.ALLOW));
    for (let i = 0; i < n; i++) program.push(stmt(BPF_RET | BPF_K, ACTIONS.ERRNO | i));
    const filter = verify(program);
    expect(lowerStackToJs([{ instructions: filter.instructions, entries: [] }], 'le')).toBeUndefined();
    const records = packRecords(
      [0, 1, 549, 1099, 1100, 0xffffffff].map((a0) => ({ arch: 0xc000003e, nr: 0, instructionPointer: 0n, args: [BigInt(a0), 0n, 0n, 0n, 0n, 0n] })),
    ).bytes;
    expect(decideEach(filter, records)).toEqual([0x50000, 0x50001, 0x50000 + 549, 0x50000 + 1099, ACTIONS.ALLOW, ACTIONS.ALLOW]);
  });

  it('reads big-endian records in their byte order', () => {
    const filter = sample('docker-linear');
    const records = biasedRecords(filter.instructions, seededRandom(12), 500, true);
    const bytes = new Uint8Array(records.flatMap((r) => [...encodeSeccompData(r, 'be')]));
    const compiled = compile(filter, { byteOrder: 'be' });
    const decided = Array.from({ length: 500 }, (_, i) => compiled.decide(bytes.subarray(i * 64, i * 64 + 64)));
    expect(decided).toEqual(Array.from({ length: 500 }, (_, i) => interpret(filter, bytes.subarray(i * 64, i * 64 + 64), 'be')));
  });
});
