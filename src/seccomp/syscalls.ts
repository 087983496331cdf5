/**
 * Syscall names and numbers per arch, from the generated tables.
 */
import { X32_SYSCALL_BIT, type Arch } from './arches.js';
import { SYSCALL_TABLES } from './syscall-tables.generated.js';

type Table = Readonly<Record<string, number>>;
const tables: Readonly<Record<string, Table>> = SYSCALL_TABLES;
const reversed = new Map<string, Map<number, string>>();

function reverse(tableName: string): Map<number, string> {
  let byNumber = reversed.get(tableName);
  if (!byNumber) {
    byNumber = new Map();
    for (const [name, nr] of Object.entries(tables[tableName] ?? {})) if (!byNumber.has(nr)) byNumber.set(nr, name);
    reversed.set(tableName, byNumber);
  }
  return byNumber;
}

/**
 * The table that numbers `nr` on `arch`. x32 calls arrive as x86_64 with
 * `X32_SYSCALL_BIT` set, so an x86_64 number with that bit reads from x32.
 */
function tableFor(arch: Arch, nr: number): string | undefined {
  if (arch.name === 'x86_64' && nr & X32_SYSCALL_BIT) return 'x32';
  return arch.table;
}

/** The name of syscall `nr` on `arch`, or undefined when the table has none. */
export function syscallName(arch: Arch, nr: number): string | undefined {
  const table = tableFor(arch, nr);
  return table === undefined ? undefined : reverse(table).get(nr);
}

/** The number of the syscall called `name` on `arch` (x32 numbers include the x32 bit). */
export function syscallNumber(arch: Arch, name: string): number | undefined {
  if (arch.table === undefined) return undefined;
  return Object.hasOwn(tables[arch.table]!, name) ? tables[arch.table]![name] : undefined;
}

