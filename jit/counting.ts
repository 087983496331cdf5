/**
 * The summary counters of a module's table rows (table-layout.ts), from
 * JavaScript: deciding with `decide_count`, settling a row once the summary
 * needs nothing but counting for it, and taking the counts. Shared by the
 * JIT's modules and the generic table kernel, which keep the same block.
 */
import type { SyscallCount, Uncounted } from '../src/engine.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { TABLE_OFFSET } from './layout-abi.js';
import { ROW_COUNTER, readTableArches, TABLE_HEADER } from './table-layout.js';

/** What a module that counts exports. */
export interface CountingExports {
  readonly memory: WebAssembly.Memory;
  readonly decide_count: (input: number, count: number, output: number) => number;
}

/**
 * Decides the `count` records at `input`, their values at `output`, counting
 * them in the rows' counters; each record the module stops at (decided, not
 * counted) goes to `uncounted` with its index, and when that says so, the
 * record's row, if not settled yet, is settled on its value.
 */
export function decideCounting(exports: CountingExports, input: number, count: number, output: number, uncounted: Uncounted): void {
  let at = 0;
  for (;;) {
    at += exports.decide_count(input + at * SECCOMP_DATA_SIZE, count - at, output + at * 4);
    if (at === count) return;
    const words = new Uint32Array(exports.memory.buffer);
    const value = words[(output >>> 2) + at]!;
    const row = words[(TABLE_OFFSET + TABLE_HEADER.stoppedRow) >>> 2]!;
    const counter = row + words[(TABLE_OFFSET + TABLE_HEADER.counterAt) >>> 2]!;
    // A row is settled once, on one value: its count is of that value (a syscall decided several ways stops on the others).
    if (uncounted(at, value) && row !== 0 && words[(counter + ROW_COUNTER.settled) >>> 2] === 0) {
      words[(counter + ROW_COUNTER.value) >>> 2] = value;
      words[(counter + ROW_COUNTER.settled) >>> 2] = 1;
    }
    at++;
  }
}

/** The counts in `memory`'s rows as (arch, nr, value, records), each row's count reset to 0. */
export function takeCounts(memory: WebAssembly.Memory): SyscallCount[] {
  const counts: SyscallCount[] = [];
  const words = new Uint32Array(memory.buffer);
  const counterWord = words[(TABLE_OFFSET + TABLE_HEADER.counterAt) >>> 2]! >>> 2;
  for (const { auditArch, firstNr, length, firstWord, strideWords } of readTableArches(memory.buffer)) {
    for (let i = 0; i < length; i++) {
      const counter = firstWord + i * strideWords + counterWord;
      const low = (ROW_COUNTER.count >>> 2) + counter;
      const records = words[low]! + words[low + 1]! * 2 ** 32;
      if (records === 0) continue;
      counts.push([auditArch >>> 0, (firstNr + i) | 0, words[counter + (ROW_COUNTER.value >>> 2)]!, records]);
      words[low] = 0;
      words[low + 1] = 0;
    }
  }
  return counts;
}
