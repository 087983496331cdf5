/**
 * The only file that creates, validates, optimizes, emits and disposes
 * Binaryen modules. A module holds one function per filter of a stack, the
 * kernel's precedence over them, and a batch loop, all inside wasm.
 *
 * The module's ABI (documented in the README, stable for standalone use):
 *   memory                                  exported, RECORD_CAPACITY records + outputs at first
 *   filter_<i>(record: i32) -> i32          filter i's own value (0 = oldest)
 *   decide(record: i32) -> i32              the stack's value, with the kernel's precedence
 *   decide_batch(in: i32, count: i32, out: i32)
 *                                           decide() for `count` 64-byte records at `in`,
 *                                           writing u32 values (little-endian) at `out`
 * Records are 64-byte seccomp_data in the byte order the module was compiled for.
 */
import binaryen from 'binaryen';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { ACTIONS, SECCOMP_RET_ACTION_FULL } from '../src/seccomp/actions.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { FILTER_LOCALS, lowerFilter } from './lower.js';

import { OUTPUT_OFFSET, RECORD_CAPACITY } from './layout-abi.js';

export { OUTPUT_OFFSET, RECORD_CAPACITY };
const PAGE = 65536;
const INITIAL_PAGES = Math.ceil((OUTPUT_OFFSET + RECORD_CAPACITY * 4) / PAGE);

/** How hard Binaryen optimizes; chosen by measurement (see the README's JIT section). */
export interface OptimizeSettings {
  readonly level: number;
  readonly shrink: number;
}

/** The default: -O2, measured as fast as -O3 at runtime and faster to compile on the samples. */
export const DEFAULT_OPTIMIZE: OptimizeSettings = { level: 2, shrink: 0 };

const { i32, none } = binaryen;

/** `decide`: run every filter, newest first, keeping the value whose action is lowest (signed). */
function makeDecide(m: binaryen.Module, count: number): binaryen.ExpressionRef {
  const PTR = 0;
  const RESULT = 1;
  const VALUE = 2;
  const rank = (local: number) => m.i32.and(m.local.get(local, i32), m.i32.const(SECCOMP_RET_ACTION_FULL | 0));
  const body: binaryen.ExpressionRef[] = [m.local.set(RESULT, m.i32.const(ACTIONS.ALLOW))];
  for (let i = count - 1; i >= 0; i--) {
    body.push(
      m.local.set(VALUE, m.call(`filter_${i}`, [m.local.get(PTR, i32)], i32)),
      m.if(m.i32.lt_s(rank(VALUE), rank(RESULT)), m.local.set(RESULT, m.local.get(VALUE, i32))),
    );
  }
  body.push(m.local.get(RESULT, i32));
  return m.block(null, body, i32);
}

/** `decide_batch`: the loop over records, inside wasm. */
function makeDecideBatch(m: binaryen.Module): binaryen.ExpressionRef {
  const IN = 0;
  const COUNT = 1;
  const OUT = 2;
  const get = (local: number) => m.local.get(local, i32);
  return m.if(
    get(COUNT),
    m.loop('next', m.block(null, [
      m.i32.store(0, 4, get(OUT), m.call('decide', [get(IN)], i32)),
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
 * first), all reading records in `byteOrder`. Throws if Binaryen finds the
 * module invalid: that would be a bug in the lowering.
 */
export function buildModule(
  filters: readonly VerifiedProgram[],
  byteOrder: ByteOrder,
  options: { optimize?: OptimizeSettings; text?: boolean } = {},
): BuiltModule {
  const m = new binaryen.Module();
  try {
    m.setMemory(INITIAL_PAGES, 65536, 'memory');
    filters.forEach((filter, i) => {
      m.addFunction(`filter_${i}`, i32, i32, FILTER_LOCALS, lowerFilter(m, filter, byteOrder));
      m.addFunctionExport(`filter_${i}`, `filter_${i}`);
    });
    m.addFunction('decide', i32, i32, [i32, i32], makeDecide(m, filters.length));
    m.addFunction('decide_batch', binaryen.createType([i32, i32, i32]), none, [], makeDecideBatch(m));
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
