/** `cbpf info`: what a filter checks and what it can return. */
import { summarizeProgram } from '../summary.js';
import type { Command } from './args.js';
import { displayName, type Io } from './io.js';
import { loadProgram } from './load.js';

/** Words wrapped to lines of at most 100 characters, indented by two spaces. */
function wrap(words: string[]): string {
  const lines: string[] = [];
  for (const word of words) {
    if (lines.length > 0 && lines.at(-1)!.length + word.length < 100) lines[lines.length - 1] += ` ${word}`;
    else lines.push(`  ${word}`);
  }
  return lines.join('\n');
}

export async function runInfo(command: Extract<Command, { kind: 'info' }>, io: Io): Promise<void> {
  const { program, format } = await loadProgram(io, command.inputs[0]!, command.inputFormat, command.arch);
  const summary = summarizeProgram(program, command.arch);
  const file = displayName(command.inputs[0]!);
  if (command.json) {
    io.stdout(`${JSON.stringify({ file, format, ...summary })}\n`);
    return;
  }
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  const lines = [
    `${file}: ${format}, ${count(summary.instructions, 'instruction')} (${summary.reachable} reachable)`,
    `arches checked: ${summary.arches.join(', ') || 'none'}`,
    ...Object.entries(summary.syscalls).map(([arch, names]) => `${arch}: ${count(names.length, 'syscall')} compared:\n${wrap(names)}`),
    `returns: ${Object.entries(summary.returns).map(([value, n]) => `${value} x${n}`).join(', ')}${summary.returnsA ? `, ret a x${summary.returnsA}` : ''}`,
  ];
  io.stdout(`${lines.join('\n')}\n`);
}
