/**
 * The disassembler: a program as bpf_asm text that `assemble` reads back to
 * the same instructions, with comments that explain it for seccomp
 * (`ld [0]  ; A = nr`, `jeq #257, 5, 6  ; openat`, `ret #0x50001  ; ERRNO(1) EPERM`).
 */
import { analyzeContext, type PcContext } from './context.js';
import { type Instruction, isReturn, type Program } from './instruction.js';
import { formUsesJumpOffsets, formUsesK, spellingOf } from './mnemonics.js';
import { BPF_A, BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_RET, BPF_W } from './opcodes.js';
import { actionName, describeReturnValue, SECCOMP_RET_DATA } from './seccomp/actions.js';
import { type Arch, archByAuditArch, archByName, byteOrderOf, X32_SYSCALL_BIT } from './seccomp/arches.js';
import { SECCOMP_DATA_SIZE, wordName } from './seccomp/data.js';
import { errnoName } from './seccomp/errno.js';
import { abiOf, syscallName } from './seccomp/syscalls.js';

/** Options of `formatAsm`. */
export interface FormatAsmOptions {
  /**
   * `pcs` (the disassembler): each line starts with its pc and jumps name
   * absolute pcs. `labels`: jumps go to labels `L<pc>`, as bpf_asm writes them.
   */
  readonly style?: 'pcs' | 'labels';
  /** Arch for syscall names where the program has not checked one. Default x86_64. */
  readonly arch?: Arch;
  /** Add explaining comments (default true). */
  readonly comments?: boolean;
}

/** Constants: decimal below 0x10000 (offsets, syscall numbers), hex above (actions, arches, masks). */
export function formatConstant(k: number): string {
  return k < 0x10000 ? String(k) : `0x${k.toString(16)}`;
}

/** bpf_asm's negated conditions: `jne #k, L` is `jeq #k, next, L`. */
const NEGATIONS: Readonly<Record<string, string>> = { jeq: 'jne', jgt: 'jle', jge: 'jlt' };

/**
 * The instruction's text, without pc or comment; `target` spells a jump
 * destination. With `shortJumps`, a conditional jump that falls through on one
 * side names only the other (`jeq #k, L`, `jne #k, L`), as bpf_asm sources do.
 */
export function formatInstruction(insn: Instruction, pc: number, target: (pc: number) => string = String, shortJumps = false): string {
  const spelling = spellingOf(insn.code);
  const exact =
    spelling !== undefined && (formUsesJumpOffsets(spelling.operand) || (insn.jt === 0 && insn.jf === 0)) && (formUsesK(spelling.operand) || insn.k === 0);
  if (!exact) return `.insn 0x${insn.code.toString(16).padStart(2, '0')}, ${insn.jt}, ${insn.jf}, ${formatConstant(insn.k)}`;
  const { mnemonic, operand } = spelling;
  const k = formatConstant(insn.k);
  const conditional = (comparand: string): string => {
    const [whenTrue, whenFalse] = [pc + 1 + insn.jt, pc + 1 + insn.jf];
    const negated = NEGATIONS[mnemonic];
    if (shortJumps && insn.jf === 0) return `${mnemonic} ${comparand}, ${target(whenTrue)}`;
    if (shortJumps && insn.jt === 0 && negated) return `${negated} ${comparand}, ${target(whenFalse)}`;
    return `${mnemonic} ${comparand}, ${target(whenTrue)}, ${target(whenFalse)}`;
  };
  switch (operand) {
    case 'none':
      return mnemonic;
    case 'imm':
      return `${mnemonic} #${k}`;
    case 'x':
      return `${mnemonic} x`;
    case 'a':
      return `${mnemonic} a`;
    case 'abs':
      return `${mnemonic} [${k}]`;
    case 'ind':
      return `${mnemonic} [x + ${k}]`;
    case 'mem':
      return `${mnemonic} M[${k}]`;
    case 'len':
      return `${mnemonic} #len`;
    case 'msh':
      return `${mnemonic} 4*([${k}]&0xf)`;
    case 'target':
      return `${mnemonic} ${target(pc + 1 + insn.k)}`;
    case 'cond-imm':
      return conditional(`#${k}`);
    case 'cond-x':
      return conditional('x');
  }
}

