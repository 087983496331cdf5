/**
 * Compiling off the main thread: Binaryen loads in a short-lived worker
 * thread, so the main thread can go on working meanwhile and never holds
 * Binaryen's ~100 MB. Imports no binaryen itself.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../src/package-root.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import type { VerifiedProgram } from '../src/verifier.js';
import type { CompileJob } from './compile-worker.js';

/**
 * The stack compiled (default optimisation) for each byte order asked for, as
 * WebAssembly modules. `signal` stops the thread, for a caller that no longer
 * needs the result (the promise then rejects with the signal's reason).
 */
export async function compileInWorker(
  filters: readonly VerifiedProgram[],
  byteOrders: readonly ByteOrder[],
  signal?: AbortSignal,
): Promise<Partial<Record<ByteOrder, WebAssembly.Module>>> {
  // The compiled worker: tests run from src/, but a worker thread needs JavaScript (npm test builds first).
  const script = join(packageRoot(), 'dist', 'jit', 'compile-worker.js');
  const job: CompileJob = { filters: filters.map((f) => [...f.instructions]), byteOrders: [...byteOrders] };
  const worker = new Worker(script, { workerData: job });
  try {
    const binaries = await new Promise<Partial<Record<ByteOrder, Uint8Array>>>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(signal?.reason ?? new Error(`the compile worker exited with code ${code} before it answered`)));
      signal?.addEventListener('abort', () => void worker.terminate(), { once: true });
    });
    return Object.fromEntries(Object.entries(binaries).map(([order, binary]) => [order, new WebAssembly.Module(binary)]));
  } finally {
    await worker.terminate();
  }
}
