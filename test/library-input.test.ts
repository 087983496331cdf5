/**
 * Every library entry point that takes record bytes, a batch or other caller
 * values refuses a bad one with InputError and its code, never a RangeError,
 * a wrong answer, or bytes left over from an earlier call.
 */

import { describe, expect, it } from 'vitest';
import { interpret, interpretFrom, interpretWithTrace } from '../interp/interpret.js';
import { interpretBatch, interpretStack } from '../interp/stack.js';
import { compile, decideRecords } from '../jit/compiled.js';
import { moduleEngine } from '../jit/instance.js';
import { assemble } from '../src/codecs/asm.js';
import { InputError, type InputErrorCode } from '../src/errors.js';
import { InputError as PublicInputError } from '../src/index.js';
import { kernelDecide } from '../src/kernel/oracle.js';
import { ACTIONS } from '../src/seccomp/actions.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { halfOffset, SECCOMP_DATA_SIZE, wordName } from '../src/seccomp/data.js';
import {
  decodeSeccompData,
  encodeSeccompData,
  packRecords,
  type RecordBatch,
  readRecordStream,
  recordByteOrder,
  recordBytes,
  type SeccompData,
  writeSeccompData,
} from '../src/seccomp/records.js';
import { verify } from '../src/verifier.js';
import { thrownBy } from './helpers.js';

const X86_64 = 0xc000003e;
const READ = 0;
/** ALLOW for read (nr 0) on x86_64, KILL_PROCESS for anything else, a zeroed record included (arch 0). */
const filter = verify(
  assemble(`
  ld [arch]
  jeq #${X86_64}, 2, 5
  ld [nr]
  jeq #${READ}, 4, 5
  ret ALLOW
  ret KILL_PROCESS
`),
);
const compiled = compile(filter);
const readRecord = encodeSeccompData({ nr: READ, arch: X86_64, instructionPointer: 0n, args: [] });
const start = { pc: 0, a: 0, x: 0, m: new Array<number>(16).fill(0) };

/** `size` bytes of well-formed x86_64 read records, cut or padded to that length. */
const bytesOf = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size);
  for (let at = 0; at + SECCOMP_DATA_SIZE <= size; at += SECCOMP_DATA_SIZE) bytes.set(readRecord, at);
  return bytes;
};

/** A batch of `bytes` bytes (see bytesOf) that says it holds `count` records, with `orders` byte orders. */
const batchOf = (bytes: number, count: number, orders = count): RecordBatch => ({
  bytes: bytesOf(bytes),
  count,
  bigEndian: new Uint8Array(Math.max(0, orders)),
});

describe('InputError', () => {
  it('is a CbpfError exported from the public barrel', () => {
    expect(PublicInputError).toBe(InputError);
    expect(new InputError('record-size', 'x')).toMatchObject({ name: 'InputError', code: 'record-size' });
  });
});

describe('entry points that take one 64-byte record', () => {
  const entryPoints: { name: string; run: (record: Uint8Array) => unknown }[] = [
    { name: 'interpret', run: (r) => interpret(filter, r, 'le') },
    { name: 'interpretWithTrace', run: (r) => interpretWithTrace(filter, r, 'le') },
    { name: 'interpretFrom', run: (r) => interpretFrom(filter, r, 'le', start) },
    { name: 'interpretStack', run: (r) => interpretStack([filter], r, 'le') },
    { name: 'CompiledFilter.decide', run: (r) => compiled.decide(r) },
    { name: 'CompiledFilter.decideFilter', run: (r) => compiled.decideFilter(0, r) },
  ];
  const sizes: { description: string; size: number }[] = [
    { description: 'an empty buffer', size: 0 },
    { description: '63 bytes', size: 63 },
    { description: '65 bytes', size: 65 },
    { description: 'two records (128 bytes)', size: 128 },
    { description: 'two records and a byte (129 bytes)', size: 129 },
  ];
  const cases = entryPoints.flatMap((entry) => sizes.map((size) => ({ ...entry, ...size })));

  it.each(cases)('$name refuses $description with record-size', ({ run, size }) => {
    const error = thrownBy(() => run(bytesOf(size)));
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'record-size' });
  });

  it.each(entryPoints)('$name accepts exactly 64 bytes', ({ run }) => {
    expect(() => run(bytesOf(64))).not.toThrow();
  });
});

