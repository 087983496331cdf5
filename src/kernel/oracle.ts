/**
 * The live kernel as an oracle (SPEC section 9): whether it accepts programs,
 * and the exact value a program returns for each record, read back through
 * errno from RET-rewritten copies. x86-64 Linux only; see helper.ts.
 */
import { encodeRaw } from '../codecs/raw.js';
import type { Program } from '../instruction.js';
import { archByAuditArch } from '../seccomp/arches.js';
import { checkRecordBatch, SECCOMP_DATA_ARCH, SECCOMP_DATA_ARGS, SECCOMP_DATA_IP, SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { packRecords, type RecordBatch, recordBytes } from '../seccomp/records.js';
import { OracleError, runHelper } from './helper.js';
import { PASS_SHIFTS, rewriteForPass, valueFromErrnos } from './rewrite.js';

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_I386 = 0x40000003;
const SIGSYS = 31;

/** u32 count, then each program as u32 length + raw instructions. */
function encodePrograms(programs: readonly Program[]): Uint8Array[] {
  const parts: Uint8Array[] = [u32(programs.length)];
  for (const program of programs) parts.push(u32(program.length), encodeRaw(program, 'le'));
  return parts;
}

function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}

function int32s(bytes: Buffer, count: number): number[] {
  return Array.from({ length: count }, (_, i) => bytes.readInt32LE(4 * i));
}

/**
 * For each program, 0 when the kernel accepts it, else the errno it answers
 * (installing each in a fresh child with no_new_privs). -1 marks a program
 * whose length does not fit `sock_fprog.len` (a u16), which cannot be asked.
 */
export function kernelAccepts(programs: readonly Program[]): number[] {
  return int32s(runHelper('accept', Buffer.concat(encodePrograms(programs))), programs.length);
}

/**
 * Installs `programs` one after another in one child, as a process stacks
 * filters: each result is 0 or the errno; `killedBy` is the signal that ended
 * the child early (a filter that does not allow seccomp() stops the stack).
 */
export function kernelInstallStack(programs: readonly Program[]): { errnos: number[]; killedBy: number } {
  const out = runHelper('accept-stack', Buffer.concat(encodePrograms(programs)));
  return { errnos: int32s(out, programs.length), killedBy: out.readInt32LE(4 * programs.length) };
}

/** What the kernel decided, per record. */
export interface KernelDecisions {
  /** The exact value the program returned (0 where DIV by X = 0 ended it). */
  readonly values: Uint32Array;
  /** The instruction pointer the kernel saw: the address after the helper's syscall instruction. */
  readonly ips: BigUint64Array;
  /**
   * 1 for a record whose syscall the host's kernel handled before seccomp ran,
   * so no filter decided it (its value is 0 and means nothing). Upstream Linux
   * runs seccomp first for every number; some sandbox kernels do not.
   */
  readonly bypassed: Uint8Array;
}

/** The canary pass's errno: above every rewritten pass's range (1..2048), and no syscall returns it. */
const CANARY_ERRNO = 2049;

/** Throws unless every record can be issued on this x86-64 host: x86_64 or i386, little-endian. */
function checkIssuable(batch: RecordBatch): void {
  for (let i = 0; i < batch.count; i++) {
    const arch = new DataView(batch.bytes.buffer, batch.bytes.byteOffset + i * SECCOMP_DATA_SIZE).getUint32(SECCOMP_DATA_ARCH, !batch.bigEndian[i]);
    if ((arch !== AUDIT_ARCH_X86_64 && arch !== AUDIT_ARCH_I386) || batch.bigEndian[i]) {
      const name = archByAuditArch(arch)?.name ?? `0x${arch.toString(16)}`;
      throw new OracleError(`record ${i} is ${name}: only x86_64 and i386 records can be issued on an x86-64 host`);
    }
  }
}

/**
 * The value `program` (verified, at most 4091 instructions) returns for each
 * record, as the kernel computes it. Each record's syscall is issued for real
 * in a child whose filter turns every return into an errno, so no syscall
 * under test runs; three passes recover all 32 bits.
 * @throws InputError `batch-size` or `batch-count` for a batch that disagrees with itself.
 */
