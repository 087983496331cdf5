/**
 * The table kernel: one WebAssembly module for every stack of filters. It
 * reads the table block of table-layout.ts, which its loader writes at
 * TABLE_OFFSET, and decides records exactly as the modules of module.ts do:
 * the row's value where arch and nr settle it, else every filter from the
 * entry its row gives, on an interpreter of the filters' instructions, with
 * the kernel's precedence over their values. It depends on no filter, so it
 * is built here once, at development time, and shipped as bytes
 * (kernel.generated.ts, written by `node scripts/gen-kernel.js`): a fresh
 * process decides records in wasm without loading Binaryen.
 *
 * The kernel's ABI (the memory map is module.ts's):
 *   memory                                  imported as env.memory and exported: RECORD_CAPACITY
 *                                           records at 0, outputs at OUTPUT_OFFSET, the table
 *                                           block at TABLE_OFFSET (the loader makes memory
 *                                           with room for it and writes it)
 *   heap_base: mutable i32 global           the loader sets it past the table block; unread here
 *   decide(record: i32) -> i32              the stack's value for the record at `record`
 *   decide_batch(in: i32, count: i32, out: i32)
 *                                           decide() for `count` 64-byte records at `in`,
 *                                           u32 values at `out`
 *   decide_count(in: i32, count: i32, out: i32) -> i32
 *                                           decide_batch, counting each record in its row's
 *                                           counter as module.ts's decide_count does
 * Records are in the byte order the header's bigEndian field gives, one per
 * instance; the header must hold at least one filter. Little-endian records
 * of a row with a chain are decided by the chain, not the interpreter.
 */
import binaryen from 'binaryen';
import { NOT_CONSTANT } from '../src/decision-table.js';
import { ACTIONS, SECCOMP_RET_ACTION_FULL } from '../src/seccomp/actions.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { CHAIN_TEST_BYTES } from './chains.js';
import { KERNEL_MEMORY, MAX_MEMORY_PAGES, pagesFor, TABLE_OFFSET } from './layout-abi.js';
import { emitModule, makeChainTest, type OptimizeSettings } from './module.js';
import { ARCH_ENTRY_BYTES, FILTER_ENTRY_BYTES, HEADER_BYTES, RESUME_POINT_BYTES, ROW_COUNTER, TABLE_HEADER } from './table-layout.js';

/** Binaryen's optimize level for the kernel: V8 optimizes the code again, so every level decided alike, and -O3 makes slightly fewer bytes than none. */
const KERNEL_OPTIMIZE: OptimizeSettings = { level: 3, shrink: 0 };

const { i32, none } = binaryen;

/** Consecutive local indices from `from` on, by name. */
function numbered<const K extends string>(names: readonly K[], from = 0): Record<K, number> {
  return Object.fromEntries(names.map((name, i) => [name, from + i])) as Record<K, number>;
}

/** A module with the helpers every part of the kernel uses. */
class KernelBuilder {
  constructor(readonly m: binaryen.Module) {}

  get(local: number): binaryen.ExpressionRef {
    return this.m.local.get(local, i32);
  }

  set(local: number, value: binaryen.ExpressionRef): binaryen.ExpressionRef {
    return this.m.local.set(local, value);
  }

  k(value: number): binaryen.ExpressionRef {
    return this.m.i32.const(value | 0);
  }

  /** The header's `field`. */
  header(field: keyof typeof TABLE_HEADER): binaryen.ExpressionRef {
    return this.m.i32.load(TABLE_OFFSET + TABLE_HEADER[field], 4, this.k(0));
  }

  /** `word` read from a record in `byteOrder`: big-endian words are byte-swapped, through local `temp`. */
  swap(byteOrder: ByteOrder, word: binaryen.ExpressionRef, temp: number): binaryen.ExpressionRef {
    if (byteOrder === 'le') return word;
    const { m } = this;
    // bswap32(x) = (rotl(x, 8) & 0x00ff00ff) | (rotr(x, 8) & 0xff00ff00)
    return m.i32.or(
      m.i32.and(m.i32.rotl(m.local.tee(temp, word, i32), this.k(8)), this.k(0x00ff00ff)),
      m.i32.and(m.i32.rotr(this.get(temp), this.k(8)), this.k(0xff00ff00)),
    );
  }
}

