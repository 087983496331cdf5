import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../interp/interpret.js';
import { assemble } from '../../src/codecs/asm.js';
import { MAX_REWRITABLE_LENGTH, PASS_SHIFTS, passErrno, rewriteForPass, valueFromErrnos } from '../../src/kernel/rewrite.js';
import { encodeSeccompData } from '../../src/seccomp/records.js';
import { verify } from '../../src/verifier.js';

describe('the RET rewrite of SPEC section 9', () => {
  it('recovers every 32-bit value from the three passes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const errnos = PASS_SHIFTS.map((shift) => passErrno(value, shift));
        expect(errnos.every((e) => e >= 1 && e <= 2048)).toBe(true);
        expect(valueFromErrnos(errnos)).toBe(value);
      }),
      { numRuns: 10_000 },
    );
  });

  it('keeps every instruction in place and adds the RET A tail only when needed', () => {
    const withRetA = assemble('ld [0]\njeq #1, 2, 3\nret #5\nret a');
    expect(rewriteForPass(withRetA, 0)).toHaveLength(4 + 5);
    expect(rewriteForPass(assemble('ret #5'), 0)).toHaveLength(1);
  });

  it('makes a program whose value is the errno of the original, for each pass', () => {
    const program = assemble('ld [args[0].lo]\njgt #100, 2, 3\nret #0xdeadbeef\nret a');
    const record = (a: bigint) => encodeSeccompData({ nr: 0, arch: 0xc000003e, instructionPointer: 0n, args: [a] });
    for (const arg of [7n, 0xffffffffn, 101n]) {
      const original = interpret(verify(program), record(arg), 'le');
      const errnos = PASS_SHIFTS.map((shift) => interpret(verify(rewriteForPass(program, shift)), record(arg), 'le') & 0xffff);
      expect(PASS_SHIFTS.map((shift) => interpret(verify(rewriteForPass(program, shift)), record(arg), 'le') >>> 16)).toEqual([5, 5, 5]);
      expect(valueFromErrnos(errnos)).toBe(original);
    }
  });

  it('refuses a program with no room for the tail', () => {
    expect(() => rewriteForPass(Array(MAX_REWRITABLE_LENGTH + 1).fill({ code: 6, jt: 0, jf: 0, k: 0 }), 0)).toThrow(RangeError);
  });
});
