/**
 * The only file that creates, validates, optimizes, emits and disposes
 * Binaryen modules. A module holds one function per filter of a stack, the
 * kernel's precedence over them, and a batch loop, all inside wasm.
 *
 * The module's ABI (documented in the README, stable for standalone use):
 *   memory                                  exported: RECORD_CAPACITY records at 0, their outputs at
 *                                           OUTPUT_OFFSET, then the decision tables (read-only)
 *   heap_base: i32 global                   the first byte after the tables: grow memory and put
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
 * syscall-number dispatch, at the checks of that syscall's arguments.
 */
import binaryen from 'binaryen';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { ACTIONS, SECCOMP_RET_ACTION_FULL } from '../src/seccomp/actions.js';
import { decisionTable, NOT_CONSTANT, type DecisionTable } from '../src/decision-table.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { FILTER_LOCALS, lowerFilter, makeRecordLoad } from './lower.js';
import { OUTPUT_OFFSET, RECORD_CAPACITY, TABLE_OFFSET, WASM_PAGE_SIZE } from './layout-abi.js';
import { layoutTables, type TableLayout } from './table-layout.js';

export { OUTPUT_OFFSET, RECORD_CAPACITY };

/** How hard Binaryen optimizes; chosen by measurement (see the README's JIT section). */
export interface OptimizeSettings {
  readonly level: number;
  readonly shrink: number;
}

/**
 * The default: no Binaryen passes. With the decision tables and resume points,
 * -O2 decided no faster than -O0 on any workload of `cbpf bench --quick`, and
 * compiled 3 to 4 times slower (docker-tree: 42 against 11 ms p50). -O2 still
 * pays for records outside the tables, which run the whole filter: Binaryen
 * turns a long jeq chain into a br_table (docker-linear, nr 2000: 7.5 to 13
 * against 52 to 54 ns a record).
 */
export const DEFAULT_OPTIMIZE: OptimizeSettings = { level: 0, shrink: 0 };

const { i32, none } = binaryen;

/** Where the decision tables are: read in `decide` and `decide_batch`. */
interface Tables {
  readonly table: DecisionTable;
  readonly layout: TableLayout;
  readonly byteOrder: ByteOrder;
}

/**
 * The record's value as an i32 expression: the table's for its arch and nr
 * where there is one, else `run_filters(ptr, row)` (row 0 when the tables do
 * not hold the record's arch and nr). `slot` and `value` are scratch locals.
 * A load from a table, not a `br_table` on nr: V8 turns a long `br_table` into
 * a chain of compares, measured 10x slower.
 */
function makeDecision(m: binaryen.Module, tables: Tables, ptr: number, slot: number, value: number): binaryen.ExpressionRef {
  const get = (local: number) => m.local.get(local, i32);
  const runFilters = (row: binaryen.ExpressionRef) => m.call('run_filters', [get(ptr), row], i32);
  const { table, layout, byteOrder } = tables;
  if (table.arches.length === 0) return runFilters(m.i32.const(0));
  const perArch = table.arches.map((arch, i) =>
    m.if(
      m.i32.eq(get(value), m.i32.const(arch.auditArch | 0)),
      m.block(null, [
        m.local.set(slot, m.i32.sub(get(slot), m.i32.const(arch.firstNr))), // nr below firstNr wraps past the table's end
        m.br('no_row', m.i32.ge_u(get(slot), m.i32.const(arch.values.length))),
        m.local.set(slot, m.i32.add(m.i32.mul(get(slot), m.i32.const(layout.stride)), m.i32.const(layout.offsets[i]!))),
        m.local.set(value, m.i32.load(0, 4, get(slot))),
        m.drop(m.br('decided', m.i32.ne(get(value), m.i32.const(NOT_CONSTANT | 0)), get(value))), // br_if passes its value on when not taken
        m.br('decided', 0, runFilters(get(slot))),
      ]),
    ),
  );
  const lookup = m.block('no_row', [
    m.local.set(slot, makeRecordLoad(m, ptr, SECCOMP_DATA_NR, byteOrder)),
    m.local.set(value, makeRecordLoad(m, ptr, SECCOMP_DATA_ARCH, byteOrder)),
    ...perArch,
  ]);
  return m.block('decided', [lookup, runFilters(m.i32.const(0))], i32);
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
    const entry = m.select(get(ROW), m.i32.load(4 * (1 + i), 4, get(ROW)), m.i32.const(0)); // row 0 reads harmless bytes, then picks 0
    body.push(
      m.local.set(VALUE, m.call(`run_${i}`, [get(PTR), entry], i32)),
      m.if(m.i32.lt_s(rank(VALUE), rank(RESULT)), m.local.set(RESULT, get(VALUE))),
    );
  }
  body.push(get(RESULT));
  return m.block(null, body, i32);
}

