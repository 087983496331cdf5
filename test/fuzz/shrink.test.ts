import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/codecs/asm.js';
import { dropRange, shrinkCase } from '../../src/fuzz/shrink.js';
import { jump, stmt } from '../../src/instruction.js';

describe('dropRange', () => {
  it('shortens jumps over the dropped range and lands jumps into it on what followed it', () => {
    const program = assemble('jeq #1, 3, 2\nja 4\nld #1\nld #2\nret #0');
    expect(dropRange(program, 2, 4)).toEqual([jump(0x15, 1, 1, 1), stmt(0x05, 0), stmt(0x06, 0)]);
  });

  it('leaves jumps before the range that land before it alone', () => {
    const program = assemble('jeq #1, 1, 2\nret #1\nret #2\nld #0\nret #3');
    expect(dropRange(program, 3, 4)).toEqual(program.filter((_, pc) => pc !== 3));
  });
});

describe('shrinkCase', () => {
  it('keeps only what makes the case fail', () => {
    const program = assemble('ld [nr]\nadd #5\ntax\nld #7\nmul #3\ntxa\nret a');
    const record = { nr: 12345, arch: 0xc000003e, instructionPointer: 99n, args: [1n, 2n, 3n, 4n, 5n, 6n] };
    // "Fails" whenever the program contains a TAX: the rest must go.
    const shrunk = shrinkCase({ filters: [program], record }, (c) => c.filters[0]!.some((i) => i.code === 0x07));
    expect(shrunk.filters[0]).toEqual(assemble('tax\nret #0'));
    expect(shrunk.record).toEqual({ nr: 0, arch: 0xc000003e, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] });
  });
});
