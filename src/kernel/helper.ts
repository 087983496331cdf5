/**
 * Finds, builds (src/native.ts) and runs the native kernel-oracle helper
 * (native/oracle.c). Where it cannot run (not Linux on x86-64, no compiler,
 * no seccomp), every entry point throws OracleUnavailable with the reason,
 * and the rest of cbpf works.
 */
import { spawnSync } from 'node:child_process';
import { NativeUnavailable, nativeHelper } from '../native.js';

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

/**
 * The helper's path, building it first if it is missing or older than its source.
 * @throws OracleUnavailable with the reason when it cannot run here.
 */
export function helperPath(): string {
  try {
    return nativeHelper('oracle');
  } catch (error) {
    if (error instanceof NativeUnavailable) throw new OracleUnavailable(error.message);
    throw error;
  }
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
