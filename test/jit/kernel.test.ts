import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { argumentHeavyFilter, largeFilter } from '../../bench/synthetic.js';
import { interpret } from '../../interp/interpret.js';
import { interpretBatch } from '../../interp/stack.js';
import { KERNEL_WASM_BASE64 } from '../../jit/kernel.generated.js';
import { buildKernel } from '../../jit/kernel.js';
import { KERNEL_MEMORY, MAX_MEMORY_PAGES, pagesFor, TABLE_OFFSET } from '../../jit/layout-abi.js';
import { layoutTables, ROW_COUNTER, TABLE_HEADER, type TableLayout } from '../../jit/table-layout.js';
import { assemble } from '../../src/codecs/asm.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { decisionTable } from '../../src/decision-table.js';
import { formatAsm } from '../../src/disasm.js';
import { biasedRecords, generateProgram } from '../../src/fuzz/programs.js';
import { int, pick, seededRandom } from '../../src/fuzz/random.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { hexValue } from '../../src/seccomp/actions.js';
import type { ByteOrder } from '../../src/seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../../src/seccomp/data.js';
import { encodeSeccompData, packRecords, recordByteOrder, recordBytes, type SeccompData } from '../../src/seccomp/records.js';
import { type VerifiedProgram, verify } from '../../src/verifier.js';
import { loadCorpus } from '../conformance/corpus.js';

const sample = (name: string) => verify(decodeRaw(readFileSync(SAMPLE_FILTERS.find((s) => s.name === name)!.path)));
const X86_64 = 0xc000003e;
const I386 = 0x40000003;

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly heap_base: WebAssembly.Global;
  readonly decide: (record: number) => number;
  readonly decide_batch: (input: number, count: number, output: number) => void;
  readonly decide_count: (input: number, count: number, output: number) => number;
}

interface Kernel {
  readonly exports: KernelExports;
  readonly layout: TableLayout;
}

const kernelModule = new WebAssembly.Module(Buffer.from(KERNEL_WASM_BASE64, 'base64'));

function growTo(memory: WebAssembly.Memory, bytes: number): void {
  const needed = bytes - memory.buffer.byteLength;
  if (needed > 0) memory.grow(pagesFor(needed));
}

/** The kernel for a stack, loaded as jit/instance.ts is to load it: the table block at TABLE_OFFSET, the byte order set, heap_base past the block. */
function loadKernel(filters: readonly VerifiedProgram[], byteOrder: ByteOrder, layout = layoutTables(decisionTable(filters), filters)): Kernel {
  const end = TABLE_OFFSET + layout.bytes.length;
  const memory = new WebAssembly.Memory({ initial: pagesFor(end), maximum: MAX_MEMORY_PAGES });
  const exports = new WebAssembly.Instance(kernelModule, { [KERNEL_MEMORY.module]: { [KERNEL_MEMORY.name]: memory } }).exports as unknown as KernelExports;
  new Uint8Array(exports.memory.buffer).set(layout.bytes, TABLE_OFFSET);
  new DataView(exports.memory.buffer).setUint32(TABLE_OFFSET + TABLE_HEADER.bigEndian, byteOrder === 'be' ? 1 : 0, true);
  exports.heap_base.value = Math.ceil(end / SECCOMP_DATA_SIZE) * SECCOMP_DATA_SIZE;
  return { exports, layout };
}

/** Copies `records` to heap_base: where they are, and where their values go. */
function placeRecords({ exports }: Kernel, records: Uint8Array): { at: number; out: number; count: number } {
  const at = exports.heap_base.value as number;
  const out = at + records.length;
  const count = records.length / SECCOMP_DATA_SIZE;
  growTo(exports.memory, out + 4 * count);
  new Uint8Array(exports.memory.buffer).set(records, at);
  return { at, out, count };
}

/** decide_batch's values for `records`, copied in past heap_base. */
function decideBatch(kernel: Kernel, records: Uint8Array): Uint32Array {
  const { at, out, count } = placeRecords(kernel, records);
  kernel.exports.decide_batch(at, count, out);
  return new Uint32Array(kernel.exports.memory.buffer, out, count).slice();
}

/** `records` with each 32-bit word byte-swapped: the same words, read big-endian. */
function swapWords(records: Uint8Array): Uint8Array {
  const swapped = new Uint8Array(records.length);
  const from = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const to = new DataView(swapped.buffer);
  for (let at = 0; at < records.length; at += 4) to.setUint32(at, from.getUint32(at, true), false);
  return swapped;
}

