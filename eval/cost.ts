/**
 * What a stack of filters costs the kernel on a trace: for every record, the
 * instructions each filter executes (the interpreter counts them), or none
 * where the kernel's constant-action cache lets the syscall skip the filters
 * (src/action-cache.ts). Several stacks are costed in one pass over the trace.
 */
import { interpretCounting } from '../interp/interpret.js';
import { cacheBitmaps, skipsFilters } from '../src/action-cache.js';
import { type Arch, archByAuditArch, archNamed } from '../src/seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { recordByteOrder, recordBytes } from '../src/seccomp/records.js';
import { syscallName } from '../src/seccomp/syscalls.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { traceChunks } from './file-chunks.js';
import type { RecordFormat, TraceSource } from './options.js';
import { recordBatches, type SkippedRecords } from './record-stream.js';

/** Options of traceCost(). */
export interface CostOptions {
  /** The trace's format; detected when absent. */
  readonly format?: RecordFormat;
  /** The byte order of binary records (default 'le'). */
  readonly byteOrder?: 'le' | 'be';
  /** The arch of JSON lines and strace logs that name none (default 'x86_64'). */
  readonly arch?: string;
  /** The arch the kernel was built for: which arches it caches (default 'x86_64'). */
  readonly hostArch?: string;
  /** Skip records that cannot be read instead of failing at the first. */
  readonly skipBad?: boolean;
}

/** One syscall's share of a stack's cost on the trace. */
export interface SyscallCost {
  /** The arch's cbpf name, or its audit value in hex. */
  readonly arch: string;
  readonly nr: number;
  /** The syscall's name, or its number. */
  readonly syscall: string;
  readonly records: number;
  /** Instructions over all its records, and per record. */
  readonly instructions: number;
  readonly mean: number;
  /** Whether the kernel's cache lets it skip the filters. */
  readonly cached: boolean;
}

/** What one stack costs on the trace. */
export interface StackCost {
  /** Instructions over every record, each filter's share (oldest first), and the mean per syscall. */
  readonly instructions: number;
  readonly perFilter: readonly number[];
  readonly mean: number;
  /** Records that skipped the filters through the kernel's cache. */
  readonly cachedRecords: number;
  /** Every syscall of the trace, the costliest (by total instructions) first. */
  readonly syscalls: readonly SyscallCost[];
}

/** The cost of each stack on one trace. */
export interface TraceCost {
  readonly records: number;
  readonly skipped: number;
  readonly stacks: readonly StackCost[];
}

/** One stack's running totals while a trace is costed. */
class StackCounter {
  instructions = 0;
  cachedRecords = 0;
  readonly perFilter: number[];
  /** By `arch:nr`: records, instructions, cached. */
  readonly bySyscall = new Map<string, { arch: number; nr: number; records: number; instructions: number; cached: boolean }>();
  /** By `arch:nr`: whether the cache lets it skip the stack. */
  private readonly skips = new Map<string, boolean>();

  constructor(
    readonly filters: readonly VerifiedProgram[],
    private readonly bitmaps: ReadonlyMap<number, number>,
  ) {
    this.perFilter = filters.map(() => 0);
  }

  /** Counts one record of `arch` and `nr`; `key` names that pair (made once per record for every stack). */
  add(record: Uint8Array, byteOrder: 'le' | 'be', arch: number, nr: number, key: string): void {
    let skips = this.skips.get(key);
    if (skips === undefined) {
      skips = skipsFilters(this.filters, this.bitmaps, arch, nr);
      this.skips.set(key, skips);
    }
    let instructions = 0;
    if (skips) this.cachedRecords++;
    else
      this.filters.forEach((filter, f) => {
        const ran = interpretCounting(filter, record, byteOrder).instructions;
        this.perFilter[f]! += ran;
        instructions += ran;
      });
    this.instructions += instructions;
    let entry = this.bySyscall.get(key);
    if (!entry) {
      entry = { arch, nr, records: 0, instructions: 0, cached: skips };
      this.bySyscall.set(key, entry);
    }
    entry.records++;
    entry.instructions += instructions;
  }

  result(records: number): StackCost {
    const syscalls = [...this.bySyscall.values()]
      .map(({ arch, nr, records: n, instructions, cached }) => {
        const known = archByAuditArch(arch);
        return {
          arch: known?.name ?? `0x${arch.toString(16)}`,
          nr,
          syscall: (known && syscallName(known, nr)) ?? String(nr),
          records: n,
          instructions,
          mean: instructions / n,
          cached,
        };
      })
      .sort((a, b) => b.instructions - a.instructions || b.records - a.records || a.nr - b.nr);
    return {
      instructions: this.instructions,
      perFilter: [...this.perFilter],
      mean: records === 0 ? 0 : this.instructions / records,
      cachedRecords: this.cachedRecords,
      syscalls,
    };
  }
}

/**
 * The kernel's cost of each stack of `stacks` on every record of `source`
 * (a path or an async iterable of bytes; binary records, JSON lines or an
 * strace log), in one pass over it.
 */
export async function traceCost(stacks: readonly (readonly VerifiedProgram[])[], source: TraceSource, options: CostOptions = {}): Promise<TraceCost> {
  const host: Arch = archNamed(options.hostArch ?? 'x86_64');
  const bitmaps = cacheBitmaps(host);
  const counters = stacks.map((filters) => new StackCounter(filters, bitmaps));
  const skipped: SkippedRecords | undefined = options.skipBad ? { count: 0 } : undefined;
  let records = 0;
  const batches = recordBatches(traceChunks(source), {
    format: options.format,
    byteOrder: options.byteOrder ?? 'le',
    arch: archNamed(options.arch ?? 'x86_64'),
    ...(skipped ? { skipped } : {}),
  });
  for await (const batch of batches) {
    const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    for (let i = 0; i < batch.count; i++) {
      const byteOrder = recordByteOrder(batch, i);
      const at = i * SECCOMP_DATA_SIZE;
      const arch = view.getUint32(at + SECCOMP_DATA_ARCH, byteOrder === 'le');
      const nr = view.getInt32(at + SECCOMP_DATA_NR, byteOrder === 'le'); // signed, as the kernel's int nr: -1 reads as -1
      const record = recordBytes(batch, i);
      const key = `${arch}:${nr}`;
      for (const counter of counters) counter.add(record, byteOrder, arch, nr, key);
    }
    records += batch.count;
  }
  return { records, skipped: skipped?.count ?? 0, stacks: counters.map((counter) => counter.result(records)) };
}
