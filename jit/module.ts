/**
 * The only file that creates, validates, optimizes, emits and disposes
 * Binaryen modules (emitModule; kernel.ts fills one too). A module holds a stack's filters, the kernel's
 * precedence over them, and a batch loop, all inside wasm: for several
 * filters, a function each; for one, its code inside the loop.
 *
 * The module's ABI (documented in docs/design.md, stable for standalone use):
 *   memory                                  exported: RECORD_CAPACITY records at 0, their outputs at
 *                                           OUTPUT_OFFSET, then the decision tables (read-only)
 *                                           and a word of scratch
 *   heap_base: i32 global                   the first byte after those: grow memory and put
 *                                           more records and outputs from here
 *   filter_<i>(record: i32) -> i32          filter i's own value (0 = oldest)
 *   decide(record: i32) -> i32              the stack's value, with the kernel's precedence
 *   decide_batch(in: i32, count: i32, out: i32)
 *                                           decide() for `count` 64-byte records at `in`,
 *                                           writing u32 values (little-endian) at `out`
 * Records are 64-byte seccomp_data in the byte order the module was compiled for.
 * `decide` first looks the record's arch and nr up in the stack's decision
 * tables (src/decision-table.ts) and runs the filters only where the value
 * depends on more than those two, each from its resume point: past the
 * syscall-number dispatch, at the checks of that syscall's arguments. A lone
 * filter whose checks are chains (chains.ts) may decide those rows from data.
 */
import binaryen from 'binaryen';
import { type DecisionTable, decisionTable, NOT_CONSTANT } from '../src/decision-table.js';
import { ACTIONS, resolveStack, SECCOMP_RET_ACTION_FULL } from '../src/seccomp/actions.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { CHAIN_TEST, CHAIN_TEST_BYTES } from './chains.js';
import { MAX_MEMORY_PAGES, OUTPUT_OFFSET, pagesFor, RECORD_CAPACITY, TABLE_OFFSET } from './layout-abi.js';
import { CONSTANT_ROW, FILTER_LOCALS, type FilterFrame, lowerFilter, makeRecordLoad } from './lower.js';
import { layoutTables, ROW_COUNTER, runsOften, TABLE_HEADER, type TableLayout } from './table-layout.js';

export { OUTPUT_OFFSET, RECORD_CAPACITY };

/** How hard Binaryen optimizes; chosen by measurement (docs/benchmarks.md). */
export interface OptimizeSettings {
  readonly level: number;
  readonly shrink: number;
}

/**
 * The default: no Binaryen passes. With the decision tables and resume points,
 * -O2 decided no faster than -O0 and compiled several times slower; it pays
 * only for records outside the tables, whose long jeq chains it turns into
 * br_tables (docs/benchmarks.md).
 */
export const DEFAULT_OPTIMIZE: OptimizeSettings = { level: 0, shrink: 0 };

const { i32, none } = binaryen;

/** Where the decision tables are: read in `decide` and `decide_batch`. */
interface Tables {
  readonly table: DecisionTable;
  readonly layout: TableLayout;
  readonly byteOrder: ByteOrder;
}

/** The scratch locals of a decision: the record pointer, the lookup's slot and value, and the table row the filters run from. */
interface DecisionLocals {
  readonly ptr: number;
  readonly slot: number;
  readonly value: number;
  readonly row: number;
  /**
   * A one-filter stack's entry local (lower.ts), set here: 0 outside the
   * tables, else the row's entry number, or with `byRow`, 1 + the row's index
   * among all rows (the frame's entryByIndex maps it to the entry number).
   * With `constantsToo`, constant rows take that jump too (to the frame's
   * constantExit), rather than a branch of their own before it.
   */
  readonly entry?: { readonly local: number; readonly byRow: boolean; readonly constantsToo: boolean };
  /** Where the tables' chains decide (a lone filter's, see addOneFilterFunctions): the local that holds the address of the record's row's chain, or 0. */
  readonly chain?: number;
}

