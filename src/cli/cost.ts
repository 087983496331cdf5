/**
 * `cbpf cost`: what each FILTER (a filter, or a stack file) costs the kernel on
 * a trace, side by side: instructions per syscall, the share of syscalls the
 * kernel's action cache lets skip the filters, the costliest syscalls, and
 * with --calibrate an estimate in nanoseconds; --gate fails on a rise.
 */
import type { StackCost, TraceCost } from '../../eval/cost.js';
import { type Calibration, calibrate } from '../live/calibrate.js';
import { LiveError } from '../live/dump.js';
import { NativeUnavailable } from '../native.js';
import type { VerifiedProgram } from '../verifier.js';
import type { Command } from './args.js';
import { CommandFailure, describeInputError, displayName, type Io, writeResult } from './io.js';
import { loadFilters, traceSource } from './load.js';

type CostCommand = Extract<Command, { kind: 'cost' }>;

/** What --update-baseline writes and --gate reads: each input's mean cost per syscall, overall and per syscall. */
export interface CostBaseline {
  /** How far a figure may rise above its baseline before the gate fails: 0.05 = 5%. */
  readonly tolerance: number;
  /** By input (as named on the command line): its mean, and by `arch syscall` each syscall's. */
  readonly costs: Record<string, { readonly mean: number; readonly syscalls: Record<string, number> }>;
}

/** Instruction counts are exact, so a small rise is a real one; the tolerance leaves room for a trace that changed a little. */
const DEFAULT_TOLERANCE = 0.05;

const percent = (part: number, whole: number): string => `${((100 * part) / Math.max(1, whole)).toFixed(1)}%`;

/** The estimated nanoseconds per syscall of a stack's cost, from the calibration (one filter's line: a stack's per-filter overhead is not in it). */
function estimatedNs(cost: StackCost, records: number, calibration: Calibration): number {
  if (records === 0) return 0;
  const uncached = records - cost.cachedRecords;
  return (uncached * calibration.baseNs + calibration.perInstructionNs * cost.instructions + cost.cachedRecords * calibration.cachedNs) / records;
}

/** The baseline of this run: every input's mean and every syscall's. */
function baselineOf(names: readonly string[], cost: TraceCost, tolerance: number): CostBaseline {
  const costs: CostBaseline['costs'] = {};
  cost.stacks.forEach((stack, i) => {
    costs[names[i]!] = { mean: stack.mean, syscalls: Object.fromEntries(stack.syscalls.map((s) => [`${s.arch} ${s.syscall}`, s.mean])) };
  });
  return { tolerance, costs };
}

/** One line per figure of this run that rose above the baseline by more than its tolerance. */
export function costGateFailures(names: readonly string[], cost: TraceCost, baseline: CostBaseline): string[] {
  const rose = (now: number, before: number): boolean => now > before * (1 + baseline.tolerance) + 1e-9;
  const change = (now: number, before: number): string => (before === 0 ? 'from 0' : `+${(((now - before) / before) * 100).toFixed(0)}%`);
  const failures: string[] = [];
  cost.stacks.forEach((stack, i) => {
    const name = names[i]!;
    const before = baseline.costs[name];
    if (!before) return;
    if (rose(stack.mean, before.mean))
      failures.push(`${name}: ${stack.mean.toFixed(2)} instructions per syscall, baseline ${before.mean.toFixed(2)} (${change(stack.mean, before.mean)})`);
    for (const syscall of stack.syscalls) {
      const key = `${syscall.arch} ${syscall.syscall}`;
      const was = before.syscalls[key];
      if (was !== undefined && rose(syscall.mean, was))
        failures.push(`${name}: ${key}: ${syscall.mean.toFixed(2)} instructions per call, baseline ${was.toFixed(2)} (${change(syscall.mean, was)})`);
    }
  });
  return failures;
}

/** Reads a baseline file, or says in one line what is wrong with it. */
function parseBaseline(path: string, text: string): CostBaseline {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CommandFailure(`${path}: not valid JSON`);
  }
  const baseline = value as Partial<CostBaseline>;
  if (typeof baseline?.tolerance !== 'number' || typeof baseline.costs !== 'object' || baseline.costs === null)
    throw new CommandFailure(`${path}: not a cost baseline (expected {"tolerance": number, "costs": {...}}, as --update-baseline writes)`);
  return baseline as CostBaseline;
}

