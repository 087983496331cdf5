import { describe, expect, it } from 'vitest';
import { blockTargets, jumpTargets, segments } from '../../jit/layout.js';
import { assemble } from '../../src/codecs/asm.js';

describe('the JIT layout', () => {
  it('gives a block to every taken jump target but the next instruction', () => {
    const program = assemble('ld [0]\njeq #1, 2, 4\nja 5\nret #1\nret #2\nret #3');
    expect(jumpTargets(program)).toEqual([4, 5]);
  });

  it('ignores jumps to the next instruction and ja 0', () => {
    expect(jumpTargets(assemble('jeq #1, 1, 1\nja 2\nret #0'))).toEqual([]);
  });

  it('adds the resume points to the targets, once each and in order', () => {
    const program = assemble('ld [0]\njeq #1, 2, 4\nja 5\nret #1\nret #2\nret #3');
    expect(blockTargets(program, [5, 2, 4])).toEqual([2, 4, 5]);
  });

  it('cuts the program into straight-line segments between targets', () => {
    const program = assemble('jeq #1, 2, 3\nret #1\nret #2\nret #3');
    expect(segments(program, jumpTargets(program))).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 3 },
      { start: 3, end: 4 },
    ]);
  });
});
