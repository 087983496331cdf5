/**
 * The decision tables as an engine (`table`): the generic table kernel
 * (kernel.ts, shipped built in kernel.generated.ts) loaded with a stack's
 * tables. It needs no binaryen and no compile: `cbpf eval` decides with it
 * from its first batches until the JIT's modules are there, inside wasm, and
 * counting for `--summary` as they do.
 */
import { decisionTable } from '../src/decision-table.js';
import type { MakeEngine } from '../src/engine.js';
import { InputError } from '../src/errors.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { CompiledFilter, instanceEngine, type JitEngine } from './instance.js';
import { KERNEL_WASM_BASE64 } from './kernel.generated.js';
import { layoutTables } from './table-layout.js';

const KERNEL_WASM: Uint8Array = Buffer.from(KERNEL_WASM_BASE64, 'base64');
/** Compiled once per thread, on first use: one module serves every stack. */
let kernel: WebAssembly.Module | undefined;

/**
 * The table block of `filters` (table-layout.ts): what kernelEngine loads,
 * here or in another thread (worker threads get the main thread's block
 * instead of building their own).
 * @throws InputError `empty-stack` for no filters.
 */
export function tableBlock(filters: readonly VerifiedProgram[]): Uint8Array {
  if (filters.length === 0) throw new InputError('empty-stack', 'the decision tables need at least one filter');
  return layoutTables(decisionTable(filters), filters).bytes;
}

/** The table kernel loaded with `tables`, the block tableBlock made for a stack of `filterCount` filters. */
export function kernelEngine(tables: Uint8Array, filterCount: number): JitEngine {
  kernel ??= new WebAssembly.Module(KERNEL_WASM);
  const module = kernel;
  return { ...instanceEngine((byteOrder) => new CompiledFilter(KERNEL_WASM, module, byteOrder, filterCount, tables)), name: 'table' };
}

/**
 * The decision tables of `filters`, and the filters run from their resume
 * points where the tables cannot say, all in the table kernel.
 * @throws InputError `empty-stack` for no filters.
 */
export const tableEngine: MakeEngine = (filters): JitEngine => kernelEngine(tableBlock(filters), filters.length);
