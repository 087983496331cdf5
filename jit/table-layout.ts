/**
 * The decision tables as a module keeps them in memory, with no binaryen: a
 * block at TABLE_OFFSET that the JIT's modules and the generic table kernel
 * (kernel.ts) share, and that JavaScript reads back (counting.ts). All words
 * are little-endian u32s:
 *
 *   header       HEADER_BYTES: the fields of TABLE_HEADER
 *   arches       per tabulated arch, ARCH_ENTRY_BYTES: its audit value, its
 *                first syscall number, how many rows it has, where its rows start
 *   filters      per filter, FILTER_ENTRY_BYTES: where its instructions and its
 *                resume points are (the kernel runs them; the JIT compiles them in)
 *   rows         per syscall number of each arch, `stride` bytes: the stack's
 *                value (or NOT_CONSTANT), then per filter the entry number it
 *                runs from when the filters must run (0: from pc 0; n: its
 *                resume point n - 1, see src/decision-table.ts), then where a
 *                lone filter has chains (chains.ts) the address of the row's
 *                (0: none), then the row's summary counter (ROW_COUNTER)
 *   instructions per filter, 8 bytes each, as struct sock_filter
 *   resume points per filter, RESUME_POINT_BYTES each: pc, A, X, M[0..15]
 *   M            16 words of scratch for the kernel's filter runs
 *   chains       a lone filter's, where its rows have any: each padded to
 *                the header's chainLength tests
 *
 * The row counter is what `--summary` counts inside wasm: once JavaScript has
 * seen a record of a row and all the examples it wants of its value, it
 * settles the row on that value, and from then on records of the row with
 * that value are counted in the row without leaving wasm (counting.ts).
 */
import type { DecisionTable, ResumePoint } from '../src/decision-table.js';
import type { Instruction } from '../src/instruction.js';
import { BPF_K, BPF_RET } from '../src/opcodes.js';
import { resolveStack } from '../src/seccomp/actions.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { alignChain, CHAIN_TEST, CHAIN_TEST_BYTES, type Chain, chainColumns, chainFrom, layoutChains } from './chains.js';
import { TABLE_OFFSET } from './layout-abi.js';

/** Where each header field is, from the start of the block. */
export const TABLE_HEADER = {
  archCount: 0,
  filterCount: 4,
  /** Bytes per row. */
  stride: 8,
  /** Where a row's counter starts, from the row's start. */
  counterAt: 12,
  /** 1 when the records are big-endian: the kernel's loader sets it for its instance. */
  bigEndian: 16,
  /** The row of the record `decide_count` stopped at (0: none). */
  stoppedRow: 20,
  /** Where the kernel's M scratch is. */
  scratchM: 24,
  /** Where in a row its chain's address is, or 0 when there are no chains (chains.ts). */
  chainFromRow: 28,
  /** The tests every chain is padded to. */
  chainLength: 32,
} as const;
export const HEADER_BYTES = 40;
export const ARCH_ENTRY_BYTES = 16;
export const FILTER_ENTRY_BYTES = 8;
export const RESUME_POINT_BYTES = 4 * 19;
/** A row's counter: the value the row is settled on, whether it is settled (1) or not (0), then its count (u64). */
export const ROW_COUNTER = { value: 0, settled: 4, count: 8, bytes: 16 } as const;

/** The tables' bytes and how to find a row. */
export interface TableLayout {
  /** The block, to be placed at TABLE_OFFSET. */
  readonly bytes: Uint8Array;
  /** Per arch of the table: the address of its first row. */
  readonly offsets: readonly number[];
  /** Bytes per row: the value, one entry number per filter, then the counter (8-byte aligned). */
  readonly stride: number;
  /** Where a row's counter starts, from the row's start. */
  readonly counterAt: number;
  /** Per filter: its resume points, entry n being `entries[n - 1]`. */
  readonly entries: readonly (readonly ResumePoint[])[];
  /** Per arch: the index of its first row among all rows (every arch's, in order). */
  readonly firstRows: readonly number[];
  /** Per filter: the entry number each row holds for it, by the row's index among all rows (0 in a constant row). */
  readonly entriesByRow: readonly (readonly number[])[];
  /**
   * A lone filter's chains, where a row to run has one: as the header's
   * chainFromRow and chainLength, and where every chain's test t reads the
   * same offset, those offsets (chainColumns).
   */
  readonly chains?: { readonly fromRow: number; readonly length: number; readonly columns?: readonly number[] };
}

