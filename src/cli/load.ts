/**
 * Loading what the command line names: programs (any format, verified) and
 * whole traces, every problem turned into a one-line CommandFailure.
 */
import { readProgram } from '../codecs/formats.js';
import type { Format } from '../codecs/format-names.js';
import type { Instruction } from '../instruction.js';
import type { Arch } from '../seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import type { RecordBatch } from '../seccomp/records.js';
import { verify, verifyStack, type VerifiedProgram } from '../verifier.js';
import { describeInputError, type Io } from './io.js';
import { recordBatches, type RecordStreamOptions } from './record-stream.js';

/** Reads and decodes the program in `path`, turning any problem into a CommandFailure. */
export async function loadProgram(
  io: Io,
  path: string,
  format: Format | undefined,
  arch: Arch,
): Promise<{ program: Instruction[]; format: Format }> {
  try {
    return readProgram(await io.readFile(path), format, { arch });
  } catch (error) {
    throw describeInputError(path, error);
  }
}

/** Loads and verifies each filter of a stack (oldest first), and the stack as a whole. */
export async function loadFilters(io: Io, paths: readonly string[], format: Format | undefined, arch: Arch): Promise<VerifiedProgram[]> {
  const filters: VerifiedProgram[] = [];
  for (const path of paths) {
    const { program } = await loadProgram(io, path, format, arch);
    try {
      filters.push(verify(program));
    } catch (error) {
      throw describeInputError(path, error);
    }
  }
  try {
    verifyStack(filters);
  } catch (error) {
    throw describeInputError(paths.at(-1)!, error);
  }
  return filters;
}

/** Reads a whole trace of `seccomp_data` records (see record-stream.ts for the formats) as one batch. */
export async function loadRecords(io: Io, path: string, options: RecordStreamOptions): Promise<RecordBatch> {
  const batches: RecordBatch[] = [];
  try {
    for await (const batch of recordBatches(io.readStream(path), options)) batches.push(batch);
  } catch (error) {
    throw describeInputError(path, error);
  }
  const count = batches.reduce((n, b) => n + b.count, 0);
  const bytes = new Uint8Array(count * SECCOMP_DATA_SIZE);
  const bigEndian = new Uint8Array(count);
  let at = 0;
  for (const batch of batches) {
    bytes.set(batch.bytes.subarray(0, batch.count * SECCOMP_DATA_SIZE), at * SECCOMP_DATA_SIZE);
    bigEndian.set(batch.bigEndian, at);
    at += batch.count;
  }
  return { bytes, count, bigEndian };
}
