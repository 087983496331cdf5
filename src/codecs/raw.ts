/**
 * Raw `struct sock_filter` arrays: 8 bytes per instruction, no header, fields
 * in the byte order of the machine that installs the filter.
 */
import { DecodeError } from '../errors.js';
import { checkFields, type Instruction, type Program } from '../instruction.js';
import type { ByteOrder } from '../seccomp/arches.js';

/** `sizeof(struct sock_filter)`. */
export const SOCK_FILTER_SIZE = 8;

/** Decodes a raw array; throws DecodeError unless it is a whole, non-empty number of instructions. */
export function decodeRaw(bytes: Uint8Array, byteOrder: ByteOrder = 'le'): Instruction[] {
  if (bytes.length === 0) throw new DecodeError('empty-input', 'empty input: no instructions');
  if (bytes.length % SOCK_FILTER_SIZE !== 0) {
    throw new DecodeError(
      'raw-length',
      `raw input is ${bytes.length} bytes, not a multiple of ${SOCK_FILTER_SIZE} (sizeof struct sock_filter): ` +
        `${bytes.length % SOCK_FILTER_SIZE} trailing bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = byteOrder === 'le';
  const program: Instruction[] = [];
  for (let at = 0; at < bytes.length; at += SOCK_FILTER_SIZE) {
    program.push({
      code: view.getUint16(at, le),
      jt: view.getUint8(at + 2),
      jf: view.getUint8(at + 3),
      k: view.getUint32(at + 4, le),
    });
  }
  return program;
}

/** Encodes a program as a raw array; throws EncodeError if a field does not fit its C type. */
export function encodeRaw(program: Program, byteOrder: ByteOrder = 'le'): Uint8Array {
  checkFields(program);
  const bytes = new Uint8Array(program.length * SOCK_FILTER_SIZE);
  const view = new DataView(bytes.buffer);
  const le = byteOrder === 'le';
  program.forEach((insn, pc) => {
    const at = pc * SOCK_FILTER_SIZE;
    view.setUint16(at, insn.code, le);
    view.setUint8(at + 2, insn.jt);
    view.setUint8(at + 3, insn.jf);
    view.setUint32(at + 4, insn.k, le);
  });
  return bytes;
}
