import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecisionLines } from '../../eval/lines.js';
import { actionOf, syscallNames } from '../../eval/summary.js';
import { ACTIONS, formatAction, hexValue } from '../../src/seccomp/actions.js';
import { packRecords, type SeccompData } from '../../src/seccomp/records.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const S390X = 0x80000016; // big-endian
const UNKNOWN_ARCH = 0x12345678;

/** A line as the format defines it, made the plain way: one record at a time, JSON.stringify of the whole object. */
function referenceLine(format: 'hex' | 'action' | 'json', value: number, data: SeccompData, record: number): string {
  if (format === 'hex') return hexValue(value);
  if (format === 'action') return actionOf(value);
  return JSON.stringify({ record, value: hexValue(value), action: formatAction(value) ?? null, ...syscallNames(data.arch, data.nr) });
}

describe('DecisionLines', () => {
  it('writes every record a line, as the plain way would, whatever the values, arches, numbers, byte orders and batches', () => {
    const call = fc.record({
      arch: fc.constantFrom(X86_64, I386, S390X, UNKNOWN_ARCH),
      nr: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom(-1, 59, 1024, 0x40000001)),
      // Actions with and without data, and values that are none of the eight.
      value: fc.oneof(fc.constantFrom(ACTIONS.ALLOW, ACTIONS.ERRNO | 1, ACTIONS.KILL_PROCESS, ACTIONS.TRACE | 0xffff), fc.nat({ max: 0xffffffff })),
    });
    fc.assert(
      fc.property(
        fc.constantFrom('hex' as const, 'action' as const, 'json' as const),
        fc.array(fc.array(call, { maxLength: 20 }), { maxLength: 4 }),
        fc.constantFrom(0, 9, 123456789, Number.MAX_SAFE_INTEGER - 100),
        (format, batches, first) => {
          const lines = new DecisionLines(format, 1); // room for one line: it grows
          const expected: string[] = [];
          let record = first;
          for (const calls of batches) {
            const data = calls.map(({ arch, nr }) => ({ arch, nr, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] as SeccompData['args'] }));
            const values = Uint32Array.from(calls, (c) => c.value);
            lines.add(values, packRecords(data), record);
            data.forEach((d, i) => {
              expected.push(`${referenceLine(format, values[i]!, d, record + i)}\n`);
            });
            record += calls.length;
          }
          expect(new TextDecoder().decode(lines.text())).toBe(expected.join(''));
        },
      ),
      { numRuns: 300 },
    );
  });
});