/** The locals of a filter run: the parameters `ptr` and `row`, then the interpreter's state and scratch. */
const RUN = numbered(['ptr', 'row', 'filter', 'result', 'value', 'directory', 'ip', 'a', 'x', 'k', 'mem', 'scratch', 'entry', 'resume', 'temp']);

const runFunction = (byteOrder: ByteOrder): string => `run_filters_${byteOrder}`;

/**
 * The interpreter as an i32 block: runs the program whose instruction at
 * local `ip` (an address) is next, from A, X and M (at local `mem`) as they
 * are, to its value. One br_table on the opcode, the cases in
 * interp/interpret.ts's order; jumps move `ip`, and `ret` and a division by
 * X = 0 leave the block. Programs are verified: jumps land inside, the last
 * instruction returns, and no opcode outside the cases occurs.
 * M is copied on write: `mem` may be a resume point's M, which the first
 * store copies to the header's scratch M, so that a run that stores
 * nothing (most seccomp filters) copies nothing.
 */
function makeInterpreter(b: KernelBuilder, byteOrder: ByteOrder): binaryen.ExpressionRef {
  const { m } = b;
  const { ptr, ip, a, x, k, mem, scratch, temp } = RUN;
  const get = (local: number) => b.get(local);
  /** Ends a case that goes on to the next instruction. */
  const next = (...body: binaryen.ExpressionRef[]) => m.block(null, [...body, b.set(ip, m.i32.add(get(ip), b.k(8))), m.br('step')]);
  const setA = (value: binaryen.ExpressionRef) => next(b.set(a, value));
  const setX = (value: binaryen.ExpressionRef) => next(b.set(x, value));
  const alu = (op: 'add' | 'sub' | 'mul' | 'div_u' | 'or' | 'and' | 'shl' | 'shr_u' | 'xor', source: number) => setA(m.i32[op](get(a), get(source)));
  /** Moves `ip` past jt (at byte 2) or jf (byte 3) instructions: a branch, not a select, so that the next pc waits on no load of A. */
  const skip = (field: 2 | 3) => b.set(ip, m.i32.add(get(ip), m.i32.add(b.k(8), m.i32.shl(m.i32.load8_u(field, 1, get(ip)), b.k(3)))));
  const jumpIf = (condition: binaryen.ExpressionRef) => m.block(null, [m.if(condition, skip(2), skip(3)), m.br('step')]);
  const slot = () => m.i32.add(get(mem), m.i32.shl(get(k), b.k(2)));
  const copyM = () => Array.from({ length: 8 }, (_, i) => m.i64.store(8 * i, 4, get(scratch), m.i64.load(8 * i, 4, get(mem))));
  const store = (value: number) =>
    next(m.if(m.i32.ne(get(mem), get(scratch)), m.block(null, [...copyM(), b.set(mem, get(scratch))])), m.i32.store(0, 4, slot(), get(value)));
  const exit = (value: binaryen.ExpressionRef) => m.br('ret', 0, value);
  // biome-ignore format: one line per opcode, read beside the interpreter
  const cases: [number, binaryen.ExpressionRef][] = [
    [0x20, setA(b.swap(byteOrder, m.i32.load(0, 4, m.i32.add(get(ptr), get(k))), temp))], // ld [k]: k is an aligned offset below 64 (verify())
    [0x80, setA(b.k(SECCOMP_DATA_SIZE))], // ld #len
    [0x81, setX(b.k(SECCOMP_DATA_SIZE))], // ldx #len
    [0x00, setA(get(k))], // ld #k
    [0x01, setX(get(k))], // ldx #k
    [0x60, setA(m.i32.load(0, 4, slot()))], // ld M[k]: k < 16 and written before (verify())
    [0x61, setX(m.i32.load(0, 4, slot()))],
    [0x02, store(a)], // st M[k]
    [0x03, store(x)], // stx M[k]
    [0x04, alu('add', k)],
    [0x0c, alu('add', x)],
    [0x14, alu('sub', k)],
    [0x1c, alu('sub', x)],
    [0x24, alu('mul', k)],
    [0x2c, alu('mul', x)],
    [0x34, alu('div_u', k)], // div #k: k != 0 (verify())
    [0x3c, m.block(null, [m.if(m.i32.eqz(get(x)), exit(b.k(0))), alu('div_u', x)])], // div x: X = 0 returns 0 from the whole filter
    [0x44, alu('or', k)],
    [0x4c, alu('or', x)],
    [0x54, alu('and', k)],
    [0x5c, alu('and', x)],
    [0x64, alu('shl', k)], // lsh #k: k < 32 (verify())
    [0x6c, alu('shl', x)], // lsh x: i32.shl takes the count mod 32, as the kernel does
    [0x74, alu('shr_u', k)], // rsh #k: k < 32 (verify())
    [0x7c, alu('shr_u', x)], // rsh x: i32.shr_u takes the count mod 32
    [0x84, setA(m.i32.sub(b.k(0), get(a)))], // neg
    [0xa4, alu('xor', k)],
    [0xac, alu('xor', x)],
    [0x07, setX(get(a))], // tax
    [0x87, setA(get(x))], // txa
    [0x05, m.block(null, [b.set(ip, m.i32.add(get(ip), m.i32.add(b.k(8), m.i32.shl(get(k), b.k(3))))), m.br('step')])], // ja
    [0x15, jumpIf(m.i32.eq(get(a), get(k)))], // jeq #k
    [0x1d, jumpIf(m.i32.eq(get(a), get(x)))],
    [0x25, jumpIf(m.i32.gt_u(get(a), get(k)))], // jgt: unsigned
    [0x2d, jumpIf(m.i32.gt_u(get(a), get(x)))],
    [0x35, jumpIf(m.i32.ge_u(get(a), get(k)))], // jge
    [0x3d, jumpIf(m.i32.ge_u(get(a), get(x)))],
    [0x45, jumpIf(m.i32.and(get(a), get(k)))], // jset: any common bit
    [0x4d, jumpIf(m.i32.and(get(a), get(x)))],
    [0x06, exit(get(k))], // ret #k
    [0x16, exit(get(a))], // ret a
  ];
  const label = (i: number) => (i === cases.length ? 'invalid' : `case${i}`);
  const codes = new Map(cases.map(([code], i) => [code, label(i)]));
  const targets = Array.from({ length: Math.max(...codes.keys()) + 1 }, (_, code) => codes.get(code) ?? 'invalid');
  // Case i's code follows the end of block `case<i>`, which the br_table inside them all leaves for it.
  let dispatch = m.block(label(0), [b.set(k, m.i32.load(4, 4, get(ip))), m.switch(targets, 'invalid', m.i32.load16_u(0, 2, get(ip)))]);
  cases.forEach(([, body], i) => {
    dispatch = m.block(label(i + 1), [dispatch, body]);
  });
  return m.block('ret', [m.loop('step', m.block(null, [dispatch, m.unreachable()]))], i32);
}

