/**
 * `cbpf eval`: every record of a trace through a stack of filters, streamed:
 * records are read, decided and written a batch at a time, so memory stays
 * bounded whatever the size of the trace.
 */
import { interpretStack } from '../../interp/stack.js';
import { formatAction, hexValue } from '../seccomp/actions.js';
import { archByAuditArch, type ByteOrder } from '../seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { recordByteOrder, recordBytes, type RecordBatch } from '../seccomp/records.js';
import { syscallName } from '../seccomp/syscalls.js';
import type { VerifiedProgram } from '../verifier.js';
import type { Command, DecisionFormat, Engine } from './args.js';
import { describeInputError, loadFilters, type Io, type Writer } from './io.js';
import { recordBatches, type SkippedRecords } from './record-stream.js';

type Decider = (batch: RecordBatch) => Uint32Array;

/** The engine's decider, and how long getting it ready took (for the JIT: loading Binaryen and compiling). */
async function prepare(filters: readonly VerifiedProgram[], engine: Engine, byteOrder: ByteOrder): Promise<{ decide: Decider; seconds: number }> {
  const started = performance.now();
  if (engine === 'interp') {
    return {
      decide: (batch) => Uint32Array.from({ length: batch.count }, (_, i) => interpretStack(filters, recordBytes(batch, i), recordByteOrder(batch, i)).value),
      seconds: 0,
    };
  }
  const { compile, decideRecords } = await import('../../jit/compiled.js'); // binaryen loads only when the JIT is asked for
  compile(filters, { byteOrder }); // the likely byte order now; others compile (once) when met
  return { decide: (batch) => decideRecords(filters, batch), seconds: (performance.now() - started) / 1000 };
}

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
function decisionLines(values: Uint32Array, batch: RecordBatch, format: DecisionFormat, first: number): string {
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
function binaryDecisions(values: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v, true));
  return bytes;
}

/** Counts per value and per (arch, syscall), added a batch at a time; names only at the end. */
class Summary {
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

export async function runEval(command: Extract<Command, { kind: 'eval' }>, io: Io): Promise<void> {
  const filters = await loadFilters(io, command.inputs, command.inputFormat, command.arch);
  const engine = await prepare(filters, command.engine, command.recordByteOrder);
  const wantLines = command.output !== undefined || (!command.summary && command.out === undefined);
  const writers: Writer[] = [];
  const open = (path: string | undefined): Writer => {
    const writer = io.openWriter(path);
    writers.push(writer);
    return writer;
  };
  const lines = wantLines ? open(command.output) : undefined;
  const binary = command.out === undefined ? undefined : open(command.out);
  const summary = command.summary ? new Summary() : undefined;
  const skipped: SkippedRecords | undefined = command.skipBad ? { count: 0 } : undefined;
  let total = 0;
  let deciding = 0;
  let lastProgress = performance.now();
  try {
    try {
      for await (const batch of recordBatches(io.readStream(command.records), command.recordFormat, command.recordByteOrder, skipped)) {
        const started = performance.now();
        const values = engine.decide(batch);
        deciding += performance.now() - started;
        if (lines) await lines.write(decisionLines(values, batch, command.format, total));
        if (binary) await binary.write(binaryDecisions(values));
        summary?.add(values, batch);
        total += batch.count;
        if (io.stderrIsTTY && performance.now() - lastProgress > 500) {
          lastProgress = performance.now();
          io.stderr(`\r${total} records, ${(total / (deciding / 1000) / 1e6).toFixed(2)} M decisions/s   `);
        }
      }
    } finally {
      // Whatever happens, what was decided so far is written out in full.
      for (const writer of writers) await writer.close();
      if (io.stderrIsTTY && total > 0) io.stderr('\n');
    }
  } catch (error) {
    throw describeInputError(command.records, error);
  }
  if (summary) io.stdout(command.format === 'json' ? `${JSON.stringify(summary.result())}\n` : summary.format());
  if (skipped && skipped.count > 0) io.stderr(`cbpf: skipped ${skipped.count} bad record${skipped.count === 1 ? '' : 's'} (the first: ${skipped.first})\n`);
  if (command.timing) {
    const ready = command.engine === 'jit' ? `loaded Binaryen and compiled in ${engine.seconds.toFixed(3)} s, ` : '';
    io.stderr(`${command.engine}: ${ready}decided ${total} records in ${(deciding / 1000).toFixed(3)} s (${(total / (deciding / 1000) / 1e6).toFixed(2)} M decisions/s)\n`);
  }
}
