/**
 * A static summary of a seccomp filter: what it checks, what it can return
 * and which syscalls the kernel lets skip it, read off the program without
 * running it.
 */
import { type ArchCache, kernelActionCache } from './action-cache.js';
import { analyzeContext } from './context.js';
import type { Program } from './instruction.js';
import { BPF_A, BPF_JEQ, BPF_JMP, BPF_K, BPF_RET } from './opcodes.js';
import { describeReturnValue } from './seccomp/actions.js';
import { type Arch, archByAuditArch } from './seccomp/arches.js';
import { abiOf, syscallName } from './seccomp/syscalls.js';
import { VerifyError, verify } from './verifier.js';

/** What `summarizeProgram` finds. */
export interface ProgramSummary {
  readonly instructions: number;
  /** Instructions some path from pc 0 reaches. */
  readonly reachable: number;
  /** Arch constants the filter compares `arch` with, in program order. */
  readonly arches: string[];
  /** Per ABI (x32 apart from x86_64), the syscalls the filter compares `nr` with for equality (others as `#n`, signed). */
  readonly syscalls: Record<string, string[]>;
  /** Every `ret #k` value, described, with how many instructions return it. */
  readonly returns: Record<string, number>;
  /** How many `ret a` instructions there are. */
  readonly returnsA: number;
  /**
   * The kernel's constant-action cache (action-cache.ts) on each arch the
   * filter checks that cbpf knows (else `defaultArch`); absent when the
   * kernel would reject the filter.
   */
  readonly kernelCache?: ArchCache[];
}

/** Summarizes `program`; `defaultArch` names syscalls where no arch was checked. */
export function summarizeProgram(program: Program, defaultArch: Arch): ProgramSummary {
  const contexts = analyzeContext(program);
  const arches = new Set<string>();
  const checkedArches = new Set<Arch>();
  const syscalls: Record<string, Set<string>> = {};
  const returns: Record<string, number> = {};
  let returnsA = 0;
  program.forEach((insn, pc) => {
    const context = contexts[pc]!;
    if (!context.reachable) return;
    if (insn.code === (BPF_RET | BPF_K)) {
      const described = describeReturnValue(insn.k);
      returns[described] = (returns[described] ?? 0) + 1;
    } else if (insn.code === (BPF_RET | BPF_A)) {
      returnsA++;
    } else if (insn.code === (BPF_JMP | BPF_JEQ | BPF_K) && context.a === 'arch') {
      const arch = archByAuditArch(insn.k);
      arches.add(arch?.constant ?? `0x${insn.k.toString(16)}`);
      if (arch) checkedArches.add(arch);
    } else if (insn.code === (BPF_JMP | BPF_JEQ | BPF_K) && context.a === 'nr') {
      const arch = context.arch ?? defaultArch;
      const abi = abiOf(arch, insn.k).name;
      syscalls[abi] ??= new Set();
      syscalls[abi].add(syscallName(arch, insn.k) ?? `#${insn.k | 0}`);
    }
  });
  return {
    instructions: program.length,
    reachable: contexts.filter((c) => c.reachable).length,
    arches: [...arches],
    syscalls: Object.fromEntries(Object.entries(syscalls).map(([arch, names]) => [arch, [...names].sort()])),
    returns,
    returnsA,
    ...kernelCache(program, checkedArches.size > 0 ? [...checkedArches] : [defaultArch]),
  };
}

/** The kernelCache entry of a summary: none for a filter the kernel would reject. */
function kernelCache(program: Program, arches: readonly Arch[]): Pick<ProgramSummary, 'kernelCache'> {
  try {
    const verified = verify(program);
    return { kernelCache: arches.map((arch) => kernelActionCache(verified, arch)) };
  } catch (error) {
    if (error instanceof VerifyError) return {};
    throw error;
  }
}
