/** `cbpf compile`: a stack of filters as a standalone WebAssembly module (ABI in docs/design.md). */
import type { Command } from './args.js';
import { type Io, writeResult } from './io.js';
import { loadFilters } from './load.js';

export async function runCompile(command: Extract<Command, { kind: 'compile' }>, io: Io): Promise<void> {
  const filters = await loadFilters(io, command.inputs, command);
  const { buildModule } = await import('../../jit/module.js'); // binaryen loads only for this command
  const built = buildModule(filters, command.byteOrder, { text: command.wat });
  await writeResult(io, command.output, command.wat ? built.text! : built.binary);
}
