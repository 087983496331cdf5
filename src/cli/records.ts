/**
 * `cbpf records`: a sample trace of x86_64 `seccomp_data` records, made by
 * the generator the tests and benchmarks use (src/fuzz/traces.ts), so that
 * `eval` and `kernel-check` can be tried without the repository.
 */
import { generateRecords } from '../fuzz/traces.js';
import { SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { formatRecordJson } from '../seccomp/record-json.js';
import { decodeSeccompData } from '../seccomp/records.js';
import type { Command } from './args.js';
import { CommandFailure, type Io, isStandardOutput } from './io.js';

/**
 * Records generated at a time (64 MiB), so memory stays bounded for a trace
 * of any length. A trace of up to this many is exactly
 * `generateRecords(count, mix, seed)`; each further chunk has a seed of its own (chunkSeed).
 */
export const CHUNK_RECORDS = 1 << 20;

/** JSON lines written at a time: a whole chunk as one string would take 100 MiB or more. */
const JSON_LINES_PER_WRITE = 4096;

/** The seed of chunk `index` of a trace from `seed`: `seed` itself for the first, so short traces match generateRecords. */
export function chunkSeed(seed: number, index: number): number {
  return (seed ^ Math.imul(index, 0x9e3779b9)) >>> 0;
}

/** The records from `start` to `end` of `records` as JSON lines. */
function jsonLines(records: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += `${formatRecordJson(decodeSeccompData(records, 'le', i * SECCOMP_DATA_SIZE))}\n`;
  return text;
}

export async function runRecords(command: Extract<Command, { kind: 'records' }>, io: Io): Promise<void> {
  if (command.format === 'bin' && isStandardOutput(command.output) && io.stdoutIsTTY) {
    throw new CommandFailure('refusing to write binary output to a terminal: use -o FILE, a pipe, or --format jsonl');
  }
  const writer = io.openWriter(command.output);
  for (let done = 0, index = 0; done < command.count; done += CHUNK_RECORDS, index++) {
    const count = Math.min(CHUNK_RECORDS, command.count - done);
    const records = generateRecords(count, command.mix, chunkSeed(command.seed, index));
    if (command.format === 'bin') {
      await writer.write(records);
      continue;
    }
    for (let at = 0; at < count; at += JSON_LINES_PER_WRITE) await writer.write(jsonLines(records, at, Math.min(count, at + JSON_LINES_PER_WRITE)));
  }
  await writer.close();
}
