import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/codecs/asm.js';
import { FORMATS } from '../../src/codecs/format-names.js';
import { detectFormat, readProgram, writeProgram } from '../../src/codecs/formats.js';
import { decodeRaw, encodeRaw } from '../../src/codecs/raw.js';
import { formatAsm } from '../../src/disasm.js';
import { arbitraryProgram } from '../helpers.js';

const RUNS = 10_000;

describe('every format round-trips random programs exactly', () => {
  it.each(['le', 'be'] as const)('raw %s: decode(encode(p)) == p', (order) => {
    fc.assert(
      fc.property(arbitraryProgram, (p) => {
        expect(decodeRaw(encodeRaw(p, order), order)).toEqual(p);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(FORMATS)('%s: read(write(p)) == p, with the format given', (format) => {
    fc.assert(
      fc.property(arbitraryProgram, (p) => {
        const written = writeProgram(p, format);
        const bytes = typeof written === 'string' ? new TextEncoder().encode(written) : written;
        expect(readProgram(bytes, format).program).toEqual(p);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(FORMATS.filter((f) => f !== 'raw-be'))('%s: the format is detected from what was written', (format) => {
    fc.assert(
      fc.property(arbitraryProgram, (p) => {
        const written = writeProgram(p, format);
        const bytes = typeof written === 'string' ? new TextEncoder().encode(written) : written;
        // A raw program whose every byte is printable text cannot be told from text; the CLI's --input-format settles it.
        fc.pre(format !== 'raw' || bytes.some((b) => b < 0x09));
        expect(detectFormat(bytes)).toBe(format);
      }),
      { numRuns: 2_000 },
    );
  });

  it('the disassembler (absolute pcs) assembles back to the same program', () => {
    fc.assert(
      fc.property(arbitraryProgram, (p) => {
        expect(assemble(formatAsm(p, { style: 'pcs' }))).toEqual(p);
      }),
      { numRuns: RUNS },
    );
  });
});
