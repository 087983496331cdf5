/**
 * Comparisons with the kernel, for any engine: the verifier's accept/reject
 * against the kernel's, and an engine's decisions against the kernel's.
 */
import type { Program } from '../instruction.js';
import { errnoName } from '../seccomp/errno.js';
import type { RecordBatch } from '../seccomp/records.js';
import { VerifyError, verify } from '../verifier.js';
import { type KernelDecisions, recordAsIssued } from './oracle.js';

/** 'accepted' or the errno's name. */
export type Verdict = string;

/** A program on which the verifier and the kernel disagree. */
export interface AcceptanceMismatch {
  readonly index: number;
  readonly kernel: Verdict;
  readonly verifier: Verdict;
}

/** The verifier's verdict on `program`: 'accepted' or its errno. */
export function verifierVerdict(program: Program): Verdict {
  try {
    verify(program);
    return 'accepted';
  } catch (error) {
    if (error instanceof VerifyError) return error.errno;
    throw error;
  }
}

/** The kernel's verdict from kernelAccepts: 'accepted', the errno's name, or undefined when it could not be asked. */
export function kernelVerdict(errno: number): Verdict | undefined {
  if (errno === -1) return undefined;
  return errno === 0 ? 'accepted' : (errnoName(errno) ?? `errno ${errno}`);
}

/** Every program where the verifier's verdict differs from the kernel's (`kernel` from kernelAccepts). */
export function compareAcceptance(programs: readonly Program[], kernel: readonly number[]): AcceptanceMismatch[] {
  const mismatches: AcceptanceMismatch[] = [];
  programs.forEach((program, index) => {
    const theirs = kernelVerdict(kernel[index]!);
    const ours = verifierVerdict(program);
    if (theirs !== undefined && theirs !== ours) mismatches.push({ index, kernel: theirs, verifier: ours });
  });
  return mismatches;
}

/** A record on which an engine and the kernel decide differently. */
export interface DecisionMismatch {
  readonly record: number;
  /** The 64 bytes the kernel saw (see recordAsIssued). */
  readonly issued: Uint8Array;
  readonly kernel: number;
  readonly engine: number;
}

/**
 * Every record where `decide` (on the record as the kernel saw it) differs
 * from the kernel. Records the host handled before seccomp are left out: count
 * them with `kernel.bypassed`.
 */
export function compareDecisions(kernel: KernelDecisions, batch: RecordBatch, decide: (issued: Uint8Array) => number): DecisionMismatch[] {
  const mismatches: DecisionMismatch[] = [];
  for (let i = 0; i < batch.count; i++) {
    if (kernel.bypassed[i]) continue;
    const issued = recordAsIssued(batch, i, kernel.ips[i]!);
    const engine = decide(issued) >>> 0;
    if (engine !== kernel.values[i]) mismatches.push({ record: i, issued, kernel: kernel.values[i]!, engine });
  }
  return mismatches;
}
