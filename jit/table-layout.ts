/**
 * The decision tables as a module keeps them in memory, with no binaryen: one
 * row per syscall number of each tabulated arch, holding the stack's value
 * (or NOT_CONSTANT) and then, per filter, the entry number its function is
 * called with when the filters must run (0: from pc 0; n: its resume point
 * n - 1, see src/decision-table.ts).
 */
import { type DecisionTable, NOT_CONSTANT, type ResumePoint } from '../src/decision-table.js';
import { BPF_K, BPF_RET } from '../src/opcodes.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { TABLE_OFFSET } from './layout-abi.js';

/** The tables' bytes and how to find a row. */
export interface TableLayout {
  /** The rows, little-endian, to be placed at TABLE_OFFSET. */
  readonly bytes: Uint8Array;
  /** Per arch of the table: the address of its first row. */
  readonly offsets: readonly number[];
  /** Bytes per row: the value, then one entry number per filter. */
  readonly stride: number;
  /** Per filter: its resume points, entry n being `entries[n - 1]`. */
  readonly entries: readonly (readonly ResumePoint[])[];
}

/** Resume points that behave alike share an entry: at a `ret #k` the state no longer matters. */
function entryKey(program: VerifiedProgram, point: ResumePoint): string {
  return program.instructions[point.pc]!.code === (BPF_RET | BPF_K) ? `${point.pc}` : `${point.pc}:${point.a}:${point.x}:${point.m.join(',')}`;
}

/** Lays `table` out for a stack of `filters` (the ones it was made from). */
export function layoutTables(table: DecisionTable, filters: readonly VerifiedProgram[]): TableLayout {
  const stride = 4 * (1 + filters.length);
  const rows = table.arches.reduce((n, arch) => n + arch.values.length, 0);
  const bytes = new Uint8Array(rows * stride);
  const view = new DataView(bytes.buffer);
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
  const offsets: number[] = [];
  let row = 0;
  for (const arch of table.arches) {
    offsets.push(TABLE_OFFSET + row * stride);
    arch.values.forEach((value, index) => {
      const at = (row + index) * stride;
      view.setUint32(at, value, true);
      if (value !== NOT_CONSTANT) return;
      arch.resume.get(index)!.forEach((point, i) => {
        view.setUint32(at + 4 * (1 + i), entryNumber(i, point), true);
      });
    });
    row += arch.values.length;
  }
  return { bytes, offsets, stride, entries };
}