/**
 * `run_filters_<order>(ptr, row) -> i32`: every filter, newest first, each
 * from its entry in the table row at `row` (pc 0 when row is 0), keeping the
 * value whose action ranks lowest (signed), from ALLOW: resolveStack. A
 * resume point sets A, X and M (its own, until a store copies it); from pc
 * 0, A and X are 0 and M is the scratch M with what the last run left,
 * which the program never reads before it stores (verify()).
 */
function addRunFilters(b: KernelBuilder, byteOrder: ByteOrder): void {
  const { m } = b;
  const { row, filter, result, value, directory, ip, a, x, mem, scratch, entry, resume } = RUN;
  const get = (local: number) => b.get(local);
  const rank = (local: number) => m.i32.and(get(local), b.k(SECCOMP_RET_ACTION_FULL));
  const fromResumePoint = m.block(null, [
    b.set(resume, m.i32.add(m.i32.load(4, 4, get(directory)), m.i32.mul(m.i32.sub(get(entry), b.k(1)), b.k(RESUME_POINT_BYTES)))),
    b.set(ip, m.i32.add(get(ip), m.i32.shl(m.i32.load(0, 4, get(resume)), b.k(3)))),
    b.set(a, m.i32.load(4, 4, get(resume))),
    b.set(x, m.i32.load(8, 4, get(resume))),
    b.set(mem, m.i32.add(get(resume), b.k(12))),
  ]);
  const eachFilter = m.loop(
    'filter',
    m.block(null, [
      b.set(filter, m.i32.sub(get(filter), b.k(1))),
      b.set(directory, m.i32.sub(get(directory), b.k(FILTER_ENTRY_BYTES))),
      // With row 0 this reads harmless bytes near address 0, then picks entry 0.
      b.set(entry, m.select(get(row), m.i32.load(4, 4, m.i32.add(get(row), m.i32.shl(get(filter), b.k(2)))), b.k(0))),
      b.set(ip, m.i32.load(0, 4, get(directory))),
      b.set(a, b.k(0)),
      b.set(x, b.k(0)),
      b.set(mem, get(scratch)),
      m.if(get(entry), fromResumePoint),
      b.set(value, makeInterpreter(b, byteOrder)),
      m.if(m.i32.lt_s(rank(value), rank(result)), b.set(result, get(value))),
      m.br('filter', get(filter)),
    ]),
  );
  const filters = b.header('filterCount');
  const body = m.block(
    null,
    [
      b.set(scratch, b.header('scratchM')),
      b.set(filter, filters),
      b.set(
        directory,
        m.i32.add(
          m.i32.add(b.k(TABLE_OFFSET + HEADER_BYTES), m.i32.mul(b.header('archCount'), b.k(ARCH_ENTRY_BYTES))),
          m.i32.mul(get(filter), b.k(FILTER_ENTRY_BYTES)),
        ),
      ),
      b.set(result, b.k(ACTIONS.ALLOW)),
      eachFilter,
      get(result),
    ],
    i32,
  );
  m.addFunction(runFunction(byteOrder), binaryen.createType([i32, i32]), i32, Array(Object.keys(RUN).length - 2).fill(i32), body);
}

