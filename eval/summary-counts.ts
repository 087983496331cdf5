/**
 * The counting of `cbpf eval --summary`: decisions per arch and syscall, by
 * value, with the first few records of each decision other than ALLOW as
 * examples. The engines count nearly every record themselves, inside wasm
 * (Engine.decideCounting): this class sees the records they do not count
 * (countOne), which tell it when a syscall needs nothing but counting, and
 * takes their counts (addCounts). It keeps raw numbers, and partial counts,
 * made on worker threads, merge; names come at the end (summary.ts), so a
 * worker thread loads no syscall names.
 */
import type { SyscallCount } from '../src/engine.js';
import { ACTIONS } from '../src/seccomp/actions.js';
import { int32At, SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE, wordAt } from '../src/seccomp/data.js';
import { decodeSeccompData, type RecordBatch, recordByteOrder, type SeccompData } from '../src/seccomp/records.js';

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

/**
 * The counts of one arch value, by syscall number and decision value. Nearly
 * every record is a syscall number below DENSE_NR_LIMIT decided the way the
 * first record of that number was: those are counted in typed arrays; the
 * rest (other values, other numbers) in maps.
 */
class ArchCounts {
  /** For each dense syscall number: the first decision value counted, and how many records had it (0: none yet). */
  private readonly firstValue = new Uint32Array(DENSE_NR_LIMIT);
  private readonly firstCount = new Float64Array(DENSE_NR_LIMIT);
  /** Records by value for everything else, by syscall number. */
  private readonly rest = new Map<number, Map<number, number>>();

  constructor(readonly arch: number) {}

  add(nr: number, value: number, records: number): void {
    if (nr >= 0 && nr < DENSE_NR_LIMIT) {
      if (this.firstCount[nr] === 0) this.firstValue[nr] = value;
      if (this.firstValue[nr] === value) {
        this.firstCount[nr]! += records;
        return;
      }
    }
    let values = this.rest.get(nr);
    if (!values) {
      values = new Map();
      this.rest.set(nr, values);
    }
    values.set(value, (values.get(value) ?? 0) + records);
  }

  /** Every syscall number counted, with its records by value. */
  *syscalls(): Generator<SyscallCounts> {
    const counts = (nr: number, values: Array<[number, number]>): SyscallCounts => [this.arch, nr, values.reduce((n, [, r]) => n + r, 0), values];
    for (let nr = 0; nr < DENSE_NR_LIMIT; nr++) {
      if (this.firstCount[nr]! > 0) yield counts(nr, [[this.firstValue[nr]!, this.firstCount[nr]!], ...(this.rest.get(nr) ?? [])]);
    }
    for (const [nr, values] of this.rest) if (nr < 0 || nr >= DENSE_NR_LIMIT) yield counts(nr, [...values]);
  }
}

/** ALLOW's action bits (SECCOMP_RET_ACTION_FULL, the top 16), compared as a small integer: on the hot path, masking with 0xffff0000 made counting twice as slow. */
const ALLOW_ACTION_BITS = ACTIONS.ALLOW >>> 16;
const isAllow = (value: number): boolean => value >>> 16 === ALLOW_ACTION_BITS;

/** A summary's counts and examples, as raw numbers. */
export class SummaryCounts {
  private readonly arches = new Map<number, ArchCounts>();
  private readonly examples = new Map<number, SummaryExample[]>();

  /**
   * Counts record i of `batch`, decided `value`, which the engine did not
   * count (`first` is the batch's first record's index in the trace), keeping
   * it as an example if it is one; returns whether the engine may count the
   * records of its arch and syscall decided `value` from now on: ALLOW, or a
   * value whose examples are all kept.
   */
  countOne(batch: RecordBatch, i: number, value: number, first: number): boolean {
    const le = recordByteOrder(batch, i) === 'le';
    const at = i * SECCOMP_DATA_SIZE;
    const counts = this.archCounts(wordAt(batch.bytes, at + SECCOMP_DATA_ARCH, le));
    counts.add(int32At(batch.bytes, at + SECCOMP_DATA_NR, le), value, 1);
    if (isAllow(value)) return true;
    if (this.wantsExample(value)) this.addExamples(value, [{ record: first + i, data: decodeSeccompData(batch.bytes, le ? 'le' : 'be', at) }]);
    return !this.wantsExample(value);
  }

  /** Adds records an engine counted. */
  addCounts(counts: Iterable<SyscallCount>): void {
    for (const [arch, nr, value, records] of counts) this.archCounts(arch).add(nr, value, records);
  }

  /** The counts as plain data (see merge). */
  partial(): SummaryPartial {
    return {
      syscalls: [...this.syscalls()],
      examples: [...this.examples],
    };
  }

  /** Adds counts made elsewhere, from records anywhere in the trace. */
  merge(partial: SummaryPartial): void {
    for (const [arch, nr, , values] of partial.syscalls) {
      const counts = this.archCounts(arch);
      for (const [value, n] of values) counts.add(nr, value, n);
    }
    for (const [value, examples] of partial.examples) this.addExamples(value, examples);
  }

  private archCounts(arch: number): ArchCounts {
    let counts = this.arches.get(arch);
    if (!counts) {
      counts = new ArchCounts(arch);
      this.arches.set(arch, counts);
    }
    return counts;
  }

  private *syscalls(): Generator<SyscallCounts> {
    for (const arch of this.arches.values()) yield* arch.syscalls();
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
