/**
 * What the machine offers beyond Node, and tests that need it. A test that
 * needs something missing is skipped with the reason printed and in its
 * name: it never passes silently.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { it, type TestContext } from 'vitest';
import { oracleUnavailableReason } from '../src/kernel/helper.js';
import { i386BypassReason, kernelArches } from '../src/kernel/oracle.js';
import { decodeSeccompData, packRecords, type RecordBatch, recordByteOrder, recordBytes } from '../src/seccomp/records.js';

function libseccompReason(): string | undefined {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is not installed';
  }
  if (!existsSync('/usr/include/seccomp.h')) return 'libseccomp-dev is not installed (run scripts/install-system-deps.sh)';
  if (!existsSync('/usr/include/asm-generic/unistd.h')) return 'linux-libc-dev is not installed';
  return undefined;
}

/** Why libseccomp-based generators cannot run here, or undefined when they can. */
export const libseccompMissing = libseccompReason();
/** Why the live kernel cannot be asked here, or undefined when it can. */
export const oracleMissing = oracleUnavailableReason();

function straceReason(): string | undefined {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'strace is not installed (run scripts/install-system-deps.sh)';
  }
  try {
    execFileSync('strace', ['-o', '/dev/null', 'true'], { stdio: 'ignore' });
  } catch {
    return 'strace cannot trace here (ptrace is not allowed)';
  }
  return undefined;
}

/** Why no strace log can be recorded here, or undefined when one can. */
export const straceMissing = straceReason();

for (const reason of [libseccompMissing, oracleMissing, straceMissing]) if (reason) console.warn(`SKIPPING tests: ${reason}`);

/** A test that runs only when `missing` is undefined; otherwise skipped, saying why. */
export function itWhenAvailable(missing: string | undefined, name: string, fn: (context: TestContext) => unknown, timeout?: number): void {
  it.skipIf(missing !== undefined)(missing ? `${name} (skipped: ${missing})` : name, fn, timeout);
}

/** A test that needs the live kernel oracle. */
export const kernelIt = (name: string, fn: (context: TestContext) => unknown, timeout = 120_000): void => itWhenAvailable(oracleMissing, name, fn, timeout);

let i386Warned = false;

/** Why the live kernel cannot decide i386 records here (i386BypassReason), or undefined; printed the first time a test asks. */
export function i386Missing(): string | undefined {
  const reason = i386BypassReason();
  if (reason && !i386Warned) console.warn(`SKIPPING i386 records in kernel tests: ${reason}`);
  i386Warned = true;
  return reason;
}

/** `batch` with only the records of arches the kernel can decide (kernelArches; i386 left out where i386Missing says), for tests that ask the kernel. */
export function kernelIssuable(batch: RecordBatch): RecordBatch {
  if (!i386Missing()) return batch;
  const arches = kernelArches();
  const records = Array.from({ length: batch.count }, (_, i) => decodeSeccompData(recordBytes(batch, i), recordByteOrder(batch, i)));
  return packRecords(records.filter((record) => arches.includes(record.arch)));
}
