/**
 * `cbpf dump`: the filters of running processes, or those a command installs,
 * written as a stack file (which every command reads as the whole stack), in
 * another format when there is one filter, or as JSON lines.
 */

import { writeProgram } from '../codecs/formats.js';
import { formatStack, type StackOrigin } from '../codecs/stack.js';
import { captureCommand, dumpProcess, LiveError, type ProcessStack } from '../live/dump.js';
import { NativeUnavailable } from '../native.js';
import type { Command } from './args.js';
import { CommandFailure, type Io, writeResult } from './io.js';

type DumpCommand = Extract<Command, { kind: 'dump' }>;

/** One process as a line of JSON: a stack file, compact. */
const jsonLine = (stack: ProcessStack): string =>
  `${JSON.stringify({ pid: stack.pid, command: stack.command, mode: stack.mode, ...(stack.flags ? { flags: stack.flags } : {}), filters: stack.filters })}\n`;

export async function runDump(command: DumpCommand, io: Io): Promise<void> {
  let stacks: ProcessStack[];
  try {
    if ('pids' in command.target) stacks = command.target.pids.map((pid) => dumpProcess(pid));
    else {
      const capture = await captureCommand(command.target.command, command.target.first);
      stacks = capture.processes;
      const exit = capture.exit === 'killed' ? 'was stopped at its first filter' : `exited with ${capture.exit}`;
      io.stderr(`cbpf: ${command.target.command[0]} ${exit}; ${stacks.length} process${stacks.length === 1 ? '' : 'es'} installed filters\n`);
    }
  } catch (error) {
    if (error instanceof LiveError || error instanceof NativeUnavailable) throw new CommandFailure(error.message);
    throw error;
  }
  if (command.json) return writeResult(io, command.output, stacks.map(jsonLine).join(''));
  if (stacks.length === 0 && 'command' in command.target) throw new CommandFailure(`${command.target.command[0]} installed no seccomp filter`);
  if (stacks.length !== 1) throw new CommandFailure(`${stacks.length} processes: use --json, one object per process`);
  const [stack] = stacks as [ProcessStack];
  if (stack.filters.length === 0) throw new CommandFailure(`process ${stack.pid} (${stack.command}) runs no seccomp filter (mode ${stack.mode})`);
  const origin: StackOrigin = { pid: stack.pid, command: stack.command, mode: stack.mode };
  if (command.to === 'stack') return writeResult(io, command.output, formatStack(stack.filters, origin));
  if (stack.filters.length !== 1)
    throw new CommandFailure(
      `process ${stack.pid} (${stack.command}) runs ${stack.filters.length} filters: --to ${command.to} holds one; --to stack holds them all`,
    );
  await writeResult(io, command.output, writeProgram(stack.filters[0]!, command.to));
}
