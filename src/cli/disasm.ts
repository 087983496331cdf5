/** `cbpf disasm`: a filter as commented bpf_asm that assembles back to the same bytes. */
import { formatAsm } from '../disasm.js';
import type { Command } from './args.js';
import { type Io, writeResult } from './io.js';
import { loadProgram } from './load.js';

export async function runDisasm(command: Extract<Command, { kind: 'disasm' }>, io: Io): Promise<void> {
  const { program } = await loadProgram(io, command.inputs[0]!, command.inputFormat, command.arch);
  const text = formatAsm(program, { style: command.labels ? 'labels' : 'pcs', arch: command.arch });
  await writeResult(io, command.output, text);
}
