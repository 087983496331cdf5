/**
 * Comparisons with the kernel, for any engine: the verifier's accept/reject
 * against the kernel's, and an engine's decisions against the kernel's.
 */
import type { Engine } from '../engine.js';
import type { Program } from '../instruction.js';
import { resolveStack } from '../seccomp/actions.js';
import { SECCOMP_DATA_SIZE } from '../seccomp/data.js';
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

/**
 * ENOTSUPP from the kernel: its checks passed, then its BPF JIT (always on
 * there) failed to compile the program, logging "unexpected jump padding"
 * (seen on 6.18 with a generated program of 41 instructions). No rule the
 * verifier models says so, and it is no verdict on them.
 */
export const JIT_FAILED_ERRNO = 524;

/** The kernel's verdict from kernelAccepts: 'accepted', the errno's name, or undefined when it could not be asked or its JIT failed (JIT_FAILED_ERRNO). */
export function kernelVerdict(errno: number): Verdict | undefined {
  if (errno === -1 || errno === JIT_FAILED_ERRNO) return undefined;
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
 * Every record where `engine` (deciding the records as the kernel saw them,
 * little-endian) differs from the kernel's decision: the filter's value as
 * the kernel acts on it (resolveStack: ALLOW's data is dropped). Records the
 * host handled before seccomp are left out: count them with `kernel.bypassed`.
 */
export function compareDecisions(kernel: KernelDecisions, batch: RecordBatch, engine: Engine): DecisionMismatch[] {
  const checked = Array.from({ length: batch.count }, (_, i) => i).filter((i) => !kernel.bypassed[i]);
  const issued = checked.map((i) => recordAsIssued(batch, i, kernel.ips[i]!));
  const bytes = new Uint8Array(issued.length * SECCOMP_DATA_SIZE);
  issued.forEach((record, j) => {
    bytes.set(record, j * SECCOMP_DATA_SIZE);
  });
  const values = engine.decide({ bytes, count: issued.length, bigEndian: new Uint8Array(issued.length) });
  return checked.flatMap((record, j) => {
    const decided = resolveStack([kernel.values[record]!]);
    return values[j] === decided ? [] : [{ record, issued: issued[j]!, kernel: decided, engine: values[j]! }];
  });
}
