import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret, interpretWithTrace } from '../interp/interpret.js';
import { interpretStack } from '../interp/stack.js';
import { assemble } from '../src/codecs/asm.js';
import { encodeSeccompData } from '../src/seccomp/records.js';
import { verify } from '../src/verifier.js';

const x86_64 = 0xc000003e;
const record = (nr: number, args: bigint[] = []) => encodeSeccompData({ nr, arch: x86_64, instructionPointer: 0n, args });
const filter = (text: string) => verify(assemble(text));

describe('interpretWithTrace', () => {
  const program = filter('ld [nr]\njeq #1, 2, 4\ntax\nret a\nld [args[0].lo]\nret a');

  it('records each executed pc with A and X after it, and the words read', () => {
    const trace = interpretWithTrace(program, record(1), 'le');
    expect(trace).toEqual({
      value: 1,
      steps: [
        { pc: 0, a: 1, x: 0 },
        { pc: 1, a: 1, x: 0 },
        { pc: 2, a: 1, x: 1 },
        { pc: 3, a: 1, x: 1 },
      ],
      wordsRead: [0],
    });
    expect(interpretWithTrace(program, record(2, [0x1234n]), 'le')).toMatchObject({ value: 0x1234, wordsRead: [0, 16] });
  });

  it('records the DIV X by zero that ended the run', () => {
    const trace = interpretWithTrace(filter('ldx #0\ndiv x\nret #7'), record(0), 'le');
    expect(trace).toMatchObject({ value: 0, steps: [{ pc: 0 }, { pc: 1 }] });
  });

  it('returns what interpret returns, for any record', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (nr, arg) => {
        const r = record(nr, [arg]);
        expect(interpretWithTrace(program, r, 'le').value).toBe(interpret(program, r, 'le'));
      }),
      { numRuns: 500 },
    );
  });
});

describe('interpretStack', () => {
  it('runs each filter and resolves with the kernel precedence', () => {
    const filters = [filter('ret ERRNO(1)'), filter('ret ALLOW'), filter('ret ERRNO(2)')];
    expect(interpretStack(filters, record(0), 'le')).toEqual({ values: [0x50001, 0x7fff0000, 0x50002], value: 0x50002 });
  });
});

describe('interpret', () => {
  it('refuses a record shorter than 64 bytes', () => {
    expect(() => interpret(filter('ret #0'), new Uint8Array(63), 'le')).toThrow(expect.objectContaining({ name: 'InputError', code: 'record-size' }));
  });
});
