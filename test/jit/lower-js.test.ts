import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { argumentHeavyFilter, largeFilter } from '../../bench/synthetic.js';
import { interpret } from '../../interp/interpret.js';
import { interpretBatch } from '../../interp/stack.js';
import { compile } from '../../jit/compiled.js';
import { lowerDecide, lowerStackToJs, MAX_JS_TARGETS, type StackRun } from '../../jit/lower-js.js';
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
    const records = packRecords(biasedRecords(filter.instructions, seededRandom(11), 4000, 'any')).bytes;
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

  /** ld args[0]; then per i < n: jeq #i, jt 0, jf 1 (past the ja); ja to ret ERRNO(i); last, ret ALLOW and the rets: 2n + 1 jump targets. */
  function jeqChain(n: number): Instruction[] {
    const program: Instruction[] = [stmt(BPF_LD | BPF_W | BPF_ABS, 16)];
    for (let i = 0; i < n; i++) program.push(jump(BPF_JMP | BPF_JEQ | BPF_K, i, 0, 1), stmt(BPF_JMP | BPF_JA, 2 * (n - i) - 1 + i));
    program.push(stmt(BPF_RET | BPF_K, ACTIONS.ALLOW));
    for (let i = 0; i < n; i++) program.push(stmt(BPF_RET | BPF_K, ACTIONS.ERRNO | i));
    return program;
  }

  it(`lowers a lone filter with more than ${MAX_JS_TARGETS} jump targets a resume point at a time, the rest to the fallback`, () => {
    const instructions = verify(jeqChain(1100)).instructions;
    const state = { x: 0, m: Array<number>(16).fill(0) };
    // At the jeq of 1095 with A = 1095; at the jeq of 1090 with A = 5000, which falls through the last ten to ALLOW.
    const entries = [
      { pc: 1 + 2 * 1095, a: 1095, ...state },
      { pc: 1 + 2 * 1090, a: 5000, ...state },
    ];
    const fallback = vi.fn<StackRun>(() => 7);
    const run = lowerStackToJs([{ instructions, entries }], 'le', fallback);
    const rowsEntering = (entry: number) => new Int32Array([-1, entry]);
    const record = new Uint8Array(64);
    expect(run(record, rowsEntering(1), 0) >>> 0).toBe(ACTIONS.ERRNO | 1095);
    expect(run(record, rowsEntering(2), 0) >>> 0).toBe(ACTIONS.ALLOW);
    expect(run(record, rowsEntering(1), 0) >>> 0).toBe(ACTIONS.ERRNO | 1095); // the entry's function, made once, again
    expect(fallback).not.toHaveBeenCalled();
    expect(run(record, rowsEntering(0), 0)).toBe(7); // from pc 0
    expect(run(record, rowsEntering(1), -1)).toBe(7); // outside the tables
    expect(fallback).toHaveBeenCalledTimes(2);
  });

  it('decides with a large filter lowered by entry as the interpreter does', () => {
    const filter = largeFilter();
    const records = packRecords(biasedRecords(filter.instructions, seededRandom(13), 3000, 'any')).bytes;
    const expected = Array.from({ length: 3000 }, (_, i) => interpret(filter, records.subarray(i * 64, i * 64 + 64), 'le'));
    expect(decideEach(filter, records)).toEqual(expected);
  });

  it('runs a stack of several with a filter too large to lower in wasm, deciding alike', () => {
    const filter = verify(jeqChain(1100));
    const allowAll = verify(assemble('ret ALLOW'));
    const records = packRecords(
      [0, 1, 549, 1099, 1100, 0xffffffff].map((a0) => ({ arch: 0xc000003e, nr: 0, instructionPointer: 0n, args: [BigInt(a0), 0n, 0n, 0n, 0n, 0n] })),
    ).bytes;
    const errnos = [0x50000, 0x50001, 0x50000 + 549, 0x50000 + 1099, ACTIONS.ALLOW, ACTIONS.ALLOW];
    expect(decideEach(filter, records)).toEqual(errnos);
    expect(decideEach([allowAll, filter], records)).toEqual(errnos);
  });

  it.each(['le', 'be'] as const)('looks a %s record up by arch and nr, and runs the stack from its row where the value is not constant', (byteOrder) => {
    // x86_64 tabulates nr 0 to 2, i386 nr 10 and 11; a row is the value (-1: NOT_CONSTANT) and an entry.
    const arches = [
      { auditArch: 0xc000003e | 0, firstNr: 0, length: 3, firstWord: 0, strideWords: 2 },
      { auditArch: 0x40000003, firstNr: 10, length: 2, firstWord: 6, strideWords: 2 },
    ];
    const w = new Int32Array([5, 0, -1, 1, 0x7fff0000, 0, -1, 2, 9, 0]);
    const run = vi.fn<StackRun>((_r, _w, row) => 1000 + row);
    const check = vi.fn((record: Uint8Array) => {
      throw new Error(`${record.length} bytes`);
    });
    const decide = lowerDecide(arches, byteOrder, run, { words: w }, check);
    const record = (arch: number, nr: number) => encodeSeccompData({ arch, nr, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] }, byteOrder);
    const cases: [arch: number, nr: number, value: number][] = [
      [0xc000003e, 0, 5],
      [0xc000003e, 1, 1002],
      [0xc000003e, 2, 0x7fff0000],
      [0xc000003e, 3, 999],
      [0xc000003e, -1, 999],
      [0x40000003, 9, 999],
      [0x40000003, 10, 1006],
      [0x40000003, 11, 9],
      [0xc00000b7, 0, 999],
    ];
    for (const [arch, nr, value] of cases) expect(decide(record(arch, nr)), `arch 0x${arch.toString(16)} nr ${nr}`).toBe(value);
    expect(run).toHaveBeenCalledTimes(6);
    expect(check).not.toHaveBeenCalled();
    expect(() => decide(record(0xc000003e, 0).subarray(1))).toThrow('63 bytes');
  });

  describe('a loaded word only compared, by jeq #0 or jset, with A not read again', () => {
    // args[0].lo: jset on its third byte alone; args[0].hi: jeq #0. Then args[1].lo, read again after its jset (by the jeq and ret a).
    const filter = verify(
      assemble(`
        ld [16]
        jset #0x00f00000, errno1, hi
        hi: ld [20]
        jeq #0, second, errno2
        second: ld [24]
        jset #0x0000ff00, again, allow
        again: jeq #0x1200, errno3, value
        value: ret a
        allow: ret ALLOW
        errno1: ret ERRNO(1)
        errno2: ret ERRNO(2)
        errno3: ret ERRNO(3)`),
    );
    const words = [0, 1, 0x100000, 0x0f0000, 0xf00000, 0x1200, 0x1201, 0x12345678, 0xffffffff];
    const records = words.flatMap((lo) =>
      [0n, 1n, 0x100n, 1n << 24n].flatMap((hi) =>
        words.map((other) => ({ arch: 0xc000003e, nr: 0, instructionPointer: 0n, args: [(hi << 32n) | BigInt(lo), BigInt(other), 0n, 0n, 0n, 0n] })),
      ),
    );

    it.each(['le', 'be'] as const)('decides %s records as the interpreter does', (byteOrder) => {
      const run = lowerStackToJs([{ instructions: filter.instructions, entries: [] }], byteOrder, () => -1);
      for (const data of records) {
        const record = encodeSeccompData(data, byteOrder);
        expect(run(record, new Int32Array(0), -1) >>> 0, `args ${data.args.slice(0, 2).join(', ')}`).toBe(interpret(filter, record, byteOrder));
      }
    });

    it.each([
      ['le', [18, 20, 21, 22, 23, 24, 25, 26, 27]],
      ['be', [17, 20, 21, 22, 23, 24, 25, 26, 27]],
    ] as const)('reads only the bytes of a %s record those comparisons depend on', (byteOrder, expected) => {
      const run = lowerStackToJs([{ instructions: filter.instructions, entries: [] }], byteOrder, () => -1);
      const read = new Set<number>();
      const bytes = new Uint8Array(64);
      new DataView(bytes.buffer).setUint32(24, 0x1200, byteOrder === 'le'); // the word ld [24] reads
      const record = new Proxy(bytes, {
        get: (target, key) => {
          if (typeof key === 'string' && /^\d+$/.test(key)) read.add(Number(key));
          return Reflect.get(target, key);
        },
      });
      expect(run(record, new Int32Array(0), -1) >>> 0).toBe(ACTIONS.ERRNO | 3);
      expect([...read].sort((a, b) => a - b)).toEqual(expected);
    });
  });

  it('reads big-endian records in their byte order', () => {
    const filter = sample('docker-linear');
    const records = biasedRecords(filter.instructions, seededRandom(12), 500, 'any');
    const bytes = new Uint8Array(records.flatMap((r) => [...encodeSeccompData(r, 'be')]));
    const compiled = compile(filter, { byteOrder: 'be' });
    const decided = Array.from({ length: 500 }, (_, i) => compiled.decide(bytes.subarray(i * 64, i * 64 + 64)));
    expect(decided).toEqual(Array.from({ length: 500 }, (_, i) => interpret(filter, bytes.subarray(i * 64, i * 64 + 64), 'be')));
  });
});
