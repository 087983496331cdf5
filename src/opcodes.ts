/**
 * Classic BPF opcode constants, named as in the kernel's `linux/filter.h` and
 * `linux/bpf_common.h`. An opcode (`code`, a u16 of which only the low byte is
 * meaningful) is the OR of a class, and then either size + mode (loads and
 * stores) or op + source (ALU and jumps).
 */

// Instruction classes: bits 0-2.
/** Load into A. */
export const BPF_LD = 0x00;
/** Load into X. */
export const BPF_LDX = 0x01;
/** Store A into M[k]. */
export const BPF_ST = 0x02;
/** Store X into M[k]. */
export const BPF_STX = 0x03;
/** Arithmetic on A. */
export const BPF_ALU = 0x04;
/** Jumps (forward only). */
export const BPF_JMP = 0x05;
/** Return a value. */
export const BPF_RET = 0x06;
/** TAX / TXA. */
export const BPF_MISC = 0x07;

// Load sizes: bits 3-4.
/** 32-bit word. */
export const BPF_W = 0x00;
/** 16-bit half word. */
export const BPF_H = 0x08;
/** Byte. */
export const BPF_B = 0x10;

// Load modes: bits 5-7.
/** Immediate: k. */
export const BPF_IMM = 0x00;
/** Absolute: data[k]. */
export const BPF_ABS = 0x20;
/** Indirect: data[X + k]. */
export const BPF_IND = 0x40;
/** Scratch memory: M[k]. */
export const BPF_MEM = 0x60;
/** Length of the input (64 for seccomp). */
export const BPF_LEN = 0x80;
/** `4 * (data[k] & 0xf)`, the IP header length idiom; LDX B only. */
export const BPF_MSH = 0xa0;

// ALU and jump operations: bits 4-7.
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;

export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

// Operand source: bit 3.
/** The operand is the constant k. */
export const BPF_K = 0x00;
/** The operand is the X register. */
export const BPF_X = 0x08;

// Return value source: bits 3-4.
/** RET returns A (RET K uses BPF_K). */
export const BPF_A = 0x10;

// MISC operations: bits 3-7.
/** X = A. */
export const BPF_TAX = 0x00;
/** A = X. */
export const BPF_TXA = 0x80;

/** Longest program the kernel accepts (`BPF_MAXINSNS`). */
export const BPF_MAXINSNS = 4096;
/** Number of 32-bit scratch words M[0..15] (`BPF_MEMWORDS`). */
export const BPF_MEMWORDS = 16;

/** The class bits of an opcode. */
export const bpfClass = (code: number): number => code & 0x07;
/** The size bits of a load or store opcode. */
export const bpfSize = (code: number): number => code & 0x18;
/** The mode bits of a load or store opcode. */
export const bpfMode = (code: number): number => code & 0xe0;
/** The operation bits of an ALU or jump opcode. */
export const bpfOp = (code: number): number => code & 0xf0;
/** The source bit of an ALU or jump opcode. */
export const bpfSrc = (code: number): number => code & 0x08;
/** The return-value source bits of a RET opcode. */
export const bpfRval = (code: number): number => code & 0x18;
/** The operation bits of a MISC opcode. */
export const bpfMiscOp = (code: number): number => code & 0xf8;

/** Whether a BPF_JMP condition holds (both operands known). */
export function jumpTaken(op: number, left: number, right: number): boolean {
  switch (op) {
    case BPF_JEQ:
      return left === right;
    case BPF_JGT:
      return left > right;
    case BPF_JGE:
      return left >= right;
    case BPF_JSET:
      return (left & right) !== 0;
    default:
      throw new Error(`unreachable: jump op 0x${op.toString(16)} passed verify()`);
  }
}