/** `decide_batch`: the loop over records inside wasm, with the table lookup inline. */
function makeDecideBatch(m: binaryen.Module, tables: Tables): binaryen.ExpressionRef {
  const IN = 0;
  const COUNT = 1;
  const OUT = 2;
  const SLOT = 3;
  const VALUE = 4;
  const get = (local: number) => m.local.get(local, i32);
  return m.if(
    get(COUNT),
    m.loop('next', m.block(null, [
      m.i32.store(0, 4, get(OUT), makeDecision(m, tables, IN, SLOT, VALUE)),
      m.local.set(IN, m.i32.add(get(IN), m.i32.const(SECCOMP_DATA_SIZE))),
      m.local.set(OUT, m.i32.add(get(OUT), m.i32.const(4))),
      m.local.set(COUNT, m.i32.sub(get(COUNT), m.i32.const(1))),
      m.br('next', get(COUNT)),
    ])),
  );
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
  const m = new binaryen.Module();
  try {
    const table = options.table ?? decisionTable(filters);
    const layout = layoutTables(table, filters);
    const heapBase = TABLE_OFFSET + layout.bytes.length;
    m.setMemory(Math.ceil(heapBase / WASM_PAGE_SIZE), 65536, 'memory', [{ offset: m.i32.const(TABLE_OFFSET), data: layout.bytes }]);
    m.addGlobal('heap_base', i32, false, m.i32.const(heapBase));
    m.addGlobalExport('heap_base', 'heap_base');
    filters.forEach((filter, i) => {
      m.addFunction(`run_${i}`, binaryen.createType([i32, i32]), i32, FILTER_LOCALS, lowerFilter(m, filter, byteOrder, layout.entries[i]));
      m.addFunction(`filter_${i}`, i32, i32, [], m.call(`run_${i}`, [m.local.get(0, i32), m.i32.const(0)], i32));
      m.addFunctionExport(`filter_${i}`, `filter_${i}`);
    });
    const tables: Tables = { table, layout, byteOrder };
    m.addFunction('run_filters', binaryen.createType([i32, i32]), i32, [i32, i32], makeRunFilters(m, filters.length));
    m.addFunction('decide', i32, i32, [i32, i32], makeDecision(m, tables, 0, 1, 2));
    m.addFunction('decide_batch', binaryen.createType([i32, i32, i32]), none, [i32, i32], makeDecideBatch(m, tables));
    m.addFunctionExport('decide', 'decide');
    m.addFunctionExport('decide_batch', 'decide_batch');
    if (!m.validate()) throw new Error('internal error: the JIT built an invalid wasm module');
    const { level, shrink } = options.optimize ?? DEFAULT_OPTIMIZE;
    if (level > 0) {
      binaryen.setOptimizeLevel(level);
      binaryen.setShrinkLevel(shrink);
      m.optimize();
    }
    return { binary: m.emitBinary(), ...(options.text ? { text: m.emitText() } : {}) };
  } finally {
    m.dispose();
  }
}
