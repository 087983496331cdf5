/**
 * What a seccomp filter has established at each pc, found by one forward pass
 * (cBPF jumps only forward, so every predecessor of a pc comes before it):
 * whether A holds `nr` or `arch`, and which arch the path to it has checked.
 * The disassembler uses it to name syscalls and the assembler to resolve them.
 */

import { isConditionalJump, isReturn, type Program, successors } from './instruction.js';
import { BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_MISC, BPF_ST, BPF_STX, BPF_TAX, BPF_W, bpfClass } from './opcodes.js';
import { type Arch, archByAuditArch } from './seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR } from './seccomp/data.js';

/** What A is known to hold. */
export type Accumulator = 'nr' | 'arch' | 'other';

/** What is known on every path to one pc. */
export interface PcContext {
  /** False when no path from pc 0 reaches this pc. */
  readonly reachable: boolean;
  readonly a: Accumulator;
  /** The arch every path to this pc has matched with `jeq #AUDIT_ARCH_...`, if any. */
  readonly arch: Arch | undefined;
}

const UNREACHABLE: PcContext = { reachable: false, a: 'other', arch: undefined };
const LD_W_ABS = BPF_LD | BPF_W | BPF_ABS;
const JEQ_K = BPF_JMP | BPF_JEQ | BPF_K;
/** Instructions that leave A alone: LDX, stores, jumps and TAX (returns end the path anyway). */
const keepsA = (code: number): boolean => [BPF_LDX, BPF_ST, BPF_STX, BPF_JMP].includes(bpfClass(code)) || code === (BPF_MISC | BPF_TAX);

function join(a: PcContext, b: PcContext): PcContext {
  if (!a.reachable) return b;
  if (!b.reachable) return a;
  return { reachable: true, a: a.a === b.a ? a.a : 'other', arch: a.arch === b.arch ? a.arch : undefined };
}

/** The context at every pc of `program` (targets past its end are ignored). */
export function analyzeContext(program: Program): PcContext[] {
  const contexts: PcContext[] = program.map(() => UNREACHABLE);
  if (contexts.length > 0) contexts[0] = { reachable: true, a: 'other', arch: undefined };
  program.forEach((insn, pc) => {
    const here = contexts[pc]!;
    if (!here.reachable || isReturn(insn)) return;
    let after = here;
    if (insn.code === LD_W_ABS) {
      after = { ...here, a: insn.k === SECCOMP_DATA_NR ? 'nr' : insn.k === SECCOMP_DATA_ARCH ? 'arch' : 'other' };
    } else if (!keepsA(insn.code)) {
      after = { ...here, a: 'other' };
    }
    const next = successors(insn, pc);
    next.forEach((target, i) => {
      if (target >= contexts.length) return;
      let edge = after;
      const matchesArch = isConditionalJump(insn) && i === 0 && insn.code === JEQ_K && here.a === 'arch';
      if (matchesArch) edge = { ...after, arch: archByAuditArch(insn.k) ?? after.arch };
      contexts[target] = join(contexts[target]!, edge);
    });
  });
  return contexts;
}
