/**
 * Syscall names and numbers per arch, from the generated tables.
 */
import { type Arch, archByName, X32_SYSCALL_BIT } from './arches.js';
import { SYSCALL_TABLES } from './syscall-tables.generated.js';

type Table = Readonly<Record<string, number>>;
const tables: Readonly<Record<string, Table>> = SYSCALL_TABLES;
const reversed = new Map<string, Map<number, string>>();
const byName = new Map<string, Map<string, number>>();

/** A table's numbers by name, as a Map: looked up per record of a trace, where a table object's own properties were far slower (docs/benchmarks.md). */
function numbers(tableName: string): Map<string, number> {
  let numbers = byName.get(tableName);
  if (!numbers) {
    numbers = new Map(Object.entries(tables[tableName] ?? {}));
    byName.set(tableName, numbers);
  }
  return numbers;
}

function reverse(tableName: string): Map<number, string> {
  let byNumber = reversed.get(tableName);
  if (!byNumber) {
    byNumber = new Map();
    for (const [name, nr] of Object.entries(tables[tableName] ?? {})) if (!byNumber.has(nr)) byNumber.set(nr, name);
    reversed.set(tableName, byNumber);
  }
  return byNumber;
}

const X32 = archByName('x32')!;

/**
 * The ABI whose table numbers `nr` on `arch`: x32 calls arrive as x86_64 with
 * `X32_SYSCALL_BIT` set in `nr`, so such x86_64 numbers are x32's (negative
 * ones, like the -1 of a syscall a tracer skipped, are not); else `arch`.
 */
export function abiOf(arch: Arch, nr: number): Arch {
  return arch.name === 'x86_64' && (nr | 0) > 0 && nr & X32_SYSCALL_BIT ? X32 : arch;
}

/** The name of syscall `nr` on `arch` (x32's for x86_64 numbers with the x32 bit), or undefined. */
export function syscallName(arch: Arch, nr: number): string | undefined {
  const table = abiOf(arch, nr).table;
  return table === undefined ? undefined : reverse(table).get(nr);
}

/** The number of the syscall called `name` on `arch` (x32 numbers include the x32 bit). */
export function syscallNumber(arch: Arch, name: string): number | undefined {
  return arch.table === undefined ? undefined : numbers(arch.table).get(name);
}
