/**
 * The reference interpreter: SPEC section 3 on a verified program and one
 * 64-byte `seccomp_data`, written to be obviously right, not fast. It is the
 * oracle the JIT and the fuzzer are judged by.
 *
 * One flat switch on the full opcode; tracing is an optional observer of the
 * same path, never a second copy of the switch.
 */
import type { ResumePoint } from '../src/decision-table.js';
import { InputError } from '../src/errors.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { checkRecord, littleEndian, SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import type { VerifiedProgram } from '../src/verifier.js';

/** One executed instruction: its pc, and A and X after it ran. */
export interface TraceStep {
  readonly pc: number;
  readonly a: number;
  readonly x: number;
}

/** What a traced run did. */
export interface Trace {
  readonly value: number;
  readonly steps: TraceStep[];
  /** Offsets of the data words loaded, in the order they were read. */
  readonly wordsRead: number[];
}

interface Observer {
  step(pc: number, a: number, x: number): void;
  read(offset: number): void;
}

function execute(program: VerifiedProgram, data: DataView, le: boolean, observer?: Observer, start?: ResumePoint): number {
  const insns = program.instructions;
  const m = start ? Uint32Array.from(start.m) : new Uint32Array(16);
  let a = start?.a ?? 0;
  let x = start?.x ?? 0;
  let pc = start?.pc ?? 0;
  for (;;) {
    const { code, jt, jf, k } = insns[pc]!; // pc < length: every jump lands inside, the last instruction returns (verify())
    let next = pc + 1;
    // biome-ignore format: one line per opcode, read as a table
    switch (code) {
      case 0x20: // ld [k]: k is an aligned offset below 64 (verify())
        a = data.getUint32(k, le);
        observer?.read(k);
        break;
      case 0x80: a = SECCOMP_DATA_SIZE; break; // ld #len
      case 0x81: x = SECCOMP_DATA_SIZE; break; // ldx #len
      case 0x00: a = k; break; // ld #k
      case 0x01: x = k; break; // ldx #k
      case 0x60: a = m[k]!; break; // ld M[k]: k < 16 and written before (verify())
      case 0x61: x = m[k]!; break;
      case 0x02: m[k] = a; break; // st M[k]
      case 0x03: m[k] = x; break; // stx M[k]
      case 0x04: a = (a + k) >>> 0; break; // add
      case 0x0c: a = (a + x) >>> 0; break;
      case 0x14: a = (a - k) >>> 0; break; // sub
      case 0x1c: a = (a - x) >>> 0; break;
      case 0x24: a = Math.imul(a, k) >>> 0; break; // mul
      case 0x2c: a = Math.imul(a, x) >>> 0; break;
      case 0x34: a = Math.floor(a / k) >>> 0; break; // div #k: k != 0 (verify())
      case 0x3c: // div x: the kernel's conversion returns 0 from the whole filter when X = 0
        if (x === 0) {
          observer?.step(pc, a, x);
          return 0;
        }
        a = Math.floor(a / x) >>> 0;
        break;
      case 0x44: a = (a | k) >>> 0; break; // or
      case 0x4c: a = (a | x) >>> 0; break;
      case 0x54: a = (a & k) >>> 0; break; // and
      case 0x5c: a = (a & x) >>> 0; break;
      case 0x64: a = (a << k) >>> 0; break; // lsh #k: k < 32 (verify())
      case 0x6c: a = (a << (x & 31)) >>> 0; break; // lsh x: by X mod 32, as the kernel and its x86-64 JIT do
      case 0x74: a = a >>> k; break; // rsh #k: k < 32 (verify())
      case 0x7c: a = a >>> (x & 31); break; // rsh x: by X mod 32
      case 0x84: a = (0x100000000 - a) >>> 0; break; // neg
      case 0xa4: a = (a ^ k) >>> 0; break; // xor
      case 0xac: a = (a ^ x) >>> 0; break;
      case 0x07: x = a; break; // tax
      case 0x87: a = x; break; // txa
      case 0x05: next = pc + 1 + k; break; // ja
      case 0x15: next = pc + 1 + (a === k ? jt : jf); break; // jeq #k
      case 0x1d: next = pc + 1 + (a === x ? jt : jf); break;
      case 0x25: next = pc + 1 + (a > k ? jt : jf); break; // jgt: unsigned, as A, X and k all are
      case 0x2d: next = pc + 1 + (a > x ? jt : jf); break;
      case 0x35: next = pc + 1 + (a >= k ? jt : jf); break; // jge
      case 0x3d: next = pc + 1 + (a >= x ? jt : jf); break;
      case 0x45: next = pc + 1 + ((a & k) !== 0 ? jt : jf); break; // jset
      case 0x4d: next = pc + 1 + ((a & x) !== 0 ? jt : jf); break;
      case 0x06: // ret #k
        observer?.step(pc, a, x);
        return k;
      case 0x16: // ret a
        observer?.step(pc, a, x);
        return a;
      default:
        throw new Error(`unreachable: opcode 0x${code.toString(16)} passed verify()`);
    }
    observer?.step(pc, a, x);
    pc = next;
  }
}

