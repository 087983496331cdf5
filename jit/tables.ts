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
import { CompiledFilter, instanceEngine, type JitEngine } from './instance.js';
import { KERNEL_WASM_BASE64 } from './kernel.generated.js';
import { layoutTables } from './table-layout.js';

const KERNEL_WASM: Uint8Array = Buffer.from(KERNEL_WASM_BASE64, 'base64');
/** Compiled once per thread, on first use: one module serves every stack. */
let kernel: WebAssembly.Module | undefined;

/**
 * The decision tables of `filters`, and the filters run from their resume
 * points where the tables cannot say, all in the table kernel.
 * @throws InputError `empty-stack` for no filters.
 */
export const tableEngine: MakeEngine = (filters): JitEngine => {
  if (filters.length === 0) throw new InputError('empty-stack', 'the decision tables need at least one filter');
  const tables = layoutTables(decisionTable(filters), filters).bytes;
  kernel ??= new WebAssembly.Module(KERNEL_WASM);
  const module = kernel;
  return { ...instanceEngine((byteOrder) => new CompiledFilter(KERNEL_WASM, module, byteOrder, filters.length, tables)), name: 'table' };
};
