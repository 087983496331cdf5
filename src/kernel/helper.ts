/**
 * Finds, builds and runs the native kernel-oracle helper (native/oracle.c).
 * It is built on demand with the system C compiler into build/native/; where
 * it cannot be (not Linux on x86-64, no compiler, no seccomp), every entry
 * point throws OracleUnavailable with the reason, and the rest of cbpf works.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../package-root.js';

/** The live kernel cannot be asked here; `message` says why. */
export class OracleUnavailable extends Error {
  override readonly name = 'OracleUnavailable';
  constructor(reason: string) {
    super(`kernel oracle unavailable: ${reason}`);
  }
}

/** The helper ran but failed (bad input, a refused program, a stalled child). */
export class OracleError extends Error {
  override readonly name = 'OracleError';
}

let built: string | undefined;

/** The helper's path, building it first if it is missing or older than its source. */
export function helperPath(): string {
  if (built) return built;
  if (process.platform !== 'linux') throw new OracleUnavailable(`this is ${process.platform}, not Linux`);
  if (process.arch !== 'x64') throw new OracleUnavailable(`this is ${process.arch}, not x86-64`);
  if (!/^Seccomp:\s/m.test(readFileSync('/proc/self/status', 'utf8'))) throw new OracleUnavailable('this kernel has no seccomp');
  const root = packageRoot();
  const source = join(root, 'native', 'oracle.c');
  const binary = join(root, 'build', 'native', 'cbpf-oracle');
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    try {
      execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new OracleUnavailable('no C compiler (gcc) to build native/oracle.c');
    }
    mkdirSync(dirname(binary), { recursive: true });
    // Test files build it in parallel: each builds its own copy and renames it into place (atomic),
    // so no process ever runs a half-written binary.
    const building = `${binary}.${process.pid}.tmp`;
    const result = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-mno-red-zone', '-o', building, source], { encoding: 'utf8' });
    if (result.status !== 0) throw new OracleUnavailable(`building native/oracle.c failed: ${result.stderr.trim()}`);
    renameSync(building, binary);
  }
  built = binary;
  return binary;
}

/** Why the oracle cannot run here, or undefined when it can. */
export function oracleUnavailableReason(): string | undefined {
  try {
    helperPath();
    return undefined;
  } catch (error) {
    if (error instanceof OracleUnavailable) return error.message;
    throw error;
  }
}

/** Runs the helper in `mode` with `input` on stdin; returns its stdout. */
export function runHelper(mode: 'accept' | 'accept-stack' | 'decide', input: Uint8Array): Buffer {
  const result = spawnSync(helperPath(), [mode], { input, maxBuffer: 1 << 30 });
  if (result.error) throw new OracleError(`cbpf-oracle ${mode}: ${result.error.message}`);
  if (result.status !== 0) throw new OracleError(result.stderr.toString().trim() || `cbpf-oracle ${mode} exited with ${result.status ?? result.signal}`);
  return result.stdout;
}
