/**
 * An Io over memory: files and standard input given up front, everything
 * written kept. Tests and the malformed-input fuzzer run whole commands on it
 * without spawning a process or touching the disk.
 */
import { readFile, stat } from 'node:fs/promises';
import { type Io, isStandardOutput } from './io.js';

/** What a command run on a MemoryIo printed and wrote. */
export interface MemoryIoOutput {
  readonly stdoutBytes: Uint8Array;
  readonly stderr: string;
  /** The given files, and every file the command wrote. */
  readonly files: Map<string, Uint8Array>;
}

/** Options of memoryIo. */
export interface MemoryIoOptions {
  /** What '-' reads. */
  readonly stdin?: string | Uint8Array;
  /** In-memory files, read before the real file system. */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Whether a path that is not in `files` is read from the disk (else it does not exist). */
  readonly disk?: boolean;
  /** Bytes per chunk of readStream: small and odd, so that records and lines cross chunk boundaries. */
  readonly chunkBytes?: number;
}

const encode = (data: string | Uint8Array): Uint8Array => (typeof data === 'string' ? new TextEncoder().encode(data) : data);

function noSuchFile(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT', syscall: 'open', path });
}

/** An Io over memory, and a way to see what was written to it. */
export function memoryIo({ stdin = '', files: given = {}, disk = false, chunkBytes = 1000 }: MemoryIoOptions = {}): { io: Io; output(): MemoryIoOutput } {
  const out: Uint8Array[] = [];
  let stderr = '';
  const files = new Map(Object.entries(given).map(([path, data]) => [path, encode(data)]));
  const read = async (path: string): Promise<Uint8Array> => {
    if (path === '-') return encode(stdin);
    const file = files.get(path);
    if (file) return file;
    if (!disk) throw noSuchFile(path);
    return new Uint8Array(await readFile(path));
  };
  const append = (path: string, data: Uint8Array) => files.set(path, new Uint8Array(Buffer.concat([files.get(path) ?? new Uint8Array(), data])));
  const io: Io = {
    readFile: async (path, limit) => (await read(path)).subarray(0, limit + 1),
    readStream: async function* (path) {
      const bytes = await read(path);
      for (let at = 0; at < bytes.length; at += chunkBytes) yield bytes.subarray(at, at + chunkBytes);
    },
    // In-memory files are streamed; files on disk are what they are (worker threads read them themselves).
    regularFileSize: async (path) => {
      if (path === '-' || files.has(path) || !disk) return undefined;
      const info = await stat(path);
      return info.isFile() ? info.size : undefined;
    },
    openWriter: (path) => ({
      write: async (data) => {
        if (isStandardOutput(path)) out.push(encode(data));
        else append(path, encode(data));
      },
      close: async () => {
        if (!isStandardOutput(path) && !files.has(path)) files.set(path, new Uint8Array());
      },
    }),
    writeFile: async (path, data) => void files.set(path, encode(data)),
    stdout: (data) => void out.push(encode(data)),
    stderr: (text) => {
      stderr += text;
    },
    flush: async () => {},
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
  return { io, output: () => ({ stdoutBytes: new Uint8Array(Buffer.concat(out)), stderr, files }) };
}
