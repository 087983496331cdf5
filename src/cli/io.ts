/**
 * The CLI's only contact with the outside world, so commands can be run in
 * tests without spawning a process.
 */
import { createWriteStream } from 'node:fs';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { CbpfError, ParseError } from '../errors.js';

/** Output written piece by piece; `close` finishes it (a file is complete once it resolves). */
export interface Writer {
  write(data: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Where commands read and write. */
export interface Io {
  /** The bytes of `path`; '-' is standard input. */
  readFile(path: string): Promise<Uint8Array>;
  /** The bytes of `path` ('-' is standard input) in chunks, for inputs of any size. */
  readStream(path: string): AsyncIterable<Uint8Array>;
  /**
   * The size of `path` if it is a regular file on disk, which other threads
   * can open and read at any offset; undefined for standard input, pipes and
   * devices.
   */
  regularFileSize(path: string): Promise<number | undefined>;
  /** A writer to `path`, or to standard output when undefined. */
  openWriter(path: string | undefined): Writer;
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  stdout(data: string | Uint8Array): void;
  stderr(text: string): void;
  /** Waits until standard output is written out; throws the first error it met (EPIPE, ENOSPC, ...). */
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
 * main thread idled for a sixth of a 10M-record run.
 */
const FILE_WRITE_BUFFER = 4 << 20;

/** The real process: files, stdin, stdout and stderr. */
export const processIo: Io = {
  async readFile(path) {
    if (path !== '-') return readFile(path);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  },
  readStream: (path) => (path === '-' ? process.stdin : readFileChunks(path)),
  regularFileSize: async (path) => {
    if (path === '-') return undefined;
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  },
  openWriter: (path) => streamWriter(path === undefined ? process.stdout : createWriteStream(path, { highWaterMark: FILE_WRITE_BUFFER }), path !== undefined),
  writeFile: (path, data) => writeFile(path, data),
  stdout: (data) => void (stdoutFailure === undefined && process.stdout.write(data)),
  flush: async () => {
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    await new Promise<void>((resolve) => setImmediate(resolve)); // an 'error' event comes on a later tick
    if (stdoutFailure) throw stdoutFailure;
  },
  stderr: (text) => void process.stderr.write(text),
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
};

/**
 * A file in fresh 1 MiB chunks, read straight into buffers of their own: a
 * chunk of whole records can then become a batch, and move to a worker
 * thread, without a copy.
 */
async function* readFileChunks(path: string): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r');
  try {
    for (;;) {
      const buffer = new Uint8Array(1 << 20);
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await file.read(buffer, filled, buffer.length - filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled > 0) yield filled === buffer.length ? buffer : buffer.subarray(0, filled);
      if (filled < buffer.length) return;
    }
  } finally {
    await file.close();
  }
}

/** A Writer over a Node stream: each write waits for the stream to drain; `ownsStream` ends it on close. */
function streamWriter(stream: Writable, ownsStream: boolean): Writer {
  let failed: Error | undefined;
  stream.on('error', (error) => (failed = error));
  return {
    write: (data) =>
      new Promise((resolve, reject) => {
        if (failed) return reject(failed);
        if (stream.write(data)) return resolve();
        const drained = () => {
          stream.off('error', failedNow);
          resolve();
        };
        const failedNow = (error: Error) => {
          stream.off('drain', drained);
          reject(error);
        };
        stream.once('drain', drained);
        stream.once('error', failedNow);
      }),
    close: () =>
      new Promise((resolve, reject) => {
        if (failed) return reject(failed);
        if (!ownsStream) return resolve();
        stream.end(() => resolve());
      }),
  };
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
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = { ENOENT: 'no such file', EISDIR: 'is a directory', EACCES: 'permission denied' };
  if (code !== undefined && code in reasons) return new CommandFailure(`${file}: ${reasons[code]}`);
  throw error;
}

/** Writes a command's result to `output`, or to standard output (never binary to a terminal). */
export async function writeResult(io: Io, output: string | undefined, data: string | Uint8Array): Promise<void> {
  if (output !== undefined) {
    try {
      await io.writeFile(output, data);
    } catch (error) {
      throw describeInputError(output, error);
    }
    return;
  }
  if (typeof data !== 'string' && io.stdoutIsTTY) {
    throw new CommandFailure('refusing to write binary output to a terminal: use -o FILE or a pipe');
  }
  io.stdout(data);
}