function formatCost(
  names: readonly string[],
  stacks: readonly (readonly VerifiedProgram[])[],
  cost: TraceCost,
  top: number,
  calibration: Calibration | undefined,
): string {
  const lines: string[] = [];
  if (calibration) {
    lines.push(
      `calibration (getppid on this kernel, ${calibration.points.length} timings): ${calibration.baseNs.toFixed(1)} ns + ${calibration.perInstructionNs.toFixed(3)} ns per instruction (r² ${calibration.r2.toFixed(3)}); a call the cache serves ${calibration.cachedNs.toFixed(1)} ns, with no filter ${calibration.noFilterNs.toFixed(1)} ns`,
      '',
    );
  }
  cost.stacks.forEach((stack, i) => {
    const filters = stacks[i]!;
    const size = filters.reduce((n, f) => n + f.instructions.length, 0);
    lines.push(`${names[i]}: ${filters.length} filter${filters.length === 1 ? '' : 's'}, ${size} instructions`);
    lines.push(
      `  ${stack.mean.toFixed(2)} instructions per syscall; ${stack.cachedRecords} of ${cost.records} syscalls (${percent(stack.cachedRecords, cost.records)}) skip the filters (the kernel's action cache)`,
    );
    if (filters.length > 1) lines.push(`  per filter, oldest first: ${stack.perFilter.map((n) => (n / Math.max(1, cost.records)).toFixed(2)).join(', ')}`);
    if (calibration) lines.push(`  about ${estimatedNs(stack, cost.records, calibration).toFixed(1)} ns per syscall on this kernel`);
    const shown = stack.syscalls.slice(0, top);
    if (shown.length > 0) {
      lines.push(`  costliest syscalls (calls, instructions per call, share of all instructions):`);
      for (const s of shown)
        lines.push(
          `    ${`${s.arch} ${s.syscall}`.padEnd(28)} ${String(s.records).padStart(9)}  ${s.mean.toFixed(1).padStart(7)}  ${percent(s.instructions, stack.instructions).padStart(6)}${s.cached ? '  cached' : ''}`,
        );
    }
    lines.push('');
  });
  return `trace: ${cost.records} records${cost.skipped > 0 ? ` (${cost.skipped} bad ones skipped)` : ''}\n\n${lines.join('\n')}`;
}

export async function runCost(command: CostCommand, io: Io): Promise<void> {
  const names = command.inputs.map(displayName);
  const stacks: VerifiedProgram[][] = [];
  for (const path of command.inputs) stacks.push(await loadFilters(io, [path], command));
  let calibration: Calibration | undefined;
  if (command.calibrate) {
    try {
      calibration = calibrate();
    } catch (error) {
      if (error instanceof LiveError || error instanceof NativeUnavailable) throw new CommandFailure(`--calibrate: ${error.message}`);
      throw error;
    }
  }
  const { traceCost } = await import('../../eval/cost.js');
  let cost: TraceCost;
  try {
    const source = await traceSource(io, command.records);
    cost = await traceCost(stacks, source, {
      format: command.recordFormat,
      byteOrder: command.recordByteOrder,
      arch: command.arch.name,
      hostArch: command.hostArch.name,
      skipBad: command.skipBad,
    });
  } catch (error) {
    throw describeInputError(command.records, error);
  }
  if (command.json) {
    const report = {
      records: cost.records,
      skipped: cost.skipped,
      ...(calibration ? { calibration } : {}),
      stacks: cost.stacks.map((stack, i) => ({
        file: names[i],
        filters: stacks[i]!.length,
        ...stack,
        ...(calibration ? { ns: estimatedNs(stack, cost.records, calibration) } : {}),
        syscalls: stack.syscalls.slice(0, command.top),
      })),
    };
    io.stdout(`${JSON.stringify(report)}\n`);
  } else io.stdout(formatCost(names, stacks, cost, command.top, calibration));
  if (command.updateBaseline !== undefined) {
    await writeResult(io, command.updateBaseline, `${JSON.stringify(baselineOf(names, cost, DEFAULT_TOLERANCE), null, 2)}\n`);
  }
  if (command.gate !== undefined) {
    let text: string;
    try {
      text = new TextDecoder().decode(await io.readFile(command.gate, 64 << 20));
    } catch (error) {
      throw describeInputError(command.gate, error);
    }
    const failures = costGateFailures(names, cost, parseBaseline(displayName(command.gate), text));
    for (const failure of failures) io.stderr(`cbpf: cost gate: ${failure}\n`);
    if (failures.length > 0)
      throw new CommandFailure(`cost gate: ${failures.length} figure${failures.length === 1 ? '' : 's'} above ${displayName(command.gate)}`);
  }
}