/**
 * The record's value as an i32 expression: the table's for its arch and nr
 * where there is one, else what `runFilters` makes of local `row`. Either
 * way `row` is left holding the record's table row (0 when the tables do not
 * hold its arch and nr), for the summary counter. `runFilters` is called
 * once: an inline filter appears once.
 * A load from a table, not a `br_table` on nr: V8 turns a long `br_table` into
 * a chain of compares, which ran far slower (docs/benchmarks.md).
 */
function makeDecision(m: binaryen.Module, tables: Tables, locals: DecisionLocals, runFilters: () => binaryen.ExpressionRef): binaryen.ExpressionRef {
  const { ptr, slot, value, row, entry, chain } = locals;
  const get = (local: number) => m.local.get(local, i32);
  const { table, layout, byteOrder } = tables;
  const { chains } = layout;
  const withChains = chains !== undefined && chain !== undefined;
  const perArch = table.arches.map((arch, i) =>
    m.if(
      m.i32.eq(get(value), m.i32.const(arch.auditArch | 0)),
      m.block(null, [
        m.local.set(slot, m.i32.sub(get(slot), m.i32.const(arch.firstNr))), // nr below firstNr wraps past the table's end
        m.br('run', m.i32.ge_u(get(slot), m.i32.const(arch.values.length))),
        m.local.set(row, m.i32.add(m.i32.mul(get(slot), m.i32.const(layout.stride)), m.i32.const(layout.offsets[i]!))),
        m.local.set(value, m.i32.load(0, 4, get(row))),
        ...(entry?.constantsToo ? [] : [m.drop(m.br('decided', m.i32.ne(get(value), m.i32.const(NOT_CONSTANT | 0)), get(value)))]), // br_if passes its value on when not taken
        ...(entry === undefined
          ? []
          : [m.local.set(entry.local, entry.byRow ? m.i32.add(get(slot), m.i32.const(layout.firstRows[i]! + 1)) : m.i32.load(4, 4, get(row)))]),
        ...(withChains ? [m.local.set(chain, m.i32.load(chains.fromRow, 4, get(row)))] : []),
        m.br('run'),
      ]),
    ),
  );
  const lookup = m.block('run', [
    m.local.set(row, m.i32.const(0)),
    ...(entry === undefined ? [] : [m.local.set(entry.local, m.i32.const(0))]),
    ...(withChains ? [m.local.set(chain, m.i32.const(0))] : []),
    ...(perArch.length === 0
      ? []
      : [
          m.local.set(slot, makeRecordLoad(m, ptr, SECCOMP_DATA_NR, byteOrder)),
          m.local.set(value, makeRecordLoad(m, ptr, SECCOMP_DATA_ARCH, byteOrder)),
          ...perArch,
        ]),
  ]);
  const chainExit = withChains ? [m.if(get(chain), m.br('decided', 0, makeChainValue(m, ptr, chain, chains)))] : [];
  return m.block('decided', [lookup, ...chainExit, runFilters()], i32);
}

/**
 * The value of the chain at the address in local `chain` (chains.ts), for the
 * record at local `ptr`, with no jump: the leaf of the first of its `length`
 * tests that ends the run, else its last value, as nested `select`s.
 */
function makeChainValue(m: binaryen.Module, ptr: number, chain: number, { length, columns }: NonNullable<TableLayout['chains']>): binaryen.ExpressionRef {
  let value = m.i32.load(length * CHAIN_TEST_BYTES, 4, m.local.get(chain, i32));
  for (let t = length - 1; t >= 0; t--) value = makeChainTest(m, ptr, chain, t * CHAIN_TEST_BYTES, value, columns?.[t]);
  return value;
}

/**
 * For the record at local `ptr`, the leaf of the chain test `at` bytes past
 * the address in local `test` where the test ends the run, else `otherwise`:
 * a `select`, with no jump. The modules unroll a chain's tests, each word at
 * its column's constant `offset` where the chains have columns; the table
 * kernel loops over them, each word at the test's own offset.
 */
