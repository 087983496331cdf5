/** `cbpf convert` and `cbpf asm` (which is convert from bpf_asm text). */
import { writeProgram } from '../codecs/formats.js';
import type { Command } from './args.js';
import { describeInputError, type Io, writeResult } from './io.js';
import { loadProgram } from './load.js';

export async function runConvert(command: Extract<Command, { kind: 'convert' }>, io: Io): Promise<void> {
  const { program } = await loadProgram(io, command.inputs[0]!, command);
  let data: string | Uint8Array;
  try {
    data = writeProgram(program, command.to, { arch: command.arch });
  } catch (error) {
    throw describeInputError(command.inputs[0]!, error);
  }
  await writeResult(io, command.output, data);
}
