/**
 * libseccomp as the oracle of the profile compiler: native/libseccomp.c adds
 * a resolved profile's rules with the real libseccomp, as runc and crun do,
 * and exports the filter it generates. runc puts its ENOSYS stub in front of
 * that filter (runtimeDecision). Running the program is the caller's: core
 * code has no interpreter.
 */
import { spawnSync } from 'node:child_process';
import { decodeRaw } from '../codecs/raw.js';
import type { Instruction } from '../instruction.js';
import { NativeUnavailable, nativeHelper } from '../native.js';
import { BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W } from '../opcodes.js';
import { byteOrderOf } from '../seccomp/arches.js';
import { byteSwap32 } from '../seccomp/data.js';
import { encodeSeccompData, type SeccompData } from '../seccomp/records.js';
import { decideStub, type ProfileFilter } from './filter.js';
import type { Operator } from './read.js';
import type { ResolvedProfile } from './resolve.js';

/** libseccomp's `enum scmp_compare`. */
const SCMP_COMPARE: Readonly<Record<Operator, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/**
 * What libseccomp refused: a rule (its index in `resolved.rules` and the
 * negative errno), or the filter's setup: seccomp_init the default action,
 * or seccomp_arch_add an arch (the helper does not report those errnos).
 */
export type LibseccompRefusal =
  | { readonly rule: number; readonly errno: number }
  | { readonly setup: 'default' | 'arches' }
  /** The helper did not finish within its time limit: libseccomp never returned from adding a rule. */
  | { readonly hangs: true };

/** How long the helper may take before it counts as hung (a normal build takes milliseconds). */
const HELPER_TIMEOUT_MS = 3000;

/** libseccomp's filter for a resolved profile, or what it refused (the runtime then does not start the container). */
export type LibseccompFilter = { readonly program: Instruction[] } | { readonly refused: LibseccompRefusal };

/** The helper's path, building it first when needed. @throws NativeUnavailable when it cannot run here. */
export function libseccompHelper(): string {
  return nativeHelper('libseccomp', ['seccomp']);
}

/** Why libseccomp cannot be asked here, or undefined when it can. */
export function libseccompUnavailableReason(): string | undefined {
  try {
    libseccompHelper();
    return undefined;
  } catch (error) {
    if (error instanceof NativeUnavailable) return error.message;
    throw error;
  }
}

/** The helper's input for `resolved`: its arches, default action and rules, in the runtime's order. */
export function libseccompInput(resolved: ResolvedProfile): string {
  const lines = [`arches ${resolved.arches.map((a) => a.libseccompName).join(' ')}`, `default ${resolved.defaultAction >>> 0}`];
  if (resolved.context.optimize === 2) lines.push('optimize 2');
  for (const rule of resolved.rules) {
    const conditions = rule.conditions.map((c) => `${c.index} ${SCMP_COMPARE[c.op]} ${c.value} ${c.valueTwo}`);
    lines.push(`rule ${rule.name} ${rule.action >>> 0} ${rule.conditions.length}${conditions.map((c) => ` ${c}`).join('')}`);
  }
  return `${lines.join('\n')}\n`;
}

const swap32 = (k: number): number => byteSwap32(k) >>> 0;

/**
 * The filter libseccomp builds for `resolved` (without runc's stub).
 * @throws NativeUnavailable when the helper cannot run here; Error when it fails otherwise.
 */