export function kernelDecide(program: Program, batch: RecordBatch): KernelDecisions {
  checkRecordBatch(batch);
  checkIssuable(batch);
  // Pass 0 is the canary: a filter that answers ERRNO(2049) to everything shows which records reach seccomp.
  const canary = [{ code: 0x06, jt: 0, jf: 0, k: 0x00050000 | CANARY_ERRNO }];
  const passes = [canary, ...PASS_SHIFTS.map((shift) => rewriteForPass(program, shift))];
  const out = runHelper('decide', Buffer.concat([...encodePrograms(passes), u32(batch.count), batch.bytes]));
  const values = new Uint32Array(batch.count);
  const ips = new BigUint64Array(batch.count);
  const bypassed = new Uint8Array(batch.count);
  const entry = (pass: number, i: number) => {
    const at = (pass * batch.count + i) * 24;
    return { signal: out.readInt32LE(at), ret: out.readBigInt64LE(at + 8), ip: out.readBigUInt64LE(at + 16) };
  };
  for (let i = 0; i < batch.count; i++) {
    const check = entry(0, i);
    if (check.signal !== 0 || check.ret !== BigInt(-CANARY_ERRNO)) {
      bypassed[i] = 1;
      continue;
    }
    const results = PASS_SHIFTS.map((_, pass) => entry(pass + 1, i));
    ips[i] = results[0]!.ip;
    const signals = new Set(results.map((r) => r.signal));
    if (signals.size !== 1) throw new OracleError(`record ${i}: the passes disagree on whether the child died (${[...signals].join(', ')})`);
    const signal = results[0]!.signal;
    if (signal === SIGSYS) continue; // only DIV by X = 0 gets past every rewritten RET: the filter returned 0
    if (signal !== 0) throw new OracleError(`record ${i}: the child died by signal ${signal}`);
    const errnos = results.map((r) => Number(-r.ret));
    if (errnos.some((e) => e < 1 || e > 2048))
      throw new OracleError(`record ${i}: the syscall returned ${results.map((r) => r.ret).join(', ')}, not the errnos of the rewritten filter`);
    values[i] = valueFromErrnos(errnos);
  }
  return { values, ips, bypassed };
}

let i386Bypass: string | undefined | null = null;

/**
 * Why this kernel's seccomp filters never see i386 syscalls, or undefined
 * when they do: some sandbox kernels answer a 32-bit syscall (int 0x80)
 * before seccomp runs (KernelDecisions.bypassed). Asked of the kernel once.
 */
export function i386BypassReason(): string | undefined {
  if (i386Bypass !== null) return i386Bypass;
  // getpid (i386 number 20): harmless where it runs unfiltered, and no special case of the syscall path, as restart_syscall (0) is.
  const record = packRecords([{ arch: AUDIT_ARCH_I386, nr: 20, instructionPointer: 0n, args: [] }]);
  const { bypassed } = kernelDecide([{ code: 0x06, jt: 0, jf: 0, k: 0x00050001 }], record);
  i386Bypass = bypassed[0] ? 'this kernel answers i386 syscalls (int 0x80) before seccomp runs' : undefined;
  return i386Bypass;
}

/** The arches (audit values) of the records this kernel's filters can be asked about: x86_64, and i386 unless i386BypassReason says otherwise. */
export function kernelArches(): number[] {
  return i386BypassReason() === undefined ? [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386] : [AUDIT_ARCH_X86_64];
}

/**
 * Record i as the kernel saw it: its instruction pointer is where the helper
 * made the call, and an i386 record's arguments are cut to 32 bits.
 */
export function recordAsIssued(batch: RecordBatch, i: number, ip: bigint): Uint8Array {
  const record = new Uint8Array(recordBytes(batch, i));
  const view = new DataView(record.buffer);
  view.setBigUint64(SECCOMP_DATA_IP, ip, true);
  if (view.getUint32(SECCOMP_DATA_ARCH, true) === AUDIT_ARCH_I386) {
    for (let a = 0; a < 6; a++) view.setUint32(SECCOMP_DATA_ARGS + 8 * a + 4, 0, true);
  }
  return record;
}
