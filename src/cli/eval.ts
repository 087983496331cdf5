/** `cbpf eval`: every record of a trace through a stack of filters. */
import { interpretStack } from '../../interp/stack.js';
import { formatAction, hexValue } from '../seccomp/actions.js';
import { archByAuditArch, type ByteOrder } from '../seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { recordByteOrder, recordBytes, type RecordBatch } from '../seccomp/records.js';
import { syscallName } from '../seccomp/syscalls.js';
import type { VerifiedProgram } from '../verifier.js';
import type { Command, DecisionFormat, Engine } from './args.js';
import { loadFilters, loadRecords, writeResult, type Io } from './io.js';


/** An engine ready to decide, and how long getting it ready took (loading Binaryen and compiling, for the JIT). */
async function prepare(filters: readonly VerifiedProgram[], batch: RecordBatch, engine: Engine): Promise<{ decide: () => Uint32Array; seconds: number }> {
  const started = performance.now();
  if (engine === 'interp') {
    return {
      decide: () => Uint32Array.from({ length: batch.count }, (_, i) => interpretStack(filters, recordBytes(batch, i), recordByteOrder(batch, i)).value),
      seconds: 0,
    };
  }
  const { compile, decideRecords } = await import('../../jit/compiled.js'); // binaryen loads only when the JIT is asked for
  for (const byteOrder of new Set(Array.from(batch.bigEndian, (b): ByteOrder => (b ? 'be' : 'le')))) compile(filters, { byteOrder });
  return { decide: () => decideRecords(filters, batch), seconds: (performance.now() - started) / 1000 };
}

/** The arch and syscall of record i, with names where cbpf has them. */
function syscallOf(batch: RecordBatch, i: number): { arch: string; nr: string } {
  const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset + i * SECCOMP_DATA_SIZE, SECCOMP_DATA_SIZE);
  const le = recordByteOrder(batch, i) === 'le';
  const auditArch = view.getUint32(SECCOMP_DATA_ARCH, le);
  const nr = view.getInt32(SECCOMP_DATA_NR, le);
  const arch = archByAuditArch(auditArch);
  return { arch: arch?.name ?? hexValue(auditArch), nr: (arch && syscallName(arch, nr >>> 0)) ?? String(nr) };
}

function decisionLines(values: Uint32Array, batch: RecordBatch, format: DecisionFormat): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (format === 'hex') lines.push(hexValue(v));
    else if (format === 'action') lines.push(formatAction(v) ?? hexValue(v));
    else lines.push(JSON.stringify({ record: i, value: hexValue(v), action: formatAction(v) ?? null, ...syscallOf(batch, i) }));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

interface Summary {
  readonly records: number;
  readonly actions: Record<string, number>;
  readonly syscalls: Array<{ arch: string; nr: string; count: number; actions: Record<string, number> }>;
}

function summarize(values: Uint32Array, batch: RecordBatch): Summary {
  const actions: Record<string, number> = {};
  const bySyscall = new Map<string, { arch: string; nr: string; count: number; actions: Record<string, number> }>();
  for (let i = 0; i < values.length; i++) {
    const action = formatAction(values[i]!) ?? hexValue(values[i]!);
    actions[action] = (actions[action] ?? 0) + 1;
    const { arch, nr } = syscallOf(batch, i);
    const key = `${arch} ${nr}`;
    const entry = bySyscall.get(key) ?? { arch, nr, count: 0, actions: {} };
    entry.count++;
    entry.actions[action] = (entry.actions[action] ?? 0) + 1;
    bySyscall.set(key, entry);
  }
  return { records: values.length, actions, syscalls: [...bySyscall.values()].sort((a, b) => b.count - a.count) };
}

function formatSummary(s: Summary): string {
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

export async function runEval(command: Extract<Command, { kind: 'eval' }>, io: Io): Promise<void> {
  const filters = await loadFilters(io, command.inputs, command.inputFormat, command.arch);
  const batch = await loadRecords(io, command.records, command.recordFormat, command.recordByteOrder);
  const engine = await prepare(filters, batch, command.engine);
  const started = performance.now();
  const values = engine.decide();
  if (command.timing) {
    const seconds = (performance.now() - started) / 1000;
    const ready = command.engine === 'jit' ? `loaded Binaryen and compiled in ${engine.seconds.toFixed(3)} s, ` : '';
    io.stderr(`${command.engine}: ${ready}decided ${batch.count} records in ${seconds.toFixed(3)} s (${(batch.count / seconds / 1e6).toFixed(2)} M decisions/s)\n`);
  }
  if (!command.summary || command.output !== undefined) {
    await writeResult(io, command.output, decisionLines(values, batch, command.format));
  }
  if (command.summary) {
    const summary = summarize(values, batch);
    io.stdout(command.format === 'json' ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  }
}