/** `record` as a DataView, once it is known to be exactly one 64-byte record. */
function view(record: Uint8Array): DataView {
  checkRecord(record);
  return new DataView(record.buffer, record.byteOffset, SECCOMP_DATA_SIZE);
}

const isU32 = (n: number): boolean => n >>> 0 === n;

/** Throws unless `start` could be a state of `program`: a pc inside it, u32 A and X, 16 words of M (O(1): interpretFrom runs per record). */
function checkResumePoint(program: VerifiedProgram, start: ResumePoint): void {
  const { pc, a, x, m } = start;
  if (!(Number.isInteger(pc) && pc >= 0 && pc < program.instructions.length)) {
    throw new InputError('resume-point', `resume pc ${pc} is outside the program (length ${program.instructions.length})`);
  }
  if (!isU32(a) || !isU32(x) || m.length !== 16)
    throw new InputError('resume-point', `a resume point needs u32 A and X and 16 words of M, got A ${a}, X ${x}, ${m.length} words`);
}

/**
 * The value `program` returns for the 64-byte `record`, read in `byteOrder`.
 * @throws InputError `record-size` unless `record` is exactly 64 bytes,
 * `byte-order` unless `byteOrder` is 'le' or 'be'.
 */
export function interpret(program: VerifiedProgram, record: Uint8Array, byteOrder: ByteOrder): number {
  return execute(program, view(record), littleEndian(byteOrder));
}

/**
 * The value of the run that starts at `start` rather than at pc 0: a resume
 * point of the decision tables (src/decision-table.ts), which vouch that a run
 * from pc 0 passes there with that state for this record's arch and nr.
 * @throws InputError `record-size`, `byte-order` as `interpret` does, and
 * `resume-point` for a start that is no state of `program` (its pc outside
 * it, M not 16 words).
 */
export function interpretFrom(program: VerifiedProgram, record: Uint8Array, byteOrder: ByteOrder, start: ResumePoint): number {
  checkResumePoint(program, start);
  return execute(program, view(record), littleEndian(byteOrder), undefined, start);
}

/** A filter's value on a record, and how many of its instructions ran to reach it: what the kernel executes for that syscall. */
export interface CountedRun {
  readonly value: number;
  readonly instructions: number;
}

/**
 * Like `interpret`, and also how many instructions ran (the return included).
 * @throws InputError `record-size` or `byte-order`, as `interpret` does.
 */
export function interpretCounting(program: VerifiedProgram, record: Uint8Array, byteOrder: ByteOrder): CountedRun {
  let instructions = 0;
  const value = execute(program, view(record), littleEndian(byteOrder), {
    step: () => {
      instructions++;
    },
    read: () => {},
  });
  return { value, instructions };
}

/**
 * Like `interpret`, and also every executed pc with A and X after it, and the words read.
 * @throws InputError `record-size` or `byte-order`, as `interpret` does.
 */
export function interpretWithTrace(program: VerifiedProgram, record: Uint8Array, byteOrder: ByteOrder): Trace {
  const steps: TraceStep[] = [];
  const wordsRead: number[] = [];
  const value = execute(program, view(record), littleEndian(byteOrder), {
    step: (pc, a, x) => void steps.push({ pc, a, x }),
    read: (offset) => void wordsRead.push(offset),
  });
  return { value, steps, wordsRead };
}
