/** Reading a trace in chunks that can become record batches. */
import { open } from 'node:fs/promises';
import type { TraceSource } from './options.js';

/**
 * A file in fresh 1 MiB chunks, read straight into buffers of their own: a
 * chunk of whole records can then become a batch, and move to a worker
 * thread, without a copy.
 */
export async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
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

/** The bytes of a trace: a path's, read by fileChunks, or the source itself. */
export function traceChunks(source: TraceSource): AsyncIterable<Uint8Array> {
  return typeof source === 'string' ? fileChunks(source) : source;
}