export function makeChainTest(
  m: binaryen.Module,
  ptr: number,
  test: number,
  at: number,
  otherwise: binaryen.ExpressionRef,
  offset?: number,
): binaryen.ExpressionRef {
  const field = (offset: number, type: 'i32' | 'i64' = 'i32') => m[type].load(at + offset, type === 'i32' ? 4 : 8, m.local.get(test, i32));
  const record = () => m.local.get(ptr, i32);
  const word = offset === undefined ? m.i64.load(0, 8, m.i32.add(record(), field(CHAIN_TEST.offset))) : m.i64.load(offset, 8, record());
  const equal = m.i64.eq(m.i64.and(word, field(CHAIN_TEST.mask, 'i64')), field(CHAIN_TEST.value, 'i64'));
  return m.select(m.i32.xor(equal, field(CHAIN_TEST.endsWhenDifferent)), field(CHAIN_TEST.leaf), otherwise);
}

/**
 * The value of a stack of one filter whose own value is in `local`, in wasm
 * (resolveStack of one value): kept if its action ranks below ALLOW (signed),
 * else ALLOW itself (so ALLOW with data bits is ALLOW).
 */
function makePrecedenceOfOne(m: binaryen.Module, local: number): binaryen.ExpressionRef {
  const get = () => m.local.get(local, i32);
  const ranksBelowAllow = m.i32.lt_s(m.i32.and(get(), m.i32.const(SECCOMP_RET_ACTION_FULL | 0)), m.i32.const(ACTIONS.ALLOW | 0));
  return m.select(ranksBelowAllow, get(), m.i32.const(ACTIONS.ALLOW | 0));
}

/**
 * Filter i's entry number in the table row at local `row`, or 0 (from pc 0)
 * when row is 0: that reads harmless bytes near address 0, then picks 0.
 */
function makeEntry(m: binaryen.Module, row: number, i: number): binaryen.ExpressionRef {
  return m.select(m.local.get(row, i32), m.i32.load(4 * (1 + i), 4, m.local.get(row, i32)), m.i32.const(0));
}

/**
 * `run_filters(ptr, row)`: run every filter, newest first, each from the
 * entry its column of the table row gives (pc 0 when row is 0), keeping the
 * value whose action is lowest (signed).
 */
function makeRunFilters(m: binaryen.Module, count: number): binaryen.ExpressionRef {
  const PTR = 0;
  const ROW = 1;
  const RESULT = 2;
  const VALUE = 3;
  const get = (local: number) => m.local.get(local, i32);
  const rank = (local: number) => m.i32.and(get(local), m.i32.const(SECCOMP_RET_ACTION_FULL | 0));
  const body: binaryen.ExpressionRef[] = [m.local.set(RESULT, m.i32.const(ACTIONS.ALLOW))];
  for (let i = count - 1; i >= 0; i--) {
    const entry = makeEntry(m, ROW, i);
    body.push(m.local.set(VALUE, m.call(`run_${i}`, [get(PTR), entry], i32)), m.if(m.i32.lt_s(rank(VALUE), rank(RESULT)), m.local.set(RESULT, get(VALUE))));
  }
  body.push(get(RESULT));
  return m.block(null, body, i32);
}

/** The loop's parameters and locals; `value` holds each record's decision. */
interface BatchLocals extends DecisionLocals {
  readonly count: number;
  readonly out: number;
  /** The records asked for. */
  readonly total: number;
  /** Whether the loop counts decisions in the rows' counters: never, always, or when this local is not 0. */
  readonly counting: 'never' | 'always' | number;
}

/**
 * The loop over `count` records at `ptr`, storing each one's `decision` at
 * `out` on; an i32 expression: the index of the record it stopped at, or
 * `count`. Counting, it counts each record in its row's counter when the row
 * is settled on the record's value (table-layout.ts), and else stops there,
 * the record decided but not counted, its row at the header's stoppedRow.
 */
