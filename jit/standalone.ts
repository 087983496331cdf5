/**
 * The standalone module as an engine: the bytes `cbpf compile` writes, run
 * with nothing but plain WebAssembly and the ABI docs/design.md documents
 * (`memory`, `heap_base`, `decide_batch`), so every check of the engines
 * checks what a standalone .wasm user gets.
 */
import type { MakeEngine } from '../src/engine.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { checkRecordBatch, SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { recordByteOrder, recordBytes } from '../src/seccomp/records.js';
import { compile } from './compiled.js';
import { pagesFor } from './layout-abi.js';

/** What a standalone module exports, as the ABI table in docs/design.md names it. */
interface StandaloneExports {
  readonly memory: WebAssembly.Memory;
  readonly heap_base: WebAssembly.Global;
  readonly decide_batch: (input: number, count: number, output: number) => void;
}

/** The u32 results of `records` (whole 64-byte records of one byte order), decided by a fresh instance of `wasm` past its heap_base, in memory grown for them. */
function decideStandalone(wasm: Uint8Array, records: Uint8Array, count: number): DataView {
  const { memory, heap_base, decide_batch } = new WebAssembly.Instance(new WebAssembly.Module(wasm), {}).exports as unknown as StandaloneExports;
  const input = heap_base.value as number;
  const output = input + count * SECCOMP_DATA_SIZE;
  const needed = output + count * 4 - memory.buffer.byteLength;
  if (needed > 0) memory.grow(pagesFor(needed));
  new Uint8Array(memory.buffer, input, records.length).set(records);
  decide_batch(input, count, output);
  return new DataView(memory.buffer.slice(output, output + count * 4));
}

/**
 * Each byte order's records go through that byte order's module as one
 * batch; the module's u32 results are little-endian, read here as such.
 */
export const standaloneEngine: MakeEngine = (filters) => ({
  name: 'standalone',
  decide: (batch) => {
    checkRecordBatch(batch);
    const out = new Uint32Array(batch.count);
    for (const byteOrder of ['le', 'be'] as const satisfies readonly ByteOrder[]) {
      const indices = Array.from({ length: batch.count }, (_, i) => i).filter((i) => recordByteOrder(batch, i) === byteOrder);
      if (indices.length === 0) continue;
      const records = new Uint8Array(indices.length * SECCOMP_DATA_SIZE);
      indices.forEach((i, j) => {
        records.set(recordBytes(batch, i), j * SECCOMP_DATA_SIZE);
      });
      const values = decideStandalone(compile(filters, { byteOrder }).wasm, records, indices.length);
      indices.forEach((i, j) => {
        out[i] = values.getUint32(j * 4, true);
      });
    }
    return out;
  },
});
