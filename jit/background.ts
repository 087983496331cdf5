/**
 * Compiling off the main thread: Binaryen loads in a short-lived worker
 * thread, so the main thread can go on working meanwhile and never holds
 * Binaryen's ~100 MB. Imports no binaryen itself.
 *
 * Compiled modules are kept on disk, keyed by the programs, the byte order
 * and a fingerprint of every file that goes into a module (see
 * compilerFingerprint), so that the next process with the same filter skips
 * Binaryen altogether: in $CBPF_CACHE_DIR, else $XDG_CACHE_HOME/cbpf, else
 * ~/.cache/cbpf; CBPF_CACHE_DIR=off turns it off. The folder holds at most
 * $CBPF_CACHE_MAX_MIB MiB (default 256) of modules: after a write, the least
 * recently used go. A cached file that is not the module its name promises
 * is deleted and compiled again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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

/** The cache's cap when $CBPF_CACHE_MAX_MIB does not set one. */
const DEFAULT_CACHE_MAX_MIB = 256;

/**
 * The most bytes of modules the cache keeps: $CBPF_CACHE_MAX_MIB MiB (a
 * decimal number, such as 64 or 0.5), else the default. A setting that is no
 * such number is passed over: a cache is never a reason for a run to fail.
 */
function cacheCap(): number {
  const configured = process.env.CBPF_CACHE_MAX_MIB ?? '';
  return (/^\d+(?:\.\d+)?$/.test(configured) ? Number(configured) : DEFAULT_CACHE_MAX_MIB) * 2 ** 20;
}

/**
 * Folders under dist/ that the fingerprint covers: the JIT and the core it
 * builds on (actions, syscall tables, decision tables...), more than goes into
 * a module but never less. The CLI is left out: no module is made of it, and
 * it is what changes most.
 */
const COMPILER_FOLDERS = ['jit', 'src'];
const NOT_COMPILER = new Set(['src/cli']);

/**
 * The files a compiler fingerprint covers, relative to `root`, in a fixed
 * order: every .js file under dist/jit and dist/src but dist/src/cli (a
 * superset of what the compile worker imports, which a parser of imports
 * could miss), and package.json for cbpf's version and the Binaryen it pins.
 */
export function fingerprintFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(join(root, 'dist', folder), { withFileTypes: true })) {
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory() && !NOT_COMPILER.has(path)) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.js')) files.push(`dist/${path}`);
    }
  };
  for (const folder of COMPILER_FOLDERS) walk(folder);
  return [...files.sort(), 'package.json'];
}

/**
 * A hash of the names and contents of the files that make modules, under
 * `root`: a module made by any other build of them is never used.
 */
export function compilerFingerprint(root: string): string {
  const hash = createHash('sha256');
  for (const file of fingerprintFiles(root))
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(root, file)))
      .update('\0');
  return hash.digest('hex');
}

let compilerHash: string | undefined;

/** This process's compiler fingerprint, worked out once. */
function currentFingerprint(): string {
  compilerHash ??= compilerFingerprint(packageRoot());
  return compilerHash;
}

/** The cache file name of the stack's module for `byteOrder` (hex), made by this build. */
function cacheKey(filters: readonly VerifiedProgram[], byteOrder: ByteOrder): string {
  const hash = createHash('sha256').update(currentFingerprint()).update(byteOrder);
  for (const filter of filters) hash.update(JSON.stringify(filter.instructions));
  return hash.digest('hex');
}

/** Names of the files the cache writes (modules, and modules being written); no other file in the folder is ever touched. */
const CACHE_FILE = /^[0-9a-f]{64}\.wasm(?:\.\d+\.tmp)?$/;

/**
 * A cached module ends in a custom section (which WebAssembly ignores) holding
 * the SHA-256 of its key and the module before it: a file cut short, changed
 * on disk, or copied under another key does not match and is not used.
 */
const SEAL_NAME = new TextEncoder().encode('cbpf-digest');
const SEAL_BYTES = 2 + 1 + SEAL_NAME.length + 32; // section id and size, name length and name, digest (each size one LEB128 byte)

