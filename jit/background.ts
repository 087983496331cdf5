/**
 * Compiling off the main thread: Binaryen loads in a short-lived worker
 * thread, so the main thread can go on working meanwhile and never holds
 * Binaryen's ~100 MB. Imports no binaryen itself.
 *
 * Compiled modules are kept on disk, keyed by the programs, the byte order
 * and a hash of the compiler's own code, so that the next process with the
 * same filter skips Binaryen altogether: in $CBPF_CACHE_DIR, else
 * $XDG_CACHE_HOME/cbpf, else ~/.cache/cbpf; CBPF_CACHE_DIR=off turns it off.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../src/package-root.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import type { VerifiedProgram } from '../src/verifier.js';
import type { CompileJob } from './compile-worker.js';

/** The cache folder, or undefined when it is turned off. */
function cacheDir(): string | undefined {
  const configured = process.env.CBPF_CACHE_DIR;
  if (configured === 'off') return undefined;
  return configured || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cbpf');
}

let compilerHash: string | undefined;

/** A hash of the code that makes modules: a module cached by another version of it is never used. */
function compilerFingerprint(): string {
  if (compilerHash) return compilerHash;
  const hash = createHash('sha256');
  for (const file of ['jit/module.js', 'jit/lower.js', 'jit/layout.js', 'jit/layout-abi.js', 'jit/table-layout.js', 'src/decision-table.js']) hash.update(readFileSync(join(packageRoot(), 'dist', file)));
  hash.update(readFileSync(join(packageRoot(), 'package.json'))); // cbpf's version, and the Binaryen it pins
  return (compilerHash = hash.digest('hex'));
}

function cachePath(dir: string, filters: readonly VerifiedProgram[], byteOrder: ByteOrder): string {
  const hash = createHash('sha256').update(compilerFingerprint()).update(byteOrder);
  for (const filter of filters) hash.update(JSON.stringify(filter.instructions));
  return join(dir, `${hash.digest('hex')}.wasm`);
}

/** The cached module's bytes, or undefined (not cached, or the cache cannot be read). */
function readCached(path: string): Uint8Array | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Keeps a module for next time; a cache that cannot be written is no error. */
function writeCached(path: string, dir: string, binary: Uint8Array): void {
  try {
    mkdirSync(dir, { recursive: true });
    const partial = `${path}.${process.pid}.tmp`;
    writeFileSync(partial, binary);
    renameSync(partial, path);
  } catch {
    // read-only home, full disk: compile again next time
  }
}

/** The cache folder, and each byte order's file in it; undefined when the cache is off. */
function cachePaths(filters: readonly VerifiedProgram[], byteOrders: readonly ByteOrder[]): { dir: string; paths: Map<ByteOrder, string> } | undefined {
  const dir = cacheDir();
  return dir === undefined ? undefined : { dir, paths: new Map(byteOrders.map((order) => [order, cachePath(dir, filters, order)])) };
}

/** The stack's modules for each byte order asked for, from the on-disk cache; undefined unless all are there. */
export function cachedModules(filters: readonly VerifiedProgram[], byteOrders: readonly ByteOrder[]): Partial<Record<ByteOrder, WebAssembly.Module>> | undefined {
  const cache = cachePaths(filters, byteOrders);
  if (!cache) return undefined;
  const binaries = byteOrders.map((order) => [order, readCached(cache.paths.get(order)!)] as const);
  if (!binaries.every(([, binary]) => binary !== undefined)) return undefined;
  return Object.fromEntries(binaries.map(([order, binary]) => [order, new WebAssembly.Module(binary!)]));
}

/**
 * The stack compiled (default optimisation) for each byte order asked for, as
 * WebAssembly modules, in a worker thread, and kept in the on-disk cache.
 * `signal` stops the thread, for a caller that no longer needs the result
 * (the promise then rejects with the signal's reason).
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
    const cache = cachePaths(filters, byteOrders);
    if (cache) for (const [order, binary] of Object.entries(binaries)) writeCached(cache.paths.get(order as ByteOrder)!, cache.dir, binary);
    return Object.fromEntries(Object.entries(binaries).map(([order, binary]) => [order, new WebAssembly.Module(binary)]));
  } finally {
    await worker.terminate();
  }
}
