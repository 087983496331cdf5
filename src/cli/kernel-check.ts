/** `cbpf kernel-check`: the verifier and every engine against the live kernel. */
import { loadEngine } from '../../eval/engines.js';
import { formatAsm } from '../disasm.js';
import type { EngineName } from '../engine.js';
import { biasedRecords } from '../fuzz/programs.js';
import { seededRandom } from '../fuzz/random.js';
import { generateRecords } from '../fuzz/traces.js';
import type { Instruction } from '../instruction.js';
import { OracleError, OracleUnavailable } from '../kernel/helper.js';
import { i386BypassReason, kernelAccepts, kernelArches, kernelDecide } from '../kernel/oracle.js';
import { compareDecisions, type DecisionMismatch, JIT_FAILED_ERRNO, kernelVerdict, verifierVerdict } from '../kernel/parity.js';
import { MAX_REWRITABLE_LENGTH } from '../kernel/rewrite.js';
import { hexValue } from '../seccomp/actions.js';
import { archNamed } from '../seccomp/arches.js';
import { decodeSeccompData, packRecords, type RecordBatch, readRecordStream, recordByteOrder, recordBytes } from '../seccomp/records.js';
import { verify } from '../verifier.js';
import type { Command } from './args.js';
import { CommandFailure, displayName, type Io } from './io.js';
import { loadProgram, loadRecords } from './load.js';

const SHOWN_MISMATCHES = 20;

const AUDIT_ARCH_I386 = archNamed('i386').auditArch;

/** `count` realistic x86_64 records, and a tenth as many aimed at the program, of `arches` (kernelArches). */
function generatedTraces(program: Instruction[], count: number, arches: readonly number[]): { batch: RecordBatch; described: string } {
  const realistic = readRecordStream(generateRecords(count, 'realistic', 1), 'le');
  const aimed = packRecords(biasedRecords(program, seededRandom(1), Math.ceil(count / 10), arches));
  const bytes = new Uint8Array(realistic.bytes.length + aimed.bytes.length);
  bytes.set(realistic.bytes);
  bytes.set(aimed.bytes, realistic.bytes.length);
  const batch = { bytes, count: realistic.count + aimed.count, bigEndian: new Uint8Array(realistic.count + aimed.count) };
  return { batch, described: `${realistic.count} realistic + ${aimed.count} aimed records` };
}

/** What the host's kernel answered before seccomp: i386 syscalls, and x86_64 syscalls by number. */
function describeBypassed(batch: RecordBatch, bypassed: readonly number[]): string {
  const records = bypassed.map((i) => decodeSeccompData(recordBytes(batch, i), recordByteOrder(batch, i)));
  const i386 = records.filter((r) => r.arch === AUDIT_ARCH_I386).length;
  const nrs = [...new Set(records.filter((r) => r.arch !== AUDIT_ARCH_I386).map((r) => r.nr))].sort((a, b) => a - b);
  const numbered = nrs.length === 0 ? [] : [`syscall ${nrs.slice(0, 8).join(', ')}${nrs.length > 8 ? ', ...' : ''}`];
  return [...(i386 > 0 ? [`i386 syscalls (${i386} records)`] : []), ...numbered].join(' and ');
}

function describeMismatches(engine: EngineName, mismatches: DecisionMismatch[]): string[] {
  return [
    ...mismatches
      .slice(0, SHOWN_MISMATCHES)
      .map((m) => `  record ${m.record}: ${Buffer.from(m.issued).toString('hex')}\n    kernel ${hexValue(m.kernel)}, ${engine} ${hexValue(m.engine)}`),
    ...(mismatches.length > SHOWN_MISMATCHES ? [`  ... and ${mismatches.length - SHOWN_MISMATCHES} more`] : []),
  ];
}

export async function runKernelCheck(command: Extract<Command, { kind: 'kernel-check' }>, io: Io): Promise<void> {
  const given =
    command.records === undefined ? undefined : await loadRecords(io, command.records, { format: command.recordFormat, byteOrder: 'le', arch: command.arch });
  let failures = 0;
  let noted = false;
  for (const path of command.inputs) {
    const { program } = await loadProgram(io, path, command);
    const file = displayName(path);
    const started = performance.now();
    try {
      const ours = verifierVerdict(program);
      const errno = kernelAccepts([program])[0]!;
      const theirs = kernelVerdict(errno);
      if (theirs === undefined) {
        const why =
          errno === JIT_FAILED_ERRNO
            ? "passed the kernel's checks, but its BPF JIT could not compile them (ENOTSUPP)"
            : 'cannot be given to the kernel (sock_fprog.len is 16 bits)';
        io.stdout(`${file}: ${program.length} instructions ${why}; verifier ${ours}\n`);
        continue;
      }
      const agree = ours === theirs;
      if (!agree) failures++;
      io.stdout(`${file}: verifier ${ours}, kernel ${theirs}${agree ? '' : '  MISMATCH'}\n`);
      if (theirs !== 'accepted' || ours !== 'accepted') continue;
      if (program.length > MAX_REWRITABLE_LENGTH) {
        io.stdout(`  decisions not checked: the oracle rewrites programs of at most ${MAX_REWRITABLE_LENGTH} instructions\n`);
        continue;
      }
      const filter = verify(program);
      const bypass = given ? undefined : i386BypassReason();
      if (bypass && !noted) io.stderr(`cbpf kernel-check: records aimed at each program are x86_64 only: ${bypass}\n`);
      noted ||= bypass !== undefined;
      const { batch, described } = given ? { batch: given, described: `${given.count} records` } : generatedTraces(program, command.count, kernelArches());
      const kernel = kernelDecide(program, batch);
      const bypassed = [...kernel.bypassed.keys()].filter((i) => kernel.bypassed[i]);
      for (const engine of command.engines) {
        const mismatches = compareDecisions(kernel, batch, (await loadEngine(engine))([filter]));
        failures += mismatches.length;
        io.stdout(`  ${described}: ${mismatches.length} mismatches (${engine})\n`);
        if (mismatches.length > 0) io.stdout(`${formatAsm(program).replace(/^/gm, '    ')}${describeMismatches(engine, mismatches).join('\n')}\n`);
      }
      if (bypassed.length > 0)
        io.stdout(`  ${bypassed.length} records left out: this host's kernel answers ${describeBypassed(batch, bypassed)} before seccomp runs\n`);
      io.stdout(`  ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    } catch (error) {
      if (error instanceof OracleUnavailable || error instanceof OracleError) throw new CommandFailure(error.message);
      throw error;
    }
  }
  if (failures > 0) throw new CommandFailure(`${failures} disagreement${failures === 1 ? '' : 's'} with the kernel`);
}
