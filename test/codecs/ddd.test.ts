import { describe, expect, it } from 'vitest';
import { parseDdd } from '../../src/codecs/ddd.js';

const PROGRAM = [
  { code: 40, jt: 0, jf: 0, k: 12 },
  { code: 21, jt: 0, jf: 1, k: 2048 },
  { code: 6, jt: 0, jf: 0, k: 65535 },
  { code: 6, jt: 0, jf: 0, k: 0 },
];

describe('parseDdd', () => {
  it('reads tcpdump -ddd lines', () => {
    expect(parseDdd('4\n40 0 0 12\n21 0 1 2048\n6 0 0 65535\n6 0 0 0\n')).toEqual(PROGRAM);
  });

  it.each(['4,40 0 0 12,21 0 1 2048,6 0 0 65535,6 0 0 0', '4,40 0 0 12,21 0 1 2048,6 0 0 65535,6 0 0 0,\n'])('reads the one-line comma form %j', (text) =>
    expect(parseDdd(text)).toEqual(PROGRAM),
  );

  it.each([
    ['3\n6 0 0 0\n6 0 0 0\n', 'count-mismatch', 1, 1],
    ['1\n6 0 0\n', 'syntax', 2, 1],
    ['1\n6 0 0 4294967296\n', 'out-of-range', 2, 7],
    ['1,6 0 x 0', 'syntax', 1, 7],
    ['1\n', 'empty-input', 0, 0],
  ])('rejects %j with %s at %i:%i', (text, code, line, column) => {
    expect(() => parseDdd(text)).toThrow(expect.objectContaining({ code, line, column }));
  });
});