/** Resume points that behave alike share an entry: at a `ret #k` the state no longer matters. */
function entryKey(program: VerifiedProgram, point: ResumePoint): string {
  return program.instructions[point.pc]!.code === (BPF_RET | BPF_K) ? `${point.pc}` : `${point.pc}:${point.a}:${point.x}:${point.m.join(',')}`;
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * A lone filter's chains by row (chains.ts): a constant row's is its value,
 * a row to run has one where its resume point's code is a chain; undefined
 * for a stack, or where no row to run has one.
 */
function loneChains(
  table: DecisionTable,
  filters: readonly VerifiedProgram[],
  rowEntries: readonly (readonly number[] | undefined)[],
  entries: readonly ResumePoint[][],
) {
  if (filters.length !== 1) return undefined;
  // A row has entry numbers where it runs the filter, none where its value is constant (this file loads no decision-table.ts).
  const byRow = table.arches
    .flatMap((arch) => [...arch.values])
    .map((value, row): Chain | undefined => {
      const entry = rowEntries[row]?.[0];
      if (entry === undefined) return { tests: [], last: value };
      return entry === 0 ? undefined : chainFrom(filters[0]!.instructions, entries[0]![entry - 1]!, (k) => resolveStack([k]));
    });
  return byRow.some((chain, row) => chain && rowEntries[row] !== undefined) ? byRow : undefined;
}

/** Lays `table` out for a stack of `filters` (the ones it was made from). */
export function layoutTables(table: DecisionTable, filters: readonly VerifiedProgram[]): TableLayout {
  const rowCount = table.arches.reduce((n, arch) => n + arch.values.length, 0);
  const entries = filters.map(() => [] as ResumePoint[]);
  const numbers = filters.map(() => new Map<string, number>());
  /** Filter i's entry number for `point`, adding it the first time. */
  const entryNumber = (i: number, point: ResumePoint): number => {
    if (point.pc === 0) return 0;
    const key = entryKey(filters[i]!, point);
    let n = numbers[i]!.get(key);
    if (n === undefined) {
      n = entries[i]!.push(point);
      numbers[i]!.set(key, n);
    }
    return n;
  };
  // Entry numbers first: the resume points' room depends on how many there are. Only NOT_CONSTANT rows have resume points.
  const rowEntries = table.arches.map((arch) => Array.from(arch.values, (_, index) => arch.resume.get(index)?.map((point, i) => entryNumber(i, point))));
  const chains = loneChains(table, filters, rowEntries.flat(), entries);
  const chainFromRow = 4 * (1 + filters.length); // after the entry numbers, where there are chains
  const counterAt = align8(chainFromRow + (chains ? 4 : 0));
  const stride = counterAt + ROW_COUNTER.bytes;
  const rowsAt = align8(HEADER_BYTES + ARCH_ENTRY_BYTES * table.arches.length + FILTER_ENTRY_BYTES * filters.length);
  const instructionsAt = rowsAt + rowCount * stride;
  const resumeAt = instructionsAt + 8 * filters.reduce((n, f) => n + f.instructions.length, 0);
  const scratchAt = resumeAt + RESUME_POINT_BYTES * entries.reduce((n, e) => n + e.length, 0);
  const chainsAt = align8(scratchAt + 64);
  const columns = chains && chainColumns(chains.filter((chain) => chain !== undefined));
  const aligned = columns ? chains!.map((chain) => chain && alignChain(chain, columns)) : chains;
  const chainLength = Math.max(0, ...(aligned ?? []).map((chain) => chain?.tests.length ?? 0));
  const laidOut = aligned && layoutChains(aligned, chainLength, TABLE_OFFSET + chainsAt);
  const bytes = new Uint8Array(laidOut ? chainsAt + laidOut.bytes.length : scratchAt + 64);
  const view = new DataView(bytes.buffer);
  const put = (at: number, word: number): void => view.setUint32(at, word, true);
  const putAll = (at: number, words: readonly number[]): void => {
    for (const [i, word] of words.entries()) put(at + 4 * i, word);
  };
  put(TABLE_HEADER.archCount, table.arches.length);
  put(TABLE_HEADER.filterCount, filters.length);
  put(TABLE_HEADER.stride, stride);
  put(TABLE_HEADER.counterAt, counterAt);
  put(TABLE_HEADER.scratchM, TABLE_OFFSET + scratchAt);
  if (laidOut) {
    put(TABLE_HEADER.chainFromRow, chainFromRow);
    put(TABLE_HEADER.chainLength, chainLength);
    laidOut.addresses.forEach((address, row) => void put(rowsAt + row * stride + chainFromRow, address));
    bytes.set(laidOut.bytes, chainsAt);
  }
  const offsets: number[] = [];
  const firstRows: number[] = [];
  let row = 0;
  table.arches.forEach((arch, a) => {
    const first = rowsAt + row * stride;
    offsets.push(TABLE_OFFSET + first);
    firstRows.push(row);
    const entry = HEADER_BYTES + a * ARCH_ENTRY_BYTES;
    putAll(entry, [arch.auditArch, arch.firstNr, arch.values.length, TABLE_OFFSET + first]);
    arch.values.forEach((value, index) => {
      put(first + index * stride, value);
      putAll(first + index * stride + 4, rowEntries[a]![index] ?? []);
    });
    row += arch.values.length;
  });
  let instruction = instructionsAt;
  let resume = resumeAt;
  filters.forEach((filter, i) => {
    const entry = HEADER_BYTES + ARCH_ENTRY_BYTES * table.arches.length + i * FILTER_ENTRY_BYTES;
    putAll(entry, [TABLE_OFFSET + instruction, TABLE_OFFSET + resume]);
    for (const { code, jt, jf, k } of filter.instructions) {
      view.setUint16(instruction, code, true);
      view.setUint8(instruction + 2, jt);
      view.setUint8(instruction + 3, jf);
      put(instruction + 4, k);
      instruction += 8;
    }
    for (const point of entries[i]!) {
      putAll(resume, [point.pc, point.a, point.x, ...point.m]);
      resume += RESUME_POINT_BYTES;
    }
  });
  const entriesByRow = filters.map((_, i) => rowEntries.flat().map((numbers) => numbers?.[i] ?? 0));
  return {
    bytes,
    offsets,
    stride,
    counterAt,
    entries,
    firstRows,
    entriesByRow,
    ...(laidOut ? { chains: { fromRow: chainFromRow, length: chainLength, ...(columns ? { columns } : {}) } } : {}),
  };
}

/** One tabulated arch as the table block holds it: for decide()'s lookup (lower-js.ts) and the summary's counts (counting.ts). */
export interface TableArch {
  /** The audit value and first syscall number as signed 32-bit integers. */
  readonly auditArch: number;
  readonly firstNr: number;
  readonly length: number;
  /** The index of its first row's value in an Int32Array of memory, and a row's stride in words. */
  readonly firstWord: number;
  readonly strideWords: number;
}

/** The arches of the table block at TABLE_OFFSET in `memory`. */
export function readTableArches(memory: ArrayBuffer): TableArch[] {
  const words = new Uint32Array(memory, TABLE_OFFSET);
  const strideWords = words[TABLE_HEADER.stride >>> 2]! >>> 2;
  return Array.from({ length: words[TABLE_HEADER.archCount >>> 2]! }, (_, a) => {
    const [auditArch, firstNr, length, rowsAt] = words.subarray((HEADER_BYTES + a * ARCH_ENTRY_BYTES) >>> 2);
    return { auditArch: auditArch! | 0, firstNr: firstNr! | 0, length: length!, firstWord: rowsAt! >>> 2, strideWords };
  });
}

/**
 * Where at least this share of a lone filter's table rows run the filter
 * (are not constant), records often need it, and jumps that depend on the
 * row are mispredicted often: the JIT's modules then send constant rows
 * through the jump the others take (module.ts), and decide() reads the rows'
 * chains as data rather than jumping to each row's code (lower-js.ts). Where
 * nearly every row is constant (most profiles), those jumps are predicted
 * and the rows' own code is shorter (docs/benchmarks.md).
 */
const RUN_OFTEN_FROM_SHARE = 0.1;

/** Whether a lone filter with `rows` table rows, `notConstant` of them running the filter, runs it often (RUN_OFTEN_FROM_SHARE). */
export function runsOften(notConstant: number, rows: number): boolean {
  return notConstant >= RUN_OFTEN_FROM_SHARE * rows;
}

/** A lone filter's chains as decide() finds them (chains.ts). */
export interface TableChains {
  /** The index of a row's chain address among its words, from the row's value. */
  readonly fromRowWords: number;
  /** The tests every chain is padded to. */
  readonly length: number;
  /** Where every chain's test t reads the same offset: those offsets (chainColumns). */
  readonly columns?: readonly number[];
}

/** The chains of the table block at TABLE_OFFSET in `memory` (its `arches`, readTableArches), or undefined where it has none. */
export function readTableChains(memory: ArrayBuffer, arches: readonly TableArch[]): TableChains | undefined {
  const view = new DataView(memory, TABLE_OFFSET);
  const fromRow = view.getUint32(TABLE_HEADER.chainFromRow, true);
  if (fromRow === 0) return undefined;
  const fromRowWords = fromRow >>> 2;
  const length = view.getUint32(TABLE_HEADER.chainLength, true);
  const words = new Uint32Array(memory);
  const offsetsOf = (address: number) => Array.from({ length }, (_, t) => words[(address + t * CHAIN_TEST_BYTES + CHAIN_TEST.offset) >>> 2]!);
  let columns: number[] | undefined;
  for (const { firstWord, length: rows, strideWords } of arches)
    for (let row = 0; row < rows; row++) {
      const address = words[firstWord + row * strideWords + fromRowWords]!;
      if (address === 0) continue;
      const offsets = offsetsOf(address);
      columns ??= offsets;
      if (offsets.some((offset, t) => offset !== columns![t])) return { fromRowWords, length };
    }
  return { fromRowWords, length, ...(columns ? { columns } : {}) };
}

/** A filter as the table block holds it: its instructions and its resume points, entry n being `entries[n - 1]`. */
export interface TableFilter {
  readonly instructions: Instruction[];
  readonly entries: ResumePoint[];
}

/**
 * The filters of the table block at TABLE_OFFSET in `memory`, read back: a
 * filter's instructions end where the next filter's begin (the last's, where
 * the resume points begin), and its resume points likewise (the last's, at
 * the kernel's M scratch).
 */
export function readTableFilters(memory: ArrayBuffer): TableFilter[] {
  const view = new DataView(memory, TABLE_OFFSET);
  const word = (at: number): number => view.getUint32(at, true);
  const filterCount = word(TABLE_HEADER.filterCount);
  const directory = HEADER_BYTES + ARCH_ENTRY_BYTES * word(TABLE_HEADER.archCount);
  const starts = Array.from({ length: filterCount }, (_, i) => ({
    instructions: word(directory + i * FILTER_ENTRY_BYTES) - TABLE_OFFSET,
    resume: word(directory + i * FILTER_ENTRY_BYTES + 4) - TABLE_OFFSET,
  }));
  return starts.map((start, i) => {
    const instructionsEnd = starts[i + 1]?.instructions ?? starts[0]!.resume;
    const resumeEnd = starts[i + 1]?.resume ?? word(TABLE_HEADER.scratchM) - TABLE_OFFSET;
    const instructions = Array.from({ length: (instructionsEnd - start.instructions) / 8 }, (_, n) => {
      const at = start.instructions + 8 * n;
      return { code: view.getUint16(at, true), jt: view.getUint8(at + 2), jf: view.getUint8(at + 3), k: word(at + 4) };
    });
    const entries = Array.from({ length: (resumeEnd - start.resume) / RESUME_POINT_BYTES }, (_, n) => {
      const at = start.resume + RESUME_POINT_BYTES * n;
      const [pc, a, x, ...m] = Array.from({ length: RESUME_POINT_BYTES / 4 }, (_, w) => word(at + 4 * w));
      return { pc: pc!, a: a!, x: x!, m };
    });
    return { instructions, entries };
  });
}