const LD_W_ABS = BPF_LD | BPF_W | BPF_ABS;
const COMPARISONS: ReadonlyMap<number, string> = new Map([
  [BPF_JMP | BPF_JEQ | BPF_K, ''],
  [BPF_JMP | BPF_JGT | BPF_K, '> '],
  [BPF_JMP | BPF_JGE | BPF_K, '>= '],
]);

/** What the instruction means for seccomp, or '' when its text says it all. */
export function explain(insn: Instruction, context: PcContext, arch: Arch): string {
  if (!context.reachable) return 'unreachable';
  if (insn.code === LD_W_ABS) {
    if (insn.k >= SECCOMP_DATA_SIZE) return 'beyond seccomp_data';
    const name = wordName(insn.k, byteOrderOf(arch));
    return name ? `A = ${name}` : '';
  }
  if (insn.code === (BPF_LD | BPF_W | BPF_LEN) || insn.code === (BPF_LDX | BPF_W | BPF_LEN)) return `sizeof(seccomp_data) = ${SECCOMP_DATA_SIZE}`;
  if (insn.code === (BPF_RET | BPF_K)) {
    const errno = actionName(insn.k) === 'ERRNO' ? errnoName(insn.k & SECCOMP_RET_DATA) : undefined;
    return describeReturnValue(insn.k) + (errno ? ` ${errno}` : '');
  }
  if (isReturn(insn)) return insn.code === (BPF_RET | BPF_A) ? 'return A' : '';
  const comparison = COMPARISONS.get(insn.code);
  if (comparison === undefined) return '';
  if (context.a === 'arch' && comparison === '') return archByAuditArch(insn.k)?.constant ?? 'unknown arch';
  if (context.a !== 'nr') return '';
  if (comparison !== '' && arch.name === 'x86_64' && insn.k === X32_SYSCALL_BIT) return `${comparison}X32_SYSCALL_BIT`;
  if (comparison === '' && insn.k === 0xffffffff) return 'nr -1: a syscall a tracer skipped';
  const abi = abiOf(arch, insn.k);
  const name = syscallName(arch, insn.k);
  const prefix = abi === arch ? comparison : `${comparison}${abi.name} `;
  if (name) return `${prefix}${name}`;
  return comparison === '' ? `no ${abi.name} syscall has number ${insn.k | 0}` : '';
}

/** Formats a program as bpf_asm text that assembles back to the same instructions. */
export function formatAsm(program: Program, options: FormatAsmOptions = {}): string {
  const style = options.style ?? 'pcs';
  const defaultArch = options.arch ?? archByName('x86_64')!;
  const comments = options.comments ?? true;
  const contexts = analyzeContext(program);
  const labelled = new Set<number>();
  const target = (to: number): string => {
    if (style === 'pcs' || to >= program.length) return String(to);
    labelled.add(to);
    return `L${to}`;
  };
  const bodies = program.map((insn, pc) => formatInstruction(insn, pc, target, style === 'labels'));
  // A loop, not Math.max(...spread): a spread passes every line as an argument, past the stack's room at ~120,000.
  let width = 24;
  for (const body of bodies) width = Math.max(width, body.length);
  const pcWidth = String(program.length - 1).length;
  const lines: string[] = [];
  program.forEach((insn, pc) => {
    if (labelled.has(pc)) lines.push(`L${pc}:`);
    const context = contexts[pc]!;
    const comment = comments ? explain(insn, context, context.arch ?? defaultArch) : '';
    const prefix = style === 'pcs' ? `${String(pc).padStart(pcWidth)}: ` : '  ';
    lines.push((prefix + (comment ? `${bodies[pc]!.padEnd(width)}  ; ${comment}` : bodies[pc]!)).trimEnd());
  });
  return `${lines.join('\n')}\n`;
}