/**
 * `records` (x86_64, little-endian) with some arches and numbers changed, so that
 * the tables' edges are crossed: other arches the stack may tabulate, an arch
 * none does, numbers past the tables, x32's, and -1.
 */
function crossTables(records: Uint8Array, seed: number): Uint8Array {
  const out = records.slice();
  const view = new DataView(out.buffer);
  const random = seededRandom(seed);
  for (let at = 0; at < out.length; at += SECCOMP_DATA_SIZE) {
    if (random() < 0.3) view.setUint32(at + SECCOMP_DATA_ARCH, pick(random, [I386, 0x40000000 | 62, 0xc00000b7, 0x12345678]), true);
    if (random() < 0.2) view.setUint32(at + SECCOMP_DATA_NR, pick(random, [1023, 1024, 5000, 0x40000000 | int(random, 0, 600), 0xffffffff]), true);
  }
  return out;
}

/** The first record the kernel decides unlike the interpreter, as a report: the filters, the record, both values (or '' when none). */
function differenceFromInterpreter(filters: readonly VerifiedProgram[], records: Uint8Array, byteOrder: ByteOrder, context = '', layout?: TableLayout): string {
  const count = records.length / SECCOMP_DATA_SIZE;
  const actual = decideBatch(loadKernel(filters, byteOrder, layout), records);
  const expected = interpretBatch(filters, { bytes: records, count, bigEndian: new Uint8Array(count).fill(byteOrder === 'be' ? 1 : 0) });
  const i = actual.findIndex((value, i) => value !== expected[i]);
  if (i === -1) return '';
  const programs = filters.map((f, n) => `filter ${n + 1} of ${filters.length} (oldest first):\n${formatAsm(f.instructions)}`).join('');
  const record = Buffer.from(records.subarray(i * SECCOMP_DATA_SIZE, (i + 1) * SECCOMP_DATA_SIZE)).toString('hex');
  return `${context}${programs}record ${i} (${byteOrder}): ${record}\nthe kernel says ${hexValue(actual[i]!)}, the interpreter says ${hexValue(expected[i]!)}\n`;
}

const BYTE_ORDERS: readonly ByteOrder[] = ['le', 'be'];

/** `records` as the records of `byteOrder`. */
const inOrder = (records: Uint8Array, byteOrder: ByteOrder) => (byteOrder === 'le' ? records : swapWords(records));