/** The locals of a table lookup, after the function's parameters. */
const LOOKUP_NAMES = ['archesEnd', 'stride', 'first', 'length', 'rows', 'row', 'value', 'index', 'entry', 'arch', 'temp', 'chain', 'test', 'chosen'] as const;
type LookupLocals = Record<(typeof LOOKUP_NAMES)[number], number> & { readonly ptr: number };

/** Sets the lookup's `archesEnd` and `stride` from the header: once per call. */
function makeLookupSetup(b: KernelBuilder, locals: LookupLocals): binaryen.ExpressionRef[] {
  const { m } = b;
  return [
    b.set(locals.archesEnd, m.i32.add(b.k(TABLE_OFFSET + HEADER_BYTES), m.i32.mul(b.header('archCount'), b.k(ARCH_ENTRY_BYTES)))),
    b.set(locals.stride, b.header('stride')),
  ];
}

/** Finds the arch entry of local `arch` (in the host's order): its firstNr, length and rowsAt in locals; length 0 when there is none. */
function makeArchSearch(b: KernelBuilder, byteOrder: ByteOrder, locals: LookupLocals): binaryen.ExpressionRef {
  const { m } = b;
  const found = `found_${byteOrder}`;
  const arches = `arches_${byteOrder}`;
  const { entry, archesEnd, arch, first, length, rows } = locals;
  const get = (local: number) => b.get(local);
  return m.block(found, [
    b.set(length, b.k(0)),
    b.set(entry, b.k(TABLE_OFFSET + HEADER_BYTES)),
    m.loop(
      arches,
      m.block(null, [
        m.br(found, m.i32.eq(get(entry), get(archesEnd))),
        m.if(
          m.i32.eq(m.i32.load(0, 4, get(entry)), get(arch)),
          m.block(null, [
            b.set(first, m.i32.load(4, 4, get(entry))),
            b.set(length, m.i32.load(8, 4, get(entry))),
            b.set(rows, m.i32.load(12, 4, get(entry))),
            m.br(found),
          ]),
        ),
        b.set(entry, m.i32.add(get(entry), b.k(ARCH_ENTRY_BYTES))),
        m.br(arches),
      ]),
    ),
  ]);
}

/**
 * The record's value as an i32 expression, leaving its table row (0 when the
 * tables do not hold its arch and nr) in local `row` for the counters.
 * `findArch` leaves the record's arch entry in the locals makeArchSearch sets.
 */
function makeDecision(b: KernelBuilder, byteOrder: ByteOrder, locals: LookupLocals, findArch: binaryen.ExpressionRef): binaryen.ExpressionRef {
  const { m } = b;
  const { ptr, first, length, rows, row, value, index, stride, temp } = locals;
  const get = (local: number) => b.get(local);
  const run = `run_${byteOrder}`;
  const decided = `decided_${byteOrder}`;
  const lookup = m.block(run, [
    b.set(row, b.k(0)),
    findArch,
    b.set(index, m.i32.sub(b.swap(byteOrder, m.i32.load(SECCOMP_DATA_NR, 4, get(ptr)), temp), get(first))), // nr below firstNr wraps past the table's end
    m.br(run, m.i32.ge_u(get(index), get(length))),
    b.set(row, m.i32.add(get(rows), m.i32.mul(get(index), get(stride)))),
    b.set(value, m.i32.load(0, 4, get(row))),
    m.drop(m.br(decided, m.i32.ne(get(value), b.k(NOT_CONSTANT)), get(value))), // br_if passes its value on when not taken
    ...(byteOrder === 'le' ? [makeChainExit(b, locals, decided)] : []), // a chain test loads a 64-bit argument as it lies
  ]);
  return m.block(decided, [lookup, m.call(runFunction(byteOrder), [get(ptr), get(row)], i32)], i32);
}

