/**
 * A test-only copy of the interpreter with bugs that can be switched on, to
 * prove that the fuzzer finds and shrinks real backend bugs. Never used
 * outside test/fuzz.
 */

import type { MakeEngine } from '../../src/engine.js';
import { resolveStack } from '../../src/seccomp/actions.js';
import { recordByteOrder, recordBytes } from '../../src/seccomp/records.js';
import type { VerifiedProgram } from '../../src/verifier.js';

/** The bugs the fuzzer must find. */
export type Fault = 'tax-txa-swapped' | 'shift-by-x-over-31-gives-0' | 'div-by-x-zero-continues' | 'errno-ties-keep-oldest' | 'jt-255-off-by-one';

function run(program: VerifiedProgram, record: Uint8Array, le: boolean, fault: Fault): number {
  const insns = program.instructions;
  const data = new DataView(record.buffer, record.byteOffset, 64);
  const m = new Uint32Array(16);
  let [a, x, pc] = [0, 0, 0];
  for (;;) {
    const insn = insns[pc];
    if (!insn) throw new Error(`jumped to pc ${pc}, outside the program`);
    const { code, jt, jf, k } = insn;
    const jump = (taken: boolean) => pc + 1 + (taken ? (fault === 'jt-255-off-by-one' && jt === 255 ? 256 : jt) : jf);
    const shift = (left: boolean) => (fault === 'shift-by-x-over-31-gives-0' && x >= 32 ? 0 : left ? (a << (x & 31)) >>> 0 : a >>> (x & 31));
    let next = pc + 1;
    // biome-ignore format: one line per opcode, read as a table
    switch (code) {
      case 0x20: a = data.getUint32(k, le); break;
      case 0x80: a = 64; break;
      case 0x81: x = 64; break;
      case 0x00: a = k; break;
      case 0x01: x = k; break;
      case 0x60: a = m[k]!; break;
      case 0x61: x = m[k]!; break;
      case 0x02: m[k] = a; break;
      case 0x03: m[k] = x; break;
      case 0x04: a = (a + k) >>> 0; break;
      case 0x0c: a = (a + x) >>> 0; break;
      case 0x14: a = (a - k) >>> 0; break;
      case 0x1c: a = (a - x) >>> 0; break;
      case 0x24: a = Math.imul(a, k) >>> 0; break;
      case 0x2c: a = Math.imul(a, x) >>> 0; break;
      case 0x34: a = Math.floor(a / k) >>> 0; break;
      case 0x3c:
        if (x === 0 && fault !== 'div-by-x-zero-continues') return 0;
        if (x !== 0) a = Math.floor(a / x) >>> 0;
        break;
      case 0x44: a = (a | k) >>> 0; break;
      case 0x4c: a = (a | x) >>> 0; break;
      case 0x54: a = (a & k) >>> 0; break;
      case 0x5c: a = (a & x) >>> 0; break;
      case 0x64: a = (a << k) >>> 0; break;
      case 0x6c: a = shift(true); break;
      case 0x74: a = a >>> k; break;
      case 0x7c: a = shift(false); break;
      case 0x84: a = (0x100000000 - a) >>> 0; break;
      case 0xa4: a = (a ^ k) >>> 0; break;
      case 0xac: a = (a ^ x) >>> 0; break;
      case 0x07: if (fault === 'tax-txa-swapped') a = x; else x = a; break;
      case 0x87: if (fault === 'tax-txa-swapped') x = a; else a = x; break;
      case 0x05: next = pc + 1 + k; break;
      case 0x15: next = jump(a === k); break;
      case 0x1d: next = jump(a === x); break;
      case 0x25: next = jump(a > k); break;
      case 0x2d: next = jump(a > x); break;
      case 0x35: next = jump(a >= k); break;
      case 0x3d: next = jump(a >= x); break;
      case 0x45: next = jump((a & k) !== 0); break;
      case 0x4d: next = jump((a & x) !== 0); break;
      case 0x06: return k;
      case 0x16: return a;
      default: throw new Error(`opcode 0x${code.toString(16)}`);
    }
    pc = next;
  }
}

/** With ERRNO ties kept by the oldest filter instead of the newest. */
function resolveKeepingOldest(values: number[]): number {
  const result = resolveStack(values);
  if ((result & 0xffff0000) !== 0x00050000) return result;
  return values.find((v) => (v & 0xffff0000) === 0x00050000)!;
}

/** An engine with `fault` planted. */
export function faultyEngine(fault: Fault): MakeEngine {
  return (filters) => ({
    name: `interp with ${fault}`,
    decide: (batch) =>
      Uint32Array.from({ length: batch.count }, (_, i) => {
        const values = filters.map((f) => run(f, recordBytes(batch, i), recordByteOrder(batch, i) === 'le', fault));
        return fault === 'errno-ties-keep-oldest' ? resolveKeepingOldest(values) : resolveStack(values);
      }),
  });
}
