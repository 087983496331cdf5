/** `cbpf emu`: one syscall through a stack of filters, with an optional trace. */
import { interpretWithTrace } from '../../interp/interpret.js';
import { analyzeContext } from '../context.js';
import { explain, formatInstruction } from '../disasm.js';
import { describeEffect, describeReturnValue, hexValue, resolveStack } from '../seccomp/actions.js';
import { byteOrderOf } from '../seccomp/arches.js';
import { errnoName } from '../seccomp/errno.js';
import { encodeSeccompData } from '../seccomp/records.js';
import { syscallNumber } from '../seccomp/syscalls.js';
import { type Command, UsageError } from './args.js';
import type { Io } from './io.js';
import { loadNamedFilters } from './load.js';

export async function runEmu(command: Extract<Command, { kind: 'emu' }>, io: Io): Promise<void> {
  const { filters, names } = await loadNamedFilters(io, command.inputs, command);
  const nr = typeof command.nr === 'number' ? command.nr : syscallNumber(command.arch, command.nr);
  if (nr === undefined) throw new UsageError(`--nr: ${command.arch.name} has no syscall "${command.nr}"`, 'emu');
  const record = encodeSeccompData({ nr, arch: command.arch.auditArch, instructionPointer: command.ip, args: command.args });
  const order = byteOrderOf(command.arch);
  const traces = filters.map((filter) => interpretWithTrace(filter, record, order));
  const value = resolveStack(traces.map((t) => t.value));
  const effect = describeEffect(value, errnoName);
  if (command.json) {
    const filterResults = traces.map((t, i) => ({
      file: names[i]!,
      value: hexValue(t.value),
      ...(command.trace ? { trace: t.steps.map((s) => ({ pc: s.pc, a: hexValue(s.a), x: hexValue(s.x) })) } : {}),
    }));
    io.stdout(
      `${JSON.stringify({ value: hexValue(value), action: describeReturnValue(value), effect: effect.description, runs: effect.runs, filters: filterResults })}\n`,
    );
    return;
  }
  const lines: string[] = [];
  traces.forEach((trace, i) => {
    const filter = filters[i]!;
    if (command.trace) {
      const contexts = analyzeContext(filter.instructions);
      lines.push(`${names[i]!}:`);
      const width = String(filter.instructions.length - 1).length;
      for (const step of trace.steps) {
        const insn = filter.instructions[step.pc]!;
        const text = formatInstruction(insn, step.pc).padEnd(26);
        const comment = explain(insn, contexts[step.pc]!, contexts[step.pc]!.arch ?? command.arch);
        lines.push(`  ${String(step.pc).padStart(width)}: ${text} A=${hexValue(step.a)} X=${hexValue(step.x)}${comment ? `  ; ${comment}` : ''}`);
      }
    }
    if (filters.length > 1 || command.trace)
      lines.push(`  => ${hexValue(trace.value)} ${describeReturnValue(trace.value)}${filters.length > 1 ? ` (filter ${i + 1}, ${names[i]!})` : ''}`);
  });
  lines.push(`value:  ${hexValue(value)}`, `action: ${describeReturnValue(value)}`, `effect: ${effect.description}`);
  io.stdout(`${lines.join('\n')}\n`);
}