/** `binary` with its seal, as it is kept under `key`. */
function sealed(key: string, binary: Uint8Array): Uint8Array {
  const file = new Uint8Array(binary.length + SEAL_BYTES);
  file.set(binary);
  file.set([0, SEAL_BYTES - 2, SEAL_NAME.length, ...SEAL_NAME], binary.length);
  file.set(createHash('sha256').update(key).update(binary).digest(), file.length - 32);
  return file;
}

/** The module in `file` kept under `key`, or undefined when the seal does not match or it does not compile. */
function unsealed(key: string, file: Uint8Array): WebAssembly.Module | undefined {
  if (file.length <= SEAL_BYTES || !Buffer.from(sealed(key, file.subarray(0, file.length - SEAL_BYTES))).equals(file)) return undefined;
  try {
    return new WebAssembly.Module(file);
  } catch {
    return undefined;
  }
}

/**
 * The module cached under `key`, or undefined. A file that is there but not
 * the module is deleted, for the next compile to replace; one that is used has
 * its mtime set to now, which is what eviction goes by (atime is often not kept).
 */
function readCached(dir: string, key: string): WebAssembly.Module | undefined {
  const path = join(dir, `${key}.wasm`);
  let file: Uint8Array;
  try {
    file = readFileSync(path);
  } catch {
    return undefined; // not cached, or the cache cannot be read
  }
  const module = unsealed(key, file);
  try {
    if (module) utimesSync(path, new Date(), new Date());
    else rmSync(path, { force: true });
  } catch {
    // a read-only cache: still usable
  }
  return module;
}

/** Keeps modules for next time, then evicts what is over the cap; a cache that cannot be written is no error. */
function writeCached(dir: string, binaries: ReadonlyMap<string, Uint8Array>): void {
  try {
    mkdirSync(dir, { recursive: true });
    for (const [key, binary] of binaries) {
      const path = join(dir, `${key}.wasm`);
      const partial = `${path}.${process.pid}.tmp`;
      writeFileSync(partial, sealed(key, binary));
      renameSync(partial, path);
    }
    evict(dir, cacheCap());
  } catch {
    // read-only home, full disk: compile again next time
  }
}

/**
 * Deletes the cache's files, least recently used first, until those left
 * hold at most `cap` bytes. Another process may be evicting too: a file gone
 * meanwhile is passed over.
 */
function evict(dir: string, cap: number): void {
  const files: { path: string; size: number; used: number }[] = [];
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (!CACHE_FILE.test(name)) continue;
    const path = join(dir, name);
    try {
      const info = statSync(path);
      if (!info.isFile()) continue;
      files.push({ path, size: info.size, used: info.mtimeMs });
      total += info.size;
    } catch {
      // gone
    }
  }
  files.sort((a, b) => a.used - b.used);
  for (const file of files) {
    if (total <= cap) break;
    rmSync(file.path, { force: true });
    total -= file.size;
  }
}

/** The file that keeps the stack's module for `byteOrder` (there or not), or undefined when the cache is off. */
export function cachedModulePath(filters: readonly VerifiedProgram[], byteOrder: ByteOrder): string | undefined {
  const dir = cacheDir();
  return dir === undefined ? undefined : join(dir, `${cacheKey(filters, byteOrder)}.wasm`);
}

/** The stack's modules for each byte order asked for, from the on-disk cache; undefined unless all are there. */
export function cachedModules(
  filters: readonly VerifiedProgram[],
  byteOrders: readonly ByteOrder[],
): Partial<Record<ByteOrder, WebAssembly.Module>> | undefined {
  const dir = cacheDir();
  if (dir === undefined) return undefined;
  const modules: Partial<Record<ByteOrder, WebAssembly.Module>> = {};
  for (const order of byteOrders) {
    const module = readCached(dir, cacheKey(filters, order));
    if (!module) return undefined;
    modules[order] = module;
  }
  return modules;
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
    const dir = cacheDir();
    if (dir !== undefined) writeCached(dir, new Map(Object.entries(binaries).map(([order, binary]) => [cacheKey(filters, order as ByteOrder), binary])));
    return Object.fromEntries(Object.entries(binaries).map(([order, binary]) => [order, new WebAssembly.Module(binary)]));
  } finally {
    await worker.terminate();
  }
}