function makeBatchLoop(m: binaryen.Module, locals: BatchLocals, decision: binaryen.ExpressionRef, counterAt: number): binaryen.ExpressionRef {
  const get = (local: number) => m.local.get(local, i32);
  const { ptr, count, out, total, row, value, counting } = locals;
  // Three jumps the CPU predicts, not one on three comparisons or-ed together: fewer instructions a record (docs/benchmarks.md).
  const countRecord = m.block('counted', [
    m.block('unsettled', [
      m.br('unsettled', m.i32.eqz(get(row))),
      m.br('unsettled', m.i32.eqz(m.i32.load(counterAt + ROW_COUNTER.settled, 4, get(row)))),
      m.br('unsettled', m.i32.ne(m.i32.load(counterAt + ROW_COUNTER.value, 4, get(row)), get(value))),
      m.i64.store(counterAt + ROW_COUNTER.count, 8, get(row), m.i64.add(m.i64.load(counterAt + ROW_COUNTER.count, 8, get(row)), m.i64.const(1n))),
      m.br('counted'),
    ]),
    m.i32.store(0, 4, m.i32.const(TABLE_OFFSET + TABLE_HEADER.stoppedRow), get(row)),
    m.br('stopped', 0, m.i32.sub(get(total), get(count))),
  ]);
  const counted = counting === 'never' ? [] : [counting === 'always' ? countRecord : m.if(get(counting), countRecord)];
  const loop = m.loop(
    'next',
    m.block(null, [
      m.local.set(value, decision),
      m.i32.store(0, 4, get(out), get(value)),
      ...counted,
      m.local.set(ptr, m.i32.add(get(ptr), m.i32.const(SECCOMP_DATA_SIZE))),
      m.local.set(out, m.i32.add(get(out), m.i32.const(4))),
      m.local.set(count, m.i32.sub(get(count), m.i32.const(1))),
      m.br('next', get(count)),
    ]),
  );
  return m.block('stopped', [m.local.set(total, get(count)), m.if(get(count), loop), get(total)], i32);
}

/** A stack of several filters: a function per filter, run_filters over them, and the lookup in `decide` and `decide_batch`. */
function addStackFunctions(m: binaryen.Module, tables: Tables, filters: readonly VerifiedProgram[]): void {
  filters.forEach((filter, i) => {
    m.addFunction(`run_${i}`, binaryen.createType([i32, i32]), i32, FILTER_LOCALS, lowerFilter(m, filter, tables.byteOrder, tables.layout.entries[i]));
    m.addFunction(`filter_${i}`, i32, i32, [], m.call(`run_${i}`, [m.local.get(0, i32), m.i32.const(0)], i32));
  });
  m.addFunction('run_filters', binaryen.createType([i32, i32]), i32, [i32, i32], makeRunFilters(m, filters.length));
  const callRunFilters = (locals: DecisionLocals) => () => m.call('run_filters', [m.local.get(locals.ptr, i32), m.local.get(locals.row, i32)], i32);
  const decide = { ptr: 0, slot: 1, value: 2, row: 3 };
  m.addFunction('decide', i32, i32, [i32, i32, i32], makeDecision(m, tables, decide, callRunFilters(decide)));
  const batch = (counting: BatchLocals['counting']): BatchLocals => ({ ptr: 0, count: 1, out: 2, slot: 3, value: 4, row: 5, total: 6, counting });
  const loop = (locals: BatchLocals) => makeBatchLoop(m, locals, makeDecision(m, tables, locals, callRunFilters(locals)), tables.layout.counterAt);
  const params = binaryen.createType([i32, i32, i32]);
  m.addFunction('decide_batch', params, none, [i32, i32, i32, i32], m.drop(loop(batch('never'))));
  m.addFunction('decide_count', params, i32, [i32, i32, i32, i32], loop(batch('always')));
}

/**
 * A lone filter with more resume points than this jumps to them by its table
 * row, not by the entry number read from the row. With many, V8 compiles the
 * `br_table` to a jump table either way, and keyed on the row its index is
 * ready a load sooner, so a mispredicted jump is found out sooner; with a few,
 * V8 compiles it to compares on the entry number, which a predictable mix runs
 * faster than an indirect jump (docs/benchmarks.md).
 */
const ROW_KEYED_ABOVE_ENTRIES = 4;

