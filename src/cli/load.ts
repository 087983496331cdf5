/**
 * Loading what the command line names: programs (any format, verified) and
 * whole traces, every problem turned into a one-line CommandFailure.
 */

import type { TraceSource } from '../../eval/options.js';
import { type RecordStreamOptions, recordBatches } from '../../eval/record-stream.js';
import type { InputFormat } from '../codecs/format-names.js';
import { MAX_FILTER_BYTES, type ReadResult, readPrograms } from '../codecs/formats.js';
import type { Instruction } from '../instruction.js';
import { SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import type { RecordBatch } from '../seccomp/records.js';
import { type VerifiedProgram, verify, verifyStack } from '../verifier.js';
import type { ReadsPrograms } from './args.js';
import { CommandFailure, describeInputError, displayName, type Io } from './io.js';

/** How a command reads its program files: the format (undefined: detected), the arch for names, a profile's context. */
export type ProgramReading = Pick<ReadsPrograms, 'inputFormat' | 'arch' | 'profile'>;

/**
 * A program file that could not be loaded: the one line a command prints
 * (`message`), what went wrong (`code`: the DecodeError or ParseError code,
 * the system's such as ENOENT, or 'too-large') and the line without the file
 * name (`detail`), for a command that reports it and goes on (`verify`).
 */
export class ProgramLoadFailure extends CommandFailure {
  constructor(
    message: string,
    readonly code: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

/** `error` met loading `path`, as describeInputError says it (which rethrows what it cannot describe). */
function loadFailure(path: string, error: unknown): ProgramLoadFailure {
  const message = describeInputError(path, error).message;
  // The message is `file: detail`, or `file:line:col: detail` for a parse error.
  return new ProgramLoadFailure(message, String((error as { code?: unknown }).code), message.slice(displayName(path).length).replace(/^: ?/, ''));
}

/**
 * Reads and decodes the programs in `path`: one, or a whole stack from a
 * stack file; any problem becomes a CommandFailure (a ProgramLoadFailure).
 */
export async function loadPrograms(io: Io, path: string, read: ProgramReading): Promise<ReadResult> {
  let bytes: Uint8Array;
  try {
    bytes = await io.readFile(path, MAX_FILTER_BYTES);
  } catch (error) {
    throw loadFailure(path, error);
  }
  if (bytes.length > MAX_FILTER_BYTES) {
    const detail = `larger than ${MAX_FILTER_BYTES >> 20} MiB, which no filter needs (a filter is at most 65,535 instructions)`;
    throw new ProgramLoadFailure(`${displayName(path)}: ${detail}`, 'too-large', detail);
  }
  try {
    return readPrograms(bytes, read.inputFormat, { arch: read.arch, profile: read.profile });
  } catch (error) {
    throw loadFailure(path, error);
  }
}

/** Reads and decodes the one program in `path` (a stack file must hold one filter), as loadPrograms. */
export async function loadProgram(io: Io, path: string, read: ProgramReading): Promise<{ program: Instruction[]; format: InputFormat }> {
  const { programs, format } = await loadPrograms(io, path, read);
  if (programs.length !== 1) {
    const detail = `a stack of ${programs.length} filters, where this command reads one (commands that take FILTER... read a whole stack)`;
    throw new ProgramLoadFailure(`${displayName(path)}: ${detail}`, 'stack-size', detail);
  }
  return { program: programs[0]!, format };
}

/**
 * Loads and verifies each filter of a stack (oldest first; a stack file gives
 * all of its own), and the stack as a whole; `names` says where each came
 * from: its file, or `file filters[i]` for one of a stack file's.
 */
export async function loadNamedFilters(io: Io, paths: readonly string[], read: ProgramReading): Promise<{ filters: VerifiedProgram[]; names: string[] }> {
  const filters: VerifiedProgram[] = [];
  const names: string[] = [];
  for (const path of paths) {
    const { programs } = await loadPrograms(io, path, read);
    programs.forEach((program, i) => {
      const name = programs.length === 1 ? displayName(path) : `${displayName(path)} filters[${i}]`;
      try {
        filters.push(verify(program));
      } catch (error) {
        throw describeInputError(programs.length === 1 ? path : name, error);
      }
      names.push(name);
    });
  }
  try {
    verifyStack(filters);
  } catch (error) {
    throw describeInputError(paths.at(-1)!, error);
  }
  return { filters, names };
}

/** loadNamedFilters, the filters alone. */
export async function loadFilters(io: Io, paths: readonly string[], read: ProgramReading): Promise<VerifiedProgram[]> {
  return (await loadNamedFilters(io, paths, read)).filters;
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

/** The trace at `path` as the evaluator takes it: a regular file by its path (worker threads read their own ranges of it), anything else as a stream. */
export async function traceSource(io: Io, path: string): Promise<TraceSource> {
  return (await io.regularFileSize(path)) === undefined ? io.readStream(path) : path;
}