describe('CompiledFilter.decide after an earlier record', () => {
  it('throws for a short buffer instead of deciding the bytes of the record before', () => {
    expect(compiled.decide(readRecord)).toBe(ACTIONS.ALLOW);
    for (const short of [new Uint8Array(0), readRecord.subarray(0, 63), new Uint8Array(8)]) {
      expect(thrownBy(() => compiled.decide(short))).toMatchObject({ code: 'record-size' });
    }
    expect(compiled.decide(new Uint8Array(64))).toBe(ACTIONS.KILL_PROCESS);
    expect(interpret(filter, new Uint8Array(64), 'le')).toBe(ACTIONS.KILL_PROCESS);
  });

  it('decides from the record it is given after memory has grown for a large batch', () => {
    expect(compiled.decide(readRecord)).toBe(ACTIONS.ALLOW);
    compiled.recordSlots(4 * compiled.capacity + 1); // grows wasm memory, which detaches views made before
    expect(compiled.decide(new Uint8Array(64))).toBe(ACTIONS.KILL_PROCESS);
    expect(compiled.decideFilter(0, readRecord)).toBe(ACTIONS.ALLOW);
  });
});

describe('entry points that take the bytes of whole records', () => {
  const entryPoints: { name: string; run: (bytes: Uint8Array) => unknown }[] = [
    { name: 'CompiledFilter.decideBatch', run: (b) => compiled.decideBatch(b) },
    { name: 'CompiledFilter.decideInSlots', run: (b) => compiled.decideInSlots(b, 0) },
    { name: 'decodeSeccompData', run: (b) => decodeSeccompData(b, 'le') },
  ];
  const sizes: { description: string; size: number }[] = [
    { description: '63 bytes', size: 63 },
    { description: '65 bytes', size: 65 },
    { description: '64*3+1 bytes', size: 3 * 64 + 1 },
    { description: '64*3-1 bytes', size: 3 * 64 - 1 },
  ];
  const cases = entryPoints.flatMap((entry) => sizes.map((size) => ({ ...entry, ...size })));

  it.each(cases)('$name refuses $description with batch-size', ({ run, size }) => {
    const error = thrownBy(() => run(bytesOf(size)));
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'batch-size' });
  });

  it('decideBatch decides an empty batch as no decisions, and three records as three', () => {
    expect([...compiled.decideBatch(new Uint8Array(0))]).toEqual([]);
    expect([...compiled.decideBatch(bytesOf(3 * 64))]).toEqual([ACTIONS.ALLOW, ACTIONS.ALLOW, ACTIONS.ALLOW]);
  });
});

describe('entry points that take a RecordBatch', () => {
  const le = { le: compiled.module };
  const entryPoints: { name: string; run: (batch: RecordBatch) => unknown }[] = [
    { name: 'decideRecords', run: (b) => decideRecords([filter], b) },
    { name: 'interpretBatch', run: (b) => interpretBatch([filter], b) },
    { name: 'moduleEngine().decide', run: (b) => moduleEngine(le, 1).decide(b) },
    { name: 'kernelDecide', run: (b) => kernelDecide(filter.instructions, b) }, // refused before the kernel is asked
  ];
  const batches: { description: string; batch: RecordBatch; code: InputErrorCode }[] = [
    { description: 'no bytes, said to hold a record', batch: batchOf(0, 1), code: 'batch-count' },
    { description: '63 bytes', batch: batchOf(63, 1), code: 'batch-size' },
    { description: '65 bytes', batch: batchOf(65, 1), code: 'batch-size' },
    { description: '64*2+1 bytes (a trailing partial record)', batch: batchOf(2 * 64 + 1, 2), code: 'batch-size' },
    { description: 'a count above its records', batch: batchOf(2 * 64, 3), code: 'batch-count' },
    { description: 'a count below its records', batch: batchOf(2 * 64, 1), code: 'batch-count' },
    { description: 'fewer byte orders than records', batch: batchOf(2 * 64, 2, 1), code: 'batch-count' },
    { description: 'more byte orders than records', batch: batchOf(2 * 64, 2, 3), code: 'batch-count' },
    { description: 'a negative count', batch: batchOf(0, -1, 0), code: 'batch-count' },
    { description: 'a fractional count', batch: { bytes: bytesOf(64), count: 1.5, bigEndian: new Uint8Array(1) }, code: 'batch-count' },
  ];
  const cases = entryPoints.flatMap((entry) => batches.map((batch) => ({ ...entry, ...batch })));

  it.each(cases)('$name refuses a batch of $description with $code', ({ run, batch, code }) => {
    const error = thrownBy(() => run(batch));
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code });
  });

  it.each(entryPoints.filter((e) => e.name !== 'kernelDecide'))('$name decides an empty batch and a whole one', ({ run }) => {
    expect([...(run(batchOf(0, 0)) as Uint32Array)]).toEqual([]);
    expect([...(run(batchOf(2 * 64, 2)) as Uint32Array)]).toEqual([ACTIONS.ALLOW, ACTIONS.ALLOW]);
  });
});