/** run_batch's parameters and locals, then the filter's A, X and M[] from FILTER_STATE on. */
const RUN_BATCH = { ptr: 0, count: 1, out: 2, counting: 3, slot: 4, value: 5, row: 6, total: 7, entry: 8 } as const;
const FILTER_STATE = 9;

/** Whether `filter` can end with a value the kernel's precedence changes (RET A, or ALLOW with data): only then is its own value not the stack's. */
function ownValueDiffers(filter: VerifiedProgram): boolean {
  return filter.instructions.some(({ code, k }) => code === 0x16 /* ret a */ || (code === 0x06 /* ret #k */ && resolveStack([k]) !== k));
}

/**
 * A stack of one filter (the usual case): its code once, inline in the loop
 * of `run_batch(in, count, out, counting) -> stopped at`, which
 * `decide_batch`, `decide_count` and `decide` call (the last for one record,
 * its value at `scratch`); with `counting` not 0, counting as decide_count
 * does (makeBatchLoop). Inline, as the calls (run_filters, then the filter's
 * function) made a record run from its resume point far dearer than a table
 * hit (docs/benchmarks.md). `filter_0` is `decide` unless the filter's own
 * value can differ from the stack's; then it is the filter in a function of
 * its own, run from pc 0, so that the loop tests nothing per record for it.
 */
function addOneFilterFunctions(m: binaryen.Module, tables: Tables, filter: VerifiedProgram, scratch: number): void {
  const get = (local: number) => m.local.get(local, i32);
  /** Ends the filter with `value`, with the precedence over one filter. */
  const exit = (value: number | 'A') => m.br('decided', 0, value === 'A' ? makePrecedenceOfOne(m, FILTER_STATE) : m.i32.const(resolveStack([value]) | 0));
  const byRow = tables.layout.entries[0]!.length > ROW_KEYED_ABOVE_ENTRIES;
  // From the table's values, not entriesByRow: entry 0 there is both a constant row and a resume point at pc 0.
  const constantRows = tables.table.arches.flatMap((arch) => Array.from(arch.values, (value) => value !== NOT_CONSTANT));
  const constantsToo = byRow && runsOften(constantRows.filter((constant) => !constant).length, constantRows.length);
  const frame: FilterFrame = {
    ptr: RUN_BATCH.ptr,
    entry: RUN_BATCH.entry,
    a: FILTER_STATE,
    x: FILTER_STATE + 1,
    m0: FILTER_STATE + 2,
    fresh: false,
    exit,
    ...(byRow ? { entryByIndex: [0, ...tables.layout.entriesByRow[0]!.map((n, row) => (constantsToo && constantRows[row] ? CONSTANT_ROW : n))] } : {}), // index 0: outside the tables (makeDecision's `+ 1`)
    ...(constantsToo ? { constantExit: () => m.br('decided', 0, get(RUN_BATCH.value)) } : {}),
  };
  // Where the filter runs often, the tables' chains decide their rows (little-endian records only: chains.ts), in a local after the filter's.
  const withChains = constantsToo && tables.layout.chains !== undefined && tables.byteOrder === 'le';
  const locals = [...Array<number>(FILTER_STATE - RUN_BATCH.slot).fill(i32), ...FILTER_LOCALS, ...(withChains ? [i32] : [])];
  const chain = FILTER_STATE + FILTER_LOCALS.length;
  const batch: BatchLocals = { ...RUN_BATCH, entry: { local: RUN_BATCH.entry, byRow, constantsToo }, ...(withChains ? { chain } : {}) };
  const runFilter = () => lowerFilter(m, filter, tables.byteOrder, tables.layout.entries[0], frame);
  m.addFunction(
    'run_batch',
    binaryen.createType([i32, i32, i32, i32]),
    i32,
    locals,
    makeBatchLoop(m, batch, makeDecision(m, tables, batch, runFilter), tables.layout.counterAt),
  );
  const params = binaryen.createType([i32, i32, i32]);
  const runBatch = (counting: number) => m.call('run_batch', [get(0), get(1), get(2), m.i32.const(counting)], i32);
  m.addFunction('decide_batch', params, none, [], m.drop(runBatch(0)));
  m.addFunction('decide_count', params, i32, [], runBatch(1));
  const decideOne = m.block(
    null,
    [m.drop(m.call('run_batch', [get(0), m.i32.const(1), m.i32.const(scratch), m.i32.const(0)], i32)), m.i32.load(0, 4, m.i32.const(scratch))],
    i32,
  );
  m.addFunction('decide', i32, i32, [], decideOne);
  if (!ownValueDiffers(filter)) {
    m.addFunction('filter_0', i32, i32, [], m.call('decide', [get(0)], i32));
    return;
  }
  m.addFunction('run_0', binaryen.createType([i32, i32]), i32, FILTER_LOCALS, lowerFilter(m, filter, tables.byteOrder));
  m.addFunction('filter_0', i32, i32, [], m.call('run_0', [get(0), m.i32.const(0)], i32));
}