/**
 * Where the tables have chains (chains.ts) and the row at local `row` has
 * one, ends block `decided` with its value for the record at local `ptr`:
 * every test computed, padded to the header's chainLength, the leaf of the
 * first that ends the run taken with a `select` (makeChainTest).
 */
function makeChainExit(b: KernelBuilder, locals: LookupLocals, decided: string): binaryen.ExpressionRef {
  const { m } = b;
  const { ptr, row, chain, test, chosen } = locals;
  const get = (local: number) => b.get(local);
  const tests = m.loop(
    'chain',
    m.if(
      m.i32.ne(get(test), get(chain)),
      m.block(null, [b.set(test, m.i32.sub(get(test), b.k(CHAIN_TEST_BYTES))), b.set(chosen, makeChainTest(m, ptr, test, 0, get(chosen))), m.br('chain')]),
    ),
  );
  return m.if(
    b.header('chainFromRow'),
    m.block(null, [
      b.set(chain, m.i32.load(0, 4, m.i32.add(get(row), b.header('chainFromRow')))),
      m.if(
        get(chain),
        m.block(null, [
          b.set(test, m.i32.add(get(chain), m.i32.mul(b.header('chainLength'), b.k(CHAIN_TEST_BYTES)))), // past the last test: at the chain's last value
          b.set(chosen, m.i32.load(0, 4, get(test))),
          tests,
          m.br(decided, 0, get(chosen)),
        ]),
      ),
    ]),
  );
}

/** `decide(record) -> i32`: one record, its arch searched for. */
function makeDecide(b: KernelBuilder, byteOrder: ByteOrder): binaryen.ExpressionRef {
  const locals: LookupLocals = { ptr: 0, ...numbered(LOOKUP_NAMES, 1) };
  const findArch = b.m.block(null, [
    b.set(locals.arch, b.swap(byteOrder, b.m.i32.load(SECCOMP_DATA_ARCH, 4, b.get(locals.ptr)), locals.temp)),
    makeArchSearch(b, byteOrder, locals),
  ]);
  return b.m.block(null, [...makeLookupSetup(b, locals), makeDecision(b, byteOrder, locals, findArch)], i32);
}

/** The batch functions' parameters, then their own locals, then the lookup's. */
const BATCH = numbered(['ptr', 'count', 'out', 'total', 'counterAt', 'cached']);
const BATCH_LOOKUP: LookupLocals = { ptr: BATCH.ptr, ...numbered(LOOKUP_NAMES, Object.keys(BATCH).length) };
const BATCH_LOCALS = Object.keys(BATCH).length + LOOKUP_NAMES.length - 3;

/**
 * The loop over `count` records at `ptr`, storing each one's value at `out`
 * on; an i32 expression: the index of the record it stopped at, or `count`.
 * Counting, it counts each record in its row's counter when the row is
 * settled on the record's value (table-layout.ts), and else stops there, the
 * record decided but not counted, its row at the header's stoppedRow: as
 * makeBatchLoop in module.ts. The arch entry of the last arch seen is kept
 * in locals (`cached` holds that arch as the record stores it), so a run of
 * records of one arch searches once.
 */