describe('the table kernel', () => {
  it('is the build of jit/kernel.ts', () => {
    const built = Buffer.from(buildKernel()).toString('base64') === KERNEL_WASM_BASE64;
    expect(built, 'jit/kernel.generated.ts is out of date: run npx tsc -p . && node scripts/gen-kernel.js').toBe(true);
  });

  it('imports its memory, and exports it, a mutable heap_base and the three deciders', () => {
    expect(WebAssembly.Module.imports(kernelModule)).toEqual([{ module: KERNEL_MEMORY.module, name: KERNEL_MEMORY.name, kind: 'memory' }]);
    const { exports } = loadKernel([sample('allowlist-small')], 'le');
    expect(Object.keys(exports)).toEqual(['memory', 'heap_base', 'decide', 'decide_batch', 'decide_count']);
    exports.heap_base.value = 0x123400; // a constant global would throw
    expect(exports.heap_base.value).toBe(0x123400);
  });

  const stacks: [string, () => VerifiedProgram[], number][] = [
    ...SAMPLE_FILTERS.map((s): [string, () => VerifiedProgram[], number] => [s.name, () => [sample(s.name)], 20_000]),
    ['argument-heavy', () => [argumentHeavyFilter()], 20_000],
    ['large', () => [largeFilter()], 2_000],
    ['multiarch, docker-tree', () => [sample('multiarch'), sample('docker-tree')], 10_000],
    ['allowlist-small, argument-heavy, docker-linear', () => [sample('allowlist-small'), argumentHeavyFilter(), sample('docker-linear')], 10_000],
  ];
  it.each(stacks.flatMap(([name, filters, count]) => BYTE_ORDERS.map((order) => [name, order, filters, count] as const)))(
    'decides realistic and random records of %s, %s, as the interpreter',
    (_, byteOrder, filters, count) => {
      const stack = filters();
      for (const [mix, seed] of [
        ['realistic', 3],
        ['random', 4],
      ] as const) {
        const records = inOrder(crossTables(generateRecords(count, mix, seed), seed), byteOrder);
        expect(differenceFromInterpreter(stack, records, byteOrder, `${mix} records, seed ${seed}\n`)).toBe('');
      }
    },
  );

  it('decides generated programs and stacks of them as the interpreter, in both byte orders', () => {
    const seed = 29;
    const random = seededRandom(seed);
    const codes = new Set<number>();
    for (let run = 0; run < 120; run++) {
      const filters = Array.from({ length: int(random, 1, 3) }, () => verify(generateProgram(random)));
      for (const f of filters) for (const insn of f.instructions) codes.add(insn.code);
      const layout = layoutTables(decisionTable(filters), filters);
      const data = biasedRecords(
        filters.flatMap((f) => [...f.instructions]),
        random,
        100,
        'any',
      );
      for (const byteOrder of BYTE_ORDERS) {
        const records = new Uint8Array(data.flatMap((d) => [...encodeSeccompData(d, byteOrder)]));
        expect(differenceFromInterpreter(filters, records, byteOrder, `seed ${seed}, run ${run}\n`, layout)).toBe('');
      }
    }
    expect(codes.size).toBe(41); // every opcode seccomp allows is among them
  });

  const call = (nr: number, args: bigint[] = [], arch = X86_64): SeccompData => ({ nr, arch, instructionPointer: 0x401000n, args });
  /** The programs' records: 32-bit arguments, each in both halves so that `ld [16 + 8i]` reads it in either byte order. */
  const programs: [string, string[], SeccompData[]][] = [
    [
      'every ALU op on K and X, neg, tax and txa',
      [
        'ld [16]',
        'tax',
        'ld [24]',
        'add x',
        'add #7',
        'sub x',
        'sub #3',
        'mul x',
        'mul #0x9e3779b9',
        'or x',
        'or #0x100',
        'and x',
        'and #0xfffff0ff',
        'xor x',
        'xor #0xa5a5a5a5',
        'lsh #3',
        'lsh x',
        'rsh #1',
        'rsh x',
        'div #7',
        'neg',
        'txa',
        'ret a',
      ],
      [call(0, [0n, 0n]), call(0, [5n, 9n]), call(0, [33n, 0xffffffffn]), call(0, [0xffffffffn, 0x80000000n]), call(0, [31n, 32n])],
    ],
    [
      'div x by 0 returns 0 from the filter, and by other X divides',
      ['ld [16]', 'tax', 'ld [0]', 'div x', 'ret a'],
      [call(100, [0n]), call(100, [7n]), call(0xffffffff, [1n]), call(5, [6n])],
    ],
    [
      'scratch loads and stores, ld #len and ldx #len',
      ['ld #len', 'st M[3]', 'ldx #len', 'stx M[15]', 'ld [16]', 'st M[0]', 'ld M[15]', 'ldx M[0]', 'add x', 'tax', 'ld M[3]', 'add x', 'ret a'],
      [call(1, [0n]), call(2, [0xffffff80n])],
    ],
    [
      'a resume point brings back every M[k] stored before it, and a store changes the M of the run, not of the resume point',
      [
        ...Array.from({ length: 16 }, (_, k) => [`ld #${1 << k}`, `st M[${k}]`]).flat(),
        'ld [4]',
        'jeq #0xc000003e, x86, kill',
        'x86: ld [0]',
        'jeq #1, args, allow',
        'args: ld [16]', // nr 1 resumes here, with M[] as stored above
        'jeq #0, sum, change',
        'change: st M[3]',
        'ldx M[15]',
        'stx M[14]',
        'sum: ld M[0]',
        ...Array.from({ length: 15 }, (_, k) => [`ldx M[${k + 1}]`, 'add x']).flat(),
        'ret a',
        'allow: ret ALLOW',
        'kill: ret KILL_PROCESS',
      ],
      [...[0n, 5n, 0n, 0x10000n, 0n].map((arg) => call(1, [arg])), call(2, [0n]), call(1, [0n], I386)],
    ],
    [
      'jumps on K and X, unsigned, and ja',
      [
        'ld [16]',
        'ldx #0x80000000',
        'jgt x, big, small',
        'big: jge #0xffffffff, top, mid',
        'top: ret #1',
        'mid: jset #1, odd, even',
        'odd: ret #2',
        'even: ja done',
        'small: jeq #5, five, other',
        'five: ret #3',
        'other: jset x, setx, notset',
        'setx: ret #6',
        'notset: jge x, never, below',
        'below: ldx #4',
        'jeq x, four, lower',
        'four: ret #7',
        'lower: txa',
        'ret a',
        'never: ret #4',
        'done: ret #5',
      ],
      [0xffffffffn, 0x80000001n, 0x80000002n, 5n, 6n, 0x80000000n, 4n].map((arg) => call(0, [arg])),
    ],
  ];
  it.each(programs.flatMap(([name, lines, calls]) => BYTE_ORDERS.map((order) => [name, order, lines, calls] as const)))(
    '%s, %s',
    (_, byteOrder, lines, calls) => {
      const filter = verify(assemble(lines.join('\n')));
      const both = (arg: bigint) => (arg << 32n) | arg;
      const records = new Uint8Array(calls.flatMap((c) => [...encodeSeccompData({ ...c, args: c.args.map(both) }, byteOrder)]));
      expect(differenceFromInterpreter([filter], records, byteOrder)).toBe('');
    },
  );

  it.each(BYTE_ORDERS)('gives the same values through decide as through decide_batch, %s', (byteOrder) => {
    const stack = [sample('multiarch'), argumentHeavyFilter()];
    const kernel = loadKernel(stack, byteOrder);
    const records = inOrder(crossTables(generateRecords(2_000, 'random', 8), 8), byteOrder);
    const batch = decideBatch(kernel, records);
    const { at } = placeRecords(kernel, records);
    const single = Uint32Array.from(batch, (_, i) => kernel.exports.decide(at + i * SECCOMP_DATA_SIZE));
    expect([...single]).toEqual([...batch]);
  });

  it.each(loadCorpus().filter((c) => !c.rejected))('decides the conformance case $name ($where)', (c) => {
    const filters = c.programs.map((p) => verify(p));
    const batch = packRecords(c.records);
    const kernels = new Map<ByteOrder, Kernel>();
    const got = Array.from({ length: batch.count }, (_, i) => {
      const byteOrder = recordByteOrder(batch, i);
      const kernel = kernels.get(byteOrder) ?? loadKernel(filters, byteOrder);
      kernels.set(byteOrder, kernel);
      return decideBatch(kernel, recordBytes(batch, i))[0];
    });
    expect(got, c.programs.map((p, i) => `filter ${i + 1}:\n${formatAsm(p)}`).join('')).toEqual(c.expected);
  });

  describe('decide_count', () => {
    const x86 = (nr: number, args: bigint[] = []) => encodeSeccompData(call(nr, args), 'le');
    const filter = sample('docker-linear');
    /** Row address of x86_64 syscall `nr`. */
    const rowOf = ({ layout }: Kernel, nr: number) => layout.offsets[0]! + nr * layout.stride;
    const counterOf = (kernel: Kernel, nr: number) => rowOf(kernel, nr) + kernel.layout.counterAt;
    const settle = (kernel: Kernel, nr: number, value: number) => {
      const view = new DataView(kernel.exports.memory.buffer);
      view.setUint32(counterOf(kernel, nr) + ROW_COUNTER.value, value, true);
      view.setUint32(counterOf(kernel, nr) + ROW_COUNTER.settled, 1, true);
    };
    const countOf = (kernel: Kernel, nr: number) => new DataView(kernel.exports.memory.buffer).getBigUint64(counterOf(kernel, nr) + ROW_COUNTER.count, true);
    const stoppedRow = (kernel: Kernel) => new DataView(kernel.exports.memory.buffer).getUint32(TABLE_OFFSET + TABLE_HEADER.stoppedRow, true);
    const ALLOW = 0x7fff0000;
    const EPERM = 0x00050001;

    it('counts records of settled rows and stops at the first other, which it decides but does not count', () => {
      const kernel = loadKernel([filter], 'le');
      settle(kernel, 0, ALLOW); // read
      settle(kernel, 1, ALLOW); // write
      const records = new Uint8Array([...x86(0), ...x86(1), ...x86(0), ...x86(0), ...x86(257), ...x86(1)]);
      const { at, out, count } = placeRecords(kernel, records);
      expect(kernel.exports.decide_count(at, count, out)).toBe(4); // openat (257): its row is not settled
      expect(stoppedRow(kernel)).toBe(rowOf(kernel, 257));
      expect([...new Uint32Array(kernel.exports.memory.buffer, out, 5)]).toEqual([ALLOW, ALLOW, ALLOW, ALLOW, ALLOW]);
      expect([countOf(kernel, 0), countOf(kernel, 1), countOf(kernel, 257)]).toEqual([3n, 1n, 0n]);
      settle(kernel, 257, ALLOW);
      expect(kernel.exports.decide_count(at + 4 * SECCOMP_DATA_SIZE, 2, out + 16)).toBe(2);
      expect([countOf(kernel, 0), countOf(kernel, 1), countOf(kernel, 257)]).toEqual([3n, 2n, 1n]);
    });

    it('stops at a record whose value is not the one its row is settled on', () => {
      const kernel = loadKernel([filter], 'le');
      const socket = 41; // its value depends on the address family in args[0]
      settle(kernel, socket, ALLOW);
      const decided = decideBatch(kernel, new Uint8Array([...x86(socket, [2n]), ...x86(socket, [40n])]));
      expect(decided[0]).toBe(ALLOW);
      expect(decided[1]).not.toBe(ALLOW);
      const { at, out, count } = placeRecords(kernel, new Uint8Array([...x86(socket, [2n]), ...x86(socket, [40n]), ...x86(socket, [2n])]));
      expect(kernel.exports.decide_count(at, count, out)).toBe(1);
      expect(stoppedRow(kernel)).toBe(rowOf(kernel, socket));
      expect(new Uint32Array(kernel.exports.memory.buffer, out, 2)[1]).toBe(decided[1]);
      expect(countOf(kernel, socket)).toBe(1n);
    });

    it('stops with row 0 at a record outside the tables, and counts past 2^32', () => {
      const kernel = loadKernel([filter], 'le');
      settle(kernel, 0, ALLOW);
      new DataView(kernel.exports.memory.buffer).setBigUint64(counterOf(kernel, 0) + ROW_COUNTER.count, 0xffffffffn, true);
      const other = encodeSeccompData(call(0, [], I386), 'le');
      const { at, out, count } = placeRecords(kernel, new Uint8Array([...x86(0), ...x86(0), ...other]));
      new DataView(kernel.exports.memory.buffer).setUint32(TABLE_OFFSET + TABLE_HEADER.stoppedRow, 12345, true);
      expect(kernel.exports.decide_count(at, count, out)).toBe(2);
      expect(stoppedRow(kernel)).toBe(0);
      expect(new Uint32Array(kernel.exports.memory.buffer, out, 3)[2]).toBe(interpret(filter, other, 'le'));
      expect(countOf(kernel, 0)).toBe(0x100000001n);
    });

    it('decides as decide_batch does and counts every record of a settled row with its value, big-endian too', () => {
      const futex = 202;
      for (const byteOrder of BYTE_ORDERS) {
        const kernel = loadKernel([argumentHeavyFilter()], byteOrder);
        const records = generateRecords(5_000, 'realistic', 12);
        const expected = decideBatch(kernel, inOrder(records, byteOrder));
        const settled = [...Array.from({ length: 60 }, (_, nr) => [nr, ALLOW] as const), [futex, EPERM] as const];
        for (const [nr, value] of settled) settle(kernel, nr, value);
        const { at, out, count } = placeRecords(kernel, inOrder(records, byteOrder));
        let done = 0;
        while (done < count) {
          done += kernel.exports.decide_count(at + done * SECCOMP_DATA_SIZE, count - done, out + 4 * done);
          if (done < count) done++; // the record it stopped at, decided but not counted
        }
        expect([...new Uint32Array(kernel.exports.memory.buffer, out, count)]).toEqual([...expected]);
        const nrs = new Uint32Array(count).map((_, i) => new DataView(records.buffer).getUint32(i * SECCOMP_DATA_SIZE, true));
        const counts = settled.map(([nr, value]) => BigInt(expected.filter((v, i) => nrs[i] === nr && v === value).length));
        expect(settled.map(([nr]) => countOf(kernel, nr))).toEqual(counts);
        expect(counts[settled.length - 1]).toBeGreaterThan(0n);
      }
    });
  });
});
