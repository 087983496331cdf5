/**
 * The CLI's only contact with the outside world, so commands can be run in
 * tests without spawning a process.
 */
import { createWriteStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { fileChunks } from '../../eval/file-chunks.js';
import { CbpfError, ParseError } from '../errors.js';

/** Output written piece by piece; `close` finishes it (a file is complete once it resolves). */
export interface Writer {
  write(data: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Where commands read and write. */
export interface Io {
  /**
   * The bytes of `path` ('-' is standard input), at most `limit + 1` of them:
   * a result longer than `limit` tells the caller the input is too large,
   * without reading an endless source (`/dev/zero`) to its end.
   */
  readFile(path: string, limit: number): Promise<Uint8Array>;
  /** The bytes of `path` ('-' is standard input) in chunks, for inputs of any size. */
  readStream(path: string): AsyncIterable<Uint8Array>;
  /**
   * The size of `path` if it is a regular file on disk, which other threads
   * can open and read at any offset; undefined for standard input, pipes and
   * devices.
   */
  regularFileSize(path: string): Promise<number | undefined>;
  /** A writer to `path`, or to standard output when undefined or '-'; its failures are CommandFailures naming it (but EPIPE). */
  openWriter(path: string | undefined): Writer;
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  stdout(data: string | Uint8Array): void;
  stderr(text: string): void;
  /** Waits until standard output is written out; throws the first error it met (see outputFailure). */
  flush(): Promise<void>;
  readonly stdoutIsTTY: boolean;
  /** Whether standard error is a terminal: live progress goes there only then. */
  readonly stderrIsTTY: boolean;
}

/** The first error standard output met; writes stop after it. */
let stdoutFailure: Error | undefined;
process.stdout.on('error', (error) => (stdoutFailure ??= error));

/**
 * Bytes a file being written may buffer before a write waits for the disk:
 * at the stream's default (16 KiB) every batch of decisions waited, and the
 * main thread idled (docs/benchmarks.md).
 */
const FILE_WRITE_BUFFER = 4 << 20;

/** The real process: files, stdin, stdout and stderr. */
export const processIo: Io = {
  async readFile(path, limit) {
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of processIo.readStream(path)) {
      chunks.push(chunk);
      length += chunk.length;
      if (length > limit) break;
    }
    return Buffer.concat(chunks).subarray(0, limit + 1);
  },
  readStream: (path) => (path === '-' ? process.stdin : fileChunks(path)),
  regularFileSize: async (path) => {
    if (path === '-') return undefined;
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  },
  openWriter: (path) =>
    isStandardOutput(path) ? streamWriter(process.stdout, undefined) : streamWriter(createWriteStream(path, { highWaterMark: FILE_WRITE_BUFFER }), path),
  writeFile: (path, data) => writeFile(path, data),
  stdout: (data) => void (stdoutFailure === undefined && process.stdout.write(data)),
  flush: async () => {
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    await new Promise<void>((resolve) => setImmediate(resolve)); // an 'error' event comes on a later tick
    if (stdoutFailure) throw outputFailure(undefined, stdoutFailure);
  },
  stderr: (text) => void process.stderr.write(text),
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
};

/**
 * A Writer over a Node stream: each write waits for the stream to drain. A
 * file's stream (`path` given) is ended on close, and close reports an error
 * that came after the last write (a small output fails only when it is flushed).
 */
function streamWriter(stream: Writable, path: string | undefined): Writer {
  let failed: Error | undefined;
  stream.on('error', (error) => (failed ??= outputFailure(path, error)));
  return {
    write: (data) =>
      new Promise((resolve, reject) => {
        if (failed) return reject(failed);
        if (stream.write(data)) return resolve();
        const drained = () => {
          stream.off('error', failedNow);
          resolve();
        };
        const failedNow = () => {
          stream.off('drain', drained);
          reject(failed);
        };
        stream.once('drain', drained);
        stream.once('error', failedNow);
      }),
    close: () =>
      new Promise((resolve, reject) => {
        if (failed) return reject(failed);
        if (path === undefined) return resolve(); // standard output stays open; main() flushes it
        // end's callback gets the error before the 'error' event comes.
        stream.end((error?: Error | null) => {
          if (error || failed) {
            failed ??= outputFailure(path, error!);
            reject(failed);
          } else resolve();
        });
      }),
  };
}

/** Whether an output path means standard output: none given, or '-'. */
export const isStandardOutput = (path: string | undefined): path is undefined | '-' => path === undefined || path === '-';

/**
 * A failure to write `path` (standard output when undefined) as one line
 * naming it: `out.bin: no space left on device`. EPIPE stays as it is, for
 * main() to stop quietly when the reader of standard output went away.
 */
export function outputFailure(path: string | undefined, error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EPIPE' || error instanceof CommandFailure) return error;
  return new CommandFailure(`${isStandardOutput(path) ? 'standard output' : path}: ${systemReason(error as NodeJS.ErrnoException)}`);
}

/** An operating-system error in words, without Node's code prefix and syscall suffix (`ENOSPC: ..., write`). */
function systemReason(error: NodeJS.ErrnoException): string {
  const code = error.code;
  return code !== undefined && code in REASONS ? REASONS[code]! : error.message.replace(/^[A-Z]+: /, '').replace(/, \w+(?: '.*')?$/, '');
}

/** An error from the operating system (it has an errno code such as ENOENT, and a syscall). */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** A failure to report as one line and exit code 1; main() prints `cbpf: <message>`. */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
}

/** How a file is named in messages. */
export const displayName = (path: string): string => (path === '-' ? '<stdin>' : path);

/** `error` as one line about `path`: `file:line:col: detail` for parse errors. */
export function describeInputError(path: string, error: unknown): CommandFailure {
  const file = displayName(path);
  if (error instanceof ParseError && error.location) return new CommandFailure(`${file}:${error.location}: ${error.detail}`);
  if (error instanceof CbpfError) return new CommandFailure(`${file}: ${error.message}`);
  if (isSystemError(error)) return new CommandFailure(`${file}: ${systemReason(error)}`);
  throw error;
}

/** How the operating system's common refusals read in a message. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EFBIG: 'file too large',
  EIO: 'input/output error',
};

/** Writes a command's result to `output`, or to standard output (never binary to a terminal). */
export async function writeResult(io: Io, output: string | undefined, data: string | Uint8Array): Promise<void> {
  if (!isStandardOutput(output)) {
    try {
      await io.writeFile(output, data);
    } catch (error) {
      throw outputFailure(output, error as Error);
    }
    return;
  }
  if (typeof data !== 'string' && io.stdoutIsTTY) {
    throw new CommandFailure('refusing to write binary output to a terminal: use -o FILE or a pipe');
  }
  io.stdout(data);
}