function makeBatch(b: KernelBuilder, byteOrder: ByteOrder, counting: boolean): binaryen.ExpressionRef {
  const { m } = b;
  const { ptr, count, out, total, counterAt, cached } = BATCH;
  const { row, value, arch, temp } = BATCH_LOOKUP;
  const get = (local: number) => b.get(local);
  const stopped = `stopped_${byteOrder}`;
  const next = `next_${byteOrder}`;
  const rawArch = () => m.i32.load(SECCOMP_DATA_ARCH, 4, get(ptr));
  const findArch = m.if(
    m.i32.ne(rawArch(), get(cached)),
    m.block(null, [b.set(cached, rawArch()), b.set(arch, b.swap(byteOrder, get(cached), temp)), makeArchSearch(b, byteOrder, BATCH_LOOKUP)]),
  );
  const counter = (field: number) => m.i32.add(get(row), m.i32.add(get(counterAt), b.k(field)));
  const counted = `counted_${byteOrder}`;
  const unsettled = `unsettled_${byteOrder}`;
  // Three jumps the CPU predicts, as in makeBatchLoop.
  const countRecord = [
    m.block(counted, [
      m.block(unsettled, [
        m.br(unsettled, m.i32.eqz(get(row))),
        m.br(unsettled, m.i32.eqz(m.i32.load(0, 4, counter(ROW_COUNTER.settled)))),
        m.br(unsettled, m.i32.ne(m.i32.load(0, 4, counter(ROW_COUNTER.value)), get(value))),
        m.i64.store(0, 8, counter(ROW_COUNTER.count), m.i64.add(m.i64.load(0, 8, counter(ROW_COUNTER.count)), m.i64.const(1n))),
        m.br(counted),
      ]),
      m.i32.store(0, 4, b.k(TABLE_OFFSET + TABLE_HEADER.stoppedRow), get(row)),
      m.br(stopped, 0, m.i32.sub(get(total), get(count))),
    ]),
  ];
  const loop = m.loop(
    next,
    m.block(null, [
      b.set(value, makeDecision(b, byteOrder, BATCH_LOOKUP, findArch)),
      m.i32.store(0, 4, get(out), get(value)),
      ...(counting ? countRecord : []),
      b.set(ptr, m.i32.add(get(ptr), b.k(SECCOMP_DATA_SIZE))),
      b.set(out, m.i32.add(get(out), b.k(4))),
      b.set(count, m.i32.sub(get(count), b.k(1))),
      m.br(next, get(count)),
    ]),
  );
  // `cached` starts as no arch the first record can have: its complement.
  const start = m.block(null, [b.set(cached, m.i32.xor(rawArch(), b.k(-1))), loop]);
  return m.block(
    stopped,
    [
      ...makeLookupSetup(b, BATCH_LOOKUP),
      ...(counting ? [b.set(counterAt, b.header('counterAt'))] : []),
      b.set(total, get(count)),
      m.if(get(count), start),
      get(total),
    ],
    i32,
  );
}

/** `body(byteOrder)` for the byte order the header's bigEndian field gives. */
function makeByteOrderSwitch(b: KernelBuilder, body: (byteOrder: ByteOrder) => binaryen.ExpressionRef): binaryen.ExpressionRef {
  return b.m.if(b.header('bigEndian'), body('be'), body('le'));
}

/**
 * Builds the kernel, validates it and optimizes it: the bytes
 * kernel.generated.ts holds. Throws if Binaryen finds the module invalid: a
 * bug here.
 */
export function buildKernel(): Uint8Array {
  return emitModule('the table kernel', KERNEL_OPTIMIZE, (m) => {
    const b = new KernelBuilder(m);
    m.setFeatures(binaryen.Features.MutableGlobals);
    m.setMemory(pagesFor(TABLE_OFFSET), MAX_MEMORY_PAGES, 'memory', [], false, false, KERNEL_MEMORY.name);
    m.addMemoryImport(KERNEL_MEMORY.name, KERNEL_MEMORY.module, KERNEL_MEMORY.name);
    m.addGlobal('heap_base', i32, true, b.k(TABLE_OFFSET));
    m.addGlobalExport('heap_base', 'heap_base');
    addRunFilters(b, 'le');
    addRunFilters(b, 'be');
    const params = binaryen.createType([i32, i32, i32]);
    m.addFunction(
      'decide',
      i32,
      i32,
      Array(LOOKUP_NAMES.length).fill(i32),
      makeByteOrderSwitch(b, (order) => makeDecide(b, order)),
    );
    const batchLocals = Array(BATCH_LOCALS).fill(i32);
    m.addFunction('decide_batch', params, none, batchLocals, m.drop(makeByteOrderSwitch(b, (order) => makeBatch(b, order, false))));
    m.addFunction(
      'decide_count',
      params,
      i32,
      batchLocals,
      makeByteOrderSwitch(b, (order) => makeBatch(b, order, true)),
    );
    m.addFunctionExport('decide', 'decide');
    m.addFunctionExport('decide_batch', 'decide_batch');
    m.addFunctionExport('decide_count', 'decide_count');
  }).binary;
}