/** What building a module gives: the wasm binary, and its text when asked for. */
export interface BuiltModule {
  readonly binary: Uint8Array;
  readonly text?: string;
}

/**
 * Builds, validates and optimizes the module for a stack of filters (oldest
 * first), all reading records in `byteOrder`. `table` is the stack's decision
 * table when the caller has it (it does not depend on the byte order). Throws
 * if Binaryen finds the module invalid: that would be a bug in the lowering.
 */
export function buildModule(
  filters: readonly VerifiedProgram[],
  byteOrder: ByteOrder,
  options: { optimize?: OptimizeSettings; text?: boolean; table?: DecisionTable } = {},
): BuiltModule {
  return emitModule(
    'the JIT',
    options.optimize ?? DEFAULT_OPTIMIZE,
    (m) => {
      const table = options.table ?? decisionTable(filters);
      const layout = layoutTables(table, filters);
      const scratch = TABLE_OFFSET + layout.bytes.length; // one word, for decide's and filter_0's value
      const heapBase = scratch + 4;
      // Room for decide()'s record past heap_base (instance.ts) from the start: an instance grows no memory when it is
      // made, since growing detaches the old buffer, and after any detach V8 checks it on every typed array access.
      m.setMemory(pagesFor(heapBase + SECCOMP_DATA_SIZE), MAX_MEMORY_PAGES, 'memory', [{ offset: m.i32.const(TABLE_OFFSET), data: layout.bytes }]);
      m.addGlobal('heap_base', i32, false, m.i32.const(heapBase));
      m.addGlobalExport('heap_base', 'heap_base');
      const tables: Tables = { table, layout, byteOrder };
      if (filters.length === 1) addOneFilterFunctions(m, tables, filters[0]!, scratch);
      else addStackFunctions(m, tables, filters);
      for (let i = 0; i < filters.length; i++) m.addFunctionExport(`filter_${i}`, `filter_${i}`);
      m.addFunctionExport('decide', 'decide');
      m.addFunctionExport('decide_batch', 'decide_batch');
      m.addFunctionExport('decide_count', 'decide_count');
    },
    options.text,
  );
}

/**
 * A module `build` fills, validated, optimized at `optimize` (Binaryen's
 * global levels restored after), emitted and disposed. Throws if Binaryen
 * finds it invalid, naming `what` built it: that would be a bug there.
 */
export function emitModule(what: string, optimize: OptimizeSettings, build: (m: binaryen.Module) => void, text = false): BuiltModule {
  const m = new binaryen.Module();
  const [level, shrink] = [binaryen.getOptimizeLevel(), binaryen.getShrinkLevel()];
  try {
    build(m);
    if (!m.validate()) throw new Error(`internal error: ${what} built an invalid wasm module`);
    if (optimize.level > 0) {
      binaryen.setOptimizeLevel(optimize.level);
      binaryen.setShrinkLevel(optimize.shrink);
      m.optimize();
    }
    return { binary: m.emitBinary(), ...(text ? { text: m.emitText() } : {}) };
  } finally {
    binaryen.setOptimizeLevel(level);
    binaryen.setShrinkLevel(shrink);
    m.dispose();
  }
}
