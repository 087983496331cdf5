/** `cbpf disasm`: a filter as commented bpf_asm that assembles back to the same bytes; a stack file's filters in turn. */
import { formatAsm } from '../disasm.js';
import type { Command } from './args.js';
import { type Io, writeResult } from './io.js';
import { loadPrograms } from './load.js';

export async function runDisasm(command: Extract<Command, { kind: 'disasm' }>, io: Io): Promise<void> {
  const { programs } = await loadPrograms(io, command.inputs[0]!, command);
  const listing = (program: (typeof programs)[number]) => formatAsm(program, { style: command.labels ? 'labels' : 'pcs', arch: command.arch });
  // A stack's filters, each under a comment naming it, so that each part still assembles alone.
  const text =
    programs.length === 1 ? listing(programs[0]!) : programs.map((p, i) => `; filter ${i + 1} of ${programs.length} (oldest first)\n${listing(p)}`).join('\n');
  await writeResult(io, command.output, text);
}
