/**
 * `cbpf eval --summary` as a user reads it: the counts (summary-counts.ts)
 * with actions and syscalls by name, as data and as text.
 */
import { formatAction, hexValue } from '../src/seccomp/actions.js';
import { archByAuditArch } from '../src/seccomp/arches.js';
import { syscallName } from '../src/seccomp/syscalls.js';
import { EXAMPLES_PER_DECISION, SummaryCounts } from './summary-counts.js';

/** The summary as data, with names: what `--summary --format json` prints. */
export interface SummaryResult {
  readonly records: number;
  readonly actions: Record<string, number>;
  readonly arches: Array<{ arch: string; count: number; actions: Record<string, number> }>;
  readonly syscalls: Array<{ arch: string; nr: string; count: number; actions: Record<string, number> }>;
  readonly examples: Array<{ action: string; record: number; arch: string; nr: string; args: string[]; ip: string }>;
}

/** A decision as its action (`ERRNO(1)`), or as hex when it is none of the eight. */
export const actionOf = (value: number): string => formatAction(value) ?? hexValue(value);
const hex64 = (n: bigint): string => `0x${n.toString(16)}`;

/** Names for an arch value and a syscall number, where cbpf has them. */
export function syscallNames(archValue: number, nr: number): { arch: string; nr: string } {
  const arch = archByAuditArch(archValue);
  return { arch: arch?.name ?? hexValue(archValue), nr: (arch && syscallName(arch, nr >>> 0)) ?? String(nr) };
}

/** Adds `n` records of each value in `counts` to `into`, by action name. */
function addByAction(into: Record<string, number>, counts: Iterable<[number, number]>): void {
  for (const [value, n] of counts) into[actionOf(value)] = (into[actionOf(value)] ?? 0) + n;
}

/** Counts for `cbpf eval --summary`, and the summary with names they make. */
export class Summary extends SummaryCounts {
  result(): SummaryResult {
    const { syscalls, examples: kept } = this.partial();
    const actions: Record<string, number> = {};
    const byArch = new Map<string, { arch: string; count: number; actions: Record<string, number> }>();
    const bySyscall = syscalls.map(([archValue, nr, records, values]) => {
      const names = syscallNames(archValue, nr);
      addByAction(actions, values);
      let arch = byArch.get(names.arch);
      if (!arch) {
        arch = { arch: names.arch, count: 0, actions: {} };
        byArch.set(names.arch, arch);
      }
      arch.count += records;
      addByAction(arch.actions, values);
      const own: Record<string, number> = {};
      addByAction(own, values);
      return { ...names, count: records, actions: own };
    });
    const examples = kept
      .sort(([a], [b]) => actionOf(a).localeCompare(actionOf(b)))
      .flatMap(([value, list]) =>
        list.map(({ record, data }) => ({
          action: actionOf(value),
          record,
          ...syscallNames(data.arch, data.nr),
          args: data.args.map(hex64),
          ip: hex64(data.instructionPointer),
        })),
      );
    const byCount = <T extends { count: number }>(a: T, b: T): number => b.count - a.count;
    return {
      records: syscalls.reduce((n, [, , records]) => n + records, 0),
      actions: Object.fromEntries(Object.entries(actions).sort((a, b) => b[1] - a[1])),
      arches: [...byArch.values()].sort(byCount),
      syscalls: bySyscall.sort(byCount),
      examples,
    };
  }
}

/** A summary as the text `cbpf eval --summary` prints. */
export function formatSummary(s: SummaryResult): string {
  const pct = (n: number): string => `${((100 * n) / Math.max(1, s.records)).toFixed(1)}%`;
  const decided = (actions: Record<string, number>): string => {
    const entries = Object.entries(actions).sort((a, b) => b[1] - a[1]);
    return entries.length === 1 ? entries[0]![0] : entries.map(([a, n]) => `${a} ${n}`).join(', ');
  };
  const lines = [`records: ${s.records}`, 'actions:'];
  for (const [action, n] of Object.entries(s.actions)) lines.push(`  ${action.padEnd(16)} ${String(n).padStart(10)}  ${pct(n).padStart(6)}`);
  lines.push('arches:');
  for (const a of s.arches) lines.push(`  ${a.arch.padEnd(16)} ${String(a.count).padStart(10)}  ${decided(a.actions)}`);
  lines.push('syscalls:');
  for (const e of s.syscalls) lines.push(`  ${`${e.arch} ${e.nr}`.padEnd(28)} ${String(e.count).padStart(10)}  ${decided(e.actions)}`);
  if (s.examples.length > 0) {
    lines.push(`examples (the first ${EXAMPLES_PER_DECISION} records of each decision other than ALLOW):`);
    for (const e of s.examples) lines.push(`  ${e.action.padEnd(16)} record ${e.record}: ${e.arch} ${e.nr}(${e.args.join(', ')})`);
  }
  return `${lines.join('\n')}\n`;
}
