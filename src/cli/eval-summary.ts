/**
 * `cbpf eval --summary`: counts of decisions per action, per arch and per
 * syscall, with the first few records of each decision other than ALLOW as
 * examples. Counting is on the hot path of a trace of billions of records, so
 * it keeps raw numbers (names come at the end) and partial summaries, made on
 * worker threads, merge.
 */
import { ACTIONS, SECCOMP_RET_ACTION_FULL, formatAction, hexValue } from '../seccomp/actions.js';
import { archByAuditArch } from '../seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { decodeSeccompData, recordByteOrder, type RecordBatch, type SeccompData } from '../seccomp/records.js';
import { syscallName } from '../seccomp/syscalls.js';

/** How many example records the summary keeps for each decision other than ALLOW. */
export const EXAMPLES_PER_DECISION = 3;

/** Syscall numbers below this are counted in an array; the rest (x32, bogus numbers) in a map. */
const DENSE_NR_LIMIT = 1024;

/** One record shown as an example, with its index in the trace. */
export interface SummaryExample {
  readonly record: number;
  readonly data: SeccompData;
}

/** One (arch, nr) pair's counts: records, and records by decision value. */
type SyscallCounts = [arch: number, nr: number, records: number, values: Array<[value: number, records: number]>];

/** Summary counts as plain data, to post from a worker thread and merge. */
export interface SummaryPartial {
  readonly syscalls: SyscallCounts[];
  readonly examples: Array<[value: number, examples: SummaryExample[]]>;
}

/** Counts for one (arch, nr): its first decision value is counted inline, any others in a map. */
class Counter {
  records = 0;
  firstCount = 0;
  others: Map<number, number> | undefined;
  constructor(readonly arch: number, readonly nr: number, readonly first: number) {}

  add(value: number, records: number): void {
    this.records += records;
    if (value === this.first) this.firstCount += records;
    else (this.others ??= new Map()).set(value, (this.others.get(value) ?? 0) + records);
  }

  values(): Array<[number, number]> {
    return [[this.first, this.firstCount] as [number, number], ...(this.others ?? [])].filter(([, n]) => n > 0);
  }
}

/** The counters of one arch value. */
class ArchCounters {
  readonly dense: Array<Counter | undefined> = [];
  readonly sparse = new Map<number, Counter>();
  constructor(readonly arch: number) {}

  counter(nr: number, value: number): Counter {
    if (nr >= 0 && nr < DENSE_NR_LIMIT) return (this.dense[nr] ??= new Counter(this.arch, nr, value));
    let counter = this.sparse.get(nr);
    if (!counter) this.sparse.set(nr, (counter = new Counter(this.arch, nr, value)));
    return counter;
  }

  *all(): Generator<Counter> {
    for (const counter of this.dense) if (counter) yield counter;
    yield* this.sparse.values();
  }
}

/** The summary as data, with names: what `--summary --format json` prints. */
export interface SummaryResult {
  readonly records: number;
  readonly actions: Record<string, number>;
  readonly arches: Array<{ arch: string; count: number; actions: Record<string, number> }>;
  readonly syscalls: Array<{ arch: string; nr: string; count: number; actions: Record<string, number> }>;
  readonly examples: Array<{ action: string; record: number; arch: string; nr: string; args: string[]; ip: string }>;
}

const isAllow = (value: number): boolean => (value & SECCOMP_RET_ACTION_FULL) >>> 0 === ACTIONS.ALLOW;
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

export class Summary {
  private readonly arches = new Map<number, ArchCounters>();
  private readonly examples = new Map<number, SummaryExample[]>();

  /** Counts a batch's decisions; `first` is the index of its first record in the trace. */
  add(values: Uint32Array, batch: RecordBatch, first: number): void {
    const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    let lastArch = -1;
    let counters: ArchCounters | undefined;
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      const le = batch.bigEndian[i] === 0;
      const arch = view.getUint32(i * SECCOMP_DATA_SIZE + SECCOMP_DATA_ARCH, le);
      const nr = view.getInt32(i * SECCOMP_DATA_SIZE + SECCOMP_DATA_NR, le);
      if (arch !== lastArch || !counters) {
        lastArch = arch;
        counters = this.archCounters(arch);
      }
      counters.counter(nr, value).add(value, 1);
      if (!isAllow(value) && this.wantsExample(value)) this.addExamples(value, [{ record: first + i, data: decodeSeccompData(batch.bytes, recordByteOrder(batch, i), i * SECCOMP_DATA_SIZE) }]);
    }
  }

  /** The counts as plain data (see merge). */
  partial(): SummaryPartial {
    return {
      syscalls: [...this.counters()].map((c) => [c.arch, c.nr, c.records, c.values()]),
      examples: [...this.examples],
    };
  }

  /** Adds counts made elsewhere, from records anywhere in the trace. */
  merge(partial: SummaryPartial): void {
    for (const [arch, nr, , values] of partial.syscalls) {
      const counters = this.archCounters(arch);
      for (const [value, n] of values) counters.counter(nr, value).add(value, n);
    }
    for (const [value, examples] of partial.examples) this.addExamples(value, examples);
  }

  result(): SummaryResult {
    const counters = [...this.counters()];
    const actions: Record<string, number> = {};
    const byArch = new Map<string, { arch: string; count: number; actions: Record<string, number> }>();
    const syscalls = counters.map((c) => {
      const names = syscallNames(c.arch, c.nr);
      addByAction(actions, c.values());
      let arch = byArch.get(names.arch);
      if (!arch) byArch.set(names.arch, (arch = { arch: names.arch, count: 0, actions: {} }));
      arch.count += c.records;
      addByAction(arch.actions, c.values());
      const own: Record<string, number> = {};
      addByAction(own, c.values());
      return { ...names, count: c.records, actions: own };
    });
    const examples = [...this.examples]
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
      records: counters.reduce((n, c) => n + c.records, 0),
      actions: Object.fromEntries(Object.entries(actions).sort((a, b) => b[1] - a[1])),
      arches: [...byArch.values()].sort(byCount),
      syscalls: syscalls.sort(byCount),
      examples,
    };
  }

  format(): string {
    const s = this.result();
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

  private archCounters(arch: number): ArchCounters {
    let counters = this.arches.get(arch);
    if (!counters) this.arches.set(arch, (counters = new ArchCounters(arch)));
    return counters;
  }

  private *counters(): Generator<Counter> {
    for (const arch of this.arches.values()) yield* arch.all();
  }

  /** Whether a record decided `value` would be among the examples (records are added in trace order). */
  private wantsExample(value: number): boolean {
    return (this.examples.get(value)?.length ?? 0) < EXAMPLES_PER_DECISION;
  }

  /** Keeps the first few records, by position in the trace, of those kept so far and `examples`. */
  private addExamples(value: number, examples: readonly SummaryExample[]): void {
    const all = [...(this.examples.get(value) ?? []), ...examples].sort((a, b) => a.record - b.record);
    this.examples.set(value, all.slice(0, EXAMPLES_PER_DECISION));
  }
}