describe('other caller values', () => {
  const ok: SeccompData = { nr: READ, arch: X86_64, instructionPointer: 0n, args: [] };
  const batch = batchOf(2 * 64, 2);
  const cases: { description: string; run: () => unknown; code: InputErrorCode }[] = [
    // seccomp_data fields
    { description: 'encodeSeccompData: nr above u32', run: () => encodeSeccompData({ ...ok, nr: 2 ** 32 }), code: 'field-range' },
    { description: 'encodeSeccompData: nr below s32', run: () => encodeSeccompData({ ...ok, nr: -(2 ** 31) - 1 }), code: 'field-range' },
    { description: 'encodeSeccompData: fractional nr', run: () => encodeSeccompData({ ...ok, nr: 1.5 }), code: 'field-range' },
    { description: 'encodeSeccompData: negative arch', run: () => encodeSeccompData({ ...ok, arch: -1 }, 'le'), code: 'field-range' },
    { description: 'encodeSeccompData: arch above u32', run: () => encodeSeccompData({ ...ok, arch: 2 ** 32 }, 'le'), code: 'field-range' },
    { description: 'encodeSeccompData: negative ip', run: () => encodeSeccompData({ ...ok, instructionPointer: -1n }), code: 'field-range' },
    { description: 'encodeSeccompData: ip above u64', run: () => encodeSeccompData({ ...ok, instructionPointer: 2n ** 64n }), code: 'field-range' },
    { description: 'encodeSeccompData: ip a number', run: () => encodeSeccompData({ ...ok, instructionPointer: 5 as unknown as bigint }), code: 'field-range' },
    { description: 'encodeSeccompData: seven arguments', run: () => encodeSeccompData({ ...ok, args: [0n, 0n, 0n, 0n, 0n, 0n, 0n] }), code: 'arg-count' },
    { description: 'encodeSeccompData: a negative argument', run: () => encodeSeccompData({ ...ok, args: [0n, -1n] }), code: 'field-range' },
    { description: 'encodeSeccompData: an argument above u64', run: () => encodeSeccompData({ ...ok, args: [2n ** 64n] }), code: 'field-range' },
    { description: 'encodeSeccompData: an unknown byte order', run: () => encodeSeccompData(ok, 'LE' as ByteOrder), code: 'byte-order' },
    { description: 'packRecords: a field out of range', run: () => packRecords([ok, { ...ok, nr: 2 ** 40 }]), code: 'field-range' },
    {
      description: 'writeSeccompData: no room for 64 bytes',
      run: () => writeSeccompData(new DataView(new ArrayBuffer(63)), 0, ok, 'le'),
      code: 'record-offset',
    },
    {
      description: 'writeSeccompData: an offset past the end',
      run: () => writeSeccompData(new DataView(new ArrayBuffer(128)), 65, ok, 'le'),
      code: 'record-offset',
    },
    // records within bytes and batches
    { description: 'decodeSeccompData: no record in an empty buffer', run: () => decodeSeccompData(new Uint8Array(0), 'le'), code: 'record-offset' },
    { description: 'decodeSeccompData: an offset inside a record', run: () => decodeSeccompData(bytesOf(128), 'le', 32), code: 'record-offset' },
    { description: 'decodeSeccompData: an offset at the end', run: () => decodeSeccompData(bytesOf(128), 'le', 128), code: 'record-offset' },
    { description: 'recordBytes: an index past the batch', run: () => recordBytes(batch, 2), code: 'record-index' },
    { description: 'recordBytes: a negative index', run: () => recordBytes(batch, -1), code: 'record-index' },
    { description: 'recordByteOrder: a fractional index', run: () => recordByteOrder(batch, 0.5), code: 'record-index' },
    // byte orders
    { description: "interpret: byte order 'LE'", run: () => interpret(filter, readRecord, 'LE' as ByteOrder), code: 'byte-order' },
    { description: 'interpret: no byte order', run: () => interpret(filter, readRecord, undefined as unknown as ByteOrder), code: 'byte-order' },
    { description: 'interpretWithTrace: an unknown byte order', run: () => interpretWithTrace(filter, readRecord, 'big' as ByteOrder), code: 'byte-order' },
    { description: 'interpretStack: an unknown byte order', run: () => interpretStack([filter], readRecord, 'x' as ByteOrder), code: 'byte-order' },
    { description: 'compile: an unknown byte order', run: () => compile(filter, { byteOrder: 'x' as ByteOrder }), code: 'byte-order' },
    { description: 'readRecordStream: an unknown byte order', run: () => readRecordStream(bytesOf(64), 'x' as ByteOrder), code: 'byte-order' },
    { description: 'halfOffset: an unknown byte order', run: () => halfOffset(16, 'lo', 'x' as ByteOrder), code: 'byte-order' },
    { description: 'wordName: an unknown byte order', run: () => wordName(0, 'x' as ByteOrder), code: 'byte-order' },
    {
      description: 'moduleEngine: records in a byte order with no module',
      run: () => moduleEngine({ le: compiled.module }, 1).decide({ ...batch, bigEndian: new Uint8Array([1, 1]) }),
      code: 'byte-order',
    },
    // stacks and filters
    { description: 'compile: an empty stack', run: () => compile([]), code: 'empty-stack' },
    { description: 'decideRecords: an empty stack', run: () => decideRecords([], batch), code: 'empty-stack' },
    { description: 'interpretStack: an empty stack', run: () => interpretStack([], readRecord, 'le'), code: 'empty-stack' },
    { description: 'interpretBatch: an empty stack', run: () => interpretBatch([], batch), code: 'empty-stack' },
    { description: 'decideFilter: an index past the stack', run: () => compiled.decideFilter(1, readRecord), code: 'filter-index' },
    { description: 'decideFilter: a negative index', run: () => compiled.decideFilter(-1, readRecord), code: 'filter-index' },
    {
      description: 'interpretFrom: a resume pc past the program',
      run: () => interpretFrom(filter, readRecord, 'le', { ...start, pc: 6 }),
      code: 'resume-point',
    },
    {
      description: 'interpretFrom: a resume M of 15 words',
      run: () => interpretFrom(filter, readRecord, 'le', { ...start, m: start.m.slice(1) }),
      code: 'resume-point',
    },
    // record slots and outputs
    {
      description: 'decideSlots: more records than the slots',
      run: () => {
        compiled.recordSlots(3);
        return compiled.decideSlots(compiled.capacity + 1);
      },
      code: 'slot-count',
    },
    { description: 'decideSlots: a negative count', run: () => compiled.decideSlots(-1), code: 'slot-count' },
    { description: 'recordSlots: a fractional count', run: () => compiled.recordSlots(1.5), code: 'slot-count' },
    { description: 'decideInSlots: a count above the records given', run: () => compiled.decideInSlots(bytesOf(128), 3), code: 'batch-count' },
    { description: 'decideBatch: an output array too short', run: () => compiled.decideBatch(bytesOf(128), new Uint32Array(1)), code: 'output-size' },
  ];

  it.each(cases)('$description: $code', ({ run, code }) => {
    const error = thrownBy(run);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code });
  });

  it('accepts nr in either spelling of its 32 bits, and up to six arguments', () => {
    const asU32 = encodeSeccompData({ ...ok, nr: 0xffffffff });
    expect(asU32).toEqual(encodeSeccompData({ ...ok, nr: -1 }));
    expect(decodeSeccompData(asU32, 'le')).toMatchObject({ nr: -1 });
    const six = [1n, 2n, 3n, 4n, 5n, 2n ** 64n - 1n];
    expect(decodeSeccompData(encodeSeccompData({ ...ok, args: six }), 'le').args).toEqual(six);
  });
});
