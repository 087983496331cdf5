/**
 * What `cbpf eval` does with each batch of decisions, wherever the batch was
 * decided (the main thread or a worker): text lines, binary values, and a
 * summary whose partial counts merge.
 */
import { formatAction, hexValue } from '../seccomp/actions.js';
import { archByAuditArch } from '../seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import type { RecordBatch } from '../seccomp/records.js';
import { syscallName } from '../seccomp/syscalls.js';
import type { DecisionFormat } from './args.js';

/** A view of the whole batch, made once per batch: records are read on the hot path. */
const batchView = (batch: RecordBatch): DataView => new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);

/** The arch value and syscall number of record i, read through `view` (from batchView). */
function syscallOf(view: DataView, batch: RecordBatch, i: number): { arch: number; nr: number } {
  const at = i * SECCOMP_DATA_SIZE;
  const le = !batch.bigEndian[i];
  return { arch: view.getUint32(at + SECCOMP_DATA_ARCH, le), nr: view.getInt32(at + SECCOMP_DATA_NR, le) };
}

/** Names for an arch value and a syscall number, where cbpf has them. */
function names(archValue: number, nr: number): { arch: string; nr: string } {
  const arch = archByAuditArch(archValue);
  return { arch: arch?.name ?? hexValue(archValue), nr: (arch && syscallName(arch, nr >>> 0)) ?? String(nr) };
}

const actionOf = (value: number): string => formatAction(value) ?? hexValue(value);

/** The lines for one batch; `first` is the index of its first record in the whole trace. */
export function decisionLines(values: Uint32Array, batch: RecordBatch, format: DecisionFormat, first: number): string {
  const lines: string[] = [];
  const view = batchView(batch);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (format === 'hex') lines.push(hexValue(v));
    else if (format === 'action') lines.push(actionOf(v));
    else {
      const { arch, nr } = syscallOf(view, batch, i);
      lines.push(JSON.stringify({ record: first + i, value: hexValue(v), action: formatAction(v) ?? null, ...names(arch, nr) }));
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** The decisions as little-endian u32s. */
export function binaryDecisions(values: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v, true));
  return bytes;
}

/** One syscall's counts: arch value, number, records, and [value, records] pairs. */
type SyscallCounts = [number, number, number, Array<[number, number]>];

/** Summary counts as plain data (structured-clone safe). */
export interface SummaryPartial {
  readonly records: number;
  readonly values: Array<[number, number]>;
  readonly syscalls: SyscallCounts[];
}

/** Counts per value and per (arch, syscall), added a batch at a time; names only at the end. */
export class Summary {
  private records = 0;
  private readonly values = new Map<number, number>();
  private readonly syscalls = new Map<number, Map<number, { count: number; values: Map<number, number> }>>();

  add(values: Uint32Array, batch: RecordBatch): void {
    const view = batchView(batch);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      this.values.set(v, (this.values.get(v) ?? 0) + 1);
      const { arch, nr } = syscallOf(view, batch, i);
      let byNr = this.syscalls.get(arch);
      if (!byNr) this.syscalls.set(arch, (byNr = new Map()));
      let entry = byNr.get(nr);
      if (!entry) byNr.set(nr, (entry = { count: 0, values: new Map() }));
      entry.count++;
      entry.values.set(v, (entry.values.get(v) ?? 0) + 1);
    }
    this.records += values.length;
  }

  /** The counts as plain data, to post from a worker and merge. */
  partial(): SummaryPartial {
    return {
      records: this.records,
      values: [...this.values],
      syscalls: [...this.syscalls].flatMap(([arch, byNr]) => [...byNr].map(([nr, e]) => [arch, nr, e.count, [...e.values]] as SyscallCounts)),
    };
  }

  /** Adds counts made elsewhere (see partial). */
  merge(partial: SummaryPartial): void {
    this.records += partial.records;
    for (const [v, n] of partial.values) this.values.set(v, (this.values.get(v) ?? 0) + n);
    for (const [arch, nr, count, values] of partial.syscalls) {
      let byNr = this.syscalls.get(arch);
      if (!byNr) this.syscalls.set(arch, (byNr = new Map()));
      let entry = byNr.get(nr);
      if (!entry) byNr.set(nr, (entry = { count: 0, values: new Map() }));
      entry.count += count;
      for (const [v, n] of values) entry.values.set(v, (entry.values.get(v) ?? 0) + n);
    }
  }

  /** The summary as data: actions by name, and syscalls from the most frequent. */
  result(): { records: number; actions: Record<string, number>; syscalls: Array<{ arch: string; nr: string; count: number; actions: Record<string, number> }> } {
    const byAction = (counts: Map<number, number>): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const [v, n] of counts) out[actionOf(v)] = (out[actionOf(v)] ?? 0) + n;
      return out;
    };
    const syscalls = [...this.syscalls].flatMap(([arch, byNr]) => [...byNr].map(([nr, e]) => ({ ...names(arch, nr), count: e.count, actions: byAction(e.values) })));
    return { records: this.records, actions: byAction(this.values), syscalls: syscalls.sort((a, b) => b.count - a.count) };
  }

  format(): string {
    const s = this.result();
    const pct = (n: number): string => `${((100 * n) / Math.max(1, s.records)).toFixed(1)}%`;
    const lines = [`records: ${s.records}`, 'actions:'];
    for (const [action, n] of Object.entries(s.actions).sort((a, b) => b[1] - a[1])) lines.push(`  ${action.padEnd(16)} ${String(n).padStart(10)}  ${pct(n).padStart(6)}`);
    lines.push('syscalls:');
    for (const e of s.syscalls) {
      const decided = Object.entries(e.actions).map(([a, n]) => (Object.keys(e.actions).length === 1 ? a : `${a} ${n}`)).join(', ');
      lines.push(`  ${`${e.arch} ${e.nr}`.padEnd(28)} ${String(e.count).padStart(10)}  ${decided}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