export function libseccompProgram(resolved: ResolvedProfile): LibseccompFilter {
  const result = spawnSync(libseccompHelper(), [], {
    input: libseccompInput(resolved),
    maxBuffer: 64 << 20,
    timeout: HELPER_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  const stderr = result.stderr?.toString() ?? '';
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') return { refused: { hangs: true } };
  if (result.error) throw result.error;
  const refusal = /^rule (\d+) \S+: (-\d+)$/m.exec(stderr);
  if (refusal) return { refused: { rule: Number(refusal[1]), errno: Number(refusal[2]) } };
  if (result.status === 2 && stderr.includes('seccomp_init failed')) return { refused: { setup: 'default' } };
  if (result.status === 2 && stderr.includes('seccomp_arch_add failed')) return { refused: { setup: 'arches' } };
  if (result.status !== 0) throw new Error(`libseccomp helper exited with ${result.status ?? result.signal}: ${stderr.trim()}`);
  // libseccomp exports the filter in its arches' byte order (all the same, or it refused them).
  const order = byteOrderOf(resolved.arches[0]!.arch);
  const program = decodeRaw(new Uint8Array(result.stdout), order);
  if (order === 'le') return { program };
  // libseccomp 2.5.4 building a big-endian filter on a little-endian host writes some `ret` values in
  // the host's byte order (a cross-endian export bug a real big-endian host never meets): a `ret` whose
  // value is none of the profile's actions but whose byte swap is one gets swapped back.
  const actions = new Set([resolved.defaultAction, resolved.badArchAction, ...resolved.rules.map((r) => r.action)].map((v) => v >>> 0));
  return {
    program: program.map((insn) =>
      insn.code === (BPF_RET | BPF_K) && !actions.has(insn.k) && actions.has(swap32(insn.k)) ? { ...insn, k: swap32(insn.k) } : insn,
    ),
  };
}

/**
 * The arches (audit values) whose block in libseccomp's `program` never
 * loads the syscall number, so that its syscall checks compare the arch.
 * libseccomp 2.5.4 emits that load with the block of its top-priority
 * syscall (fewest tree nodes); when that one is a pseudo-syscall (a rule for
 * a name the arch lacks, kept in its database but given no code), the load
 * is lost. x86_64 alone and x32 alone load the number for their ABI check
 * anyway; x86_64 with x32, aarch64, arm and the like do not. cbpf does not
 * model this (test/profile/libseccomp.test.ts); checks expect it from here.
 */
export function archesWithoutSyscallLoad(program: readonly Instruction[]): Set<number> {
  const lost = new Set<number>();
  if (program[0]?.code !== (BPF_LD | BPF_W | BPF_ABS) || program[0].k !== 4) return lost;
  // The dispatch: per arch, `jeq #AUDIT_ARCH` into its block, else on to the next arch's check.
  for (let pc = 1; program[pc]?.code === (BPF_JMP | BPF_JEQ | BPF_K); ) {
    const check = program[pc]!;
    const first = program[pc + 1 + check.jt];
    if (first && first.code !== (BPF_RET | BPF_K) && !(first.code === (BPF_LD | BPF_W | BPF_ABS) && first.k === 0)) lost.add(check.k);
    pc += 1 + check.jf;
  }
  return lost;
}

const LD_ABS = BPF_LD | BPF_W | BPF_ABS;
const AND_K = BPF_ALU | BPF_AND | BPF_K;
const isConditional = (code: number): boolean => (code & 0x07) === BPF_JMP && (code & 0xf0) !== BPF_JA;

/**
 * The conditional jumps of libseccomp's `program` that some paths reach with
 * the accumulator loaded from one word and others from another. libseccomp
 * 2.5.4 tracks what the accumulator holds per block and reloads a word only
 * where a block is first placed; a block reached again from elsewhere (a
 * sibling node entered from a lower level's branch, holding the other half of
 * the argument) compares whatever that path left there. A correct filter has
 * one source per jump.
 */
export function ambiguousJumps(program: readonly Instruction[]): Set<number> {
  const sources: Set<string>[] = program.map(() => new Set());
  sources[0]!.add('');
  const ambiguous = new Set<number>();
  program.forEach((insn, pc) => {
    const here = sources[pc]!;
    if (here.size === 0) return;
    if (isConditional(insn.code) && here.size > 1) ambiguous.add(pc);
    const out = insn.code === LD_ABS ? new Set([`${insn.k}`]) : insn.code === AND_K ? new Set([...here].map((s) => `${s}&${insn.k}`)) : here;
    const flow = (to: number) => {
      for (const s of out) sources[to]?.add(s);
    };
    if (insn.code === (BPF_RET | BPF_K)) return;
    if (insn.code === (BPF_JMP | BPF_JA)) flow(pc + 1 + insn.k);
    else if (isConditional(insn.code)) {
      flow(pc + 1 + insn.jt);
      flow(pc + 1 + insn.jf);
    } else flow(pc + 1);
  });
  return ambiguous;
}

/** True when libseccomp's `program` (its instructions only: loads, `and`, jumps, `ret`) passes one of `pcs` deciding `data`. */
export function passesThrough(program: readonly Instruction[], data: SeccompData, pcs: ReadonlySet<number>): boolean {
  if (pcs.size === 0) return false;
  const order = data.arch & 0x40000000 ? 'le' : 'be';
  const bytes = encodeSeccompData(data, order);
  const view = new DataView(bytes.buffer);
  let a = 0;
  for (let pc = 0; pc < program.length; ) {
    if (pcs.has(pc)) return true;
    const { code, jt, jf, k } = program[pc]!;
    if (code === LD_ABS) a = view.getUint32(k, order === 'le');
    else if (code === AND_K) a = (a & k) >>> 0;
    else if (code === (BPF_RET | BPF_K)) return false;
    else if (code === (BPF_JMP | BPF_JA)) pc += k;
    else if (isConditional(code)) {
      const op = code & 0xf0;
      const holds = op === BPF_JEQ ? a === k : op === BPF_JGT ? a > k : op === BPF_JGE ? a >= k : op === BPF_JSET ? (a & k) !== 0 : undefined;
      if (holds === undefined) throw new Error(`libseccomp's filter has an unexpected jump 0x${code.toString(16)} at ${pc}`);
      pc += holds ? jt : jf;
    } else throw new Error(`libseccomp's filter has an unexpected instruction 0x${code.toString(16)} at ${pc}`);
    pc++;
  }
  return false;
}

/**
 * What the runtime's filter returns for `data`: runc's ENOSYS stub when the
 * filter has one and it decides, else `libseccomp(data)` (libseccomp's
 * filter run on the record, by the caller's interpreter).
 */
export function runtimeDecision(filter: ProfileFilter, data: SeccompData, libseccomp: (data: SeccompData) => number): number {
  const stubbed = filter.stub ? decideStub(filter.stub, data.arch >>> 0, data.nr) : undefined;
  return (stubbed ?? libseccomp(data)) >>> 0;
}
