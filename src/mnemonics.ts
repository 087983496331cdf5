/**
 * The bpf_asm spelling of every opcode the kernel's classic BPF checker knows
 * (`chk_code_allowed` in net/core/filter.c). The assembler reads these and the
 * disassembler writes them; any other `code` is written as a raw `.insn`.
 */

/** How an instruction's operands are written. */
export type OperandForm =
  | 'none' // tax, txa, neg: no operand
  | 'imm' // #k
  | 'x' // x
  | 'a' // ret a
  | 'abs' // [k]
  | 'ind' // [x + k]
  | 'mem' // M[k]
  | 'len' // #len
  | 'msh' // 4*([k]&0xf)
  | 'target' // ja: one jump target
  | 'cond-imm' // #k, true target, false target
  | 'cond-x'; // x, true target, false target

/** One opcode as bpf_asm writes it. */
export interface Spelling {
  readonly code: number;
  readonly mnemonic: string;
  readonly operand: OperandForm;
}

const alu = (mnemonic: string, op: number): Spelling[] => [
  { code: 0x04 | op, mnemonic, operand: 'imm' },
  { code: 0x0c | op, mnemonic, operand: 'x' },
];
const cond = (mnemonic: string, op: number): Spelling[] => [
  { code: 0x05 | op, mnemonic, operand: 'cond-imm' },
  { code: 0x0d | op, mnemonic, operand: 'cond-x' },
];

/** The classic opcodes, in the order of the kernel's table. */
export const SPELLINGS: readonly Spelling[] = [
  ...alu('add', 0x00),
  ...alu('sub', 0x10),
  ...alu('mul', 0x20),
  ...alu('div', 0x30),
  ...alu('mod', 0x90),
  ...alu('and', 0x50),
  ...alu('or', 0x40),
  ...alu('xor', 0xa0),
  ...alu('lsh', 0x60),
  ...alu('rsh', 0x70),
  { code: 0x84, mnemonic: 'neg', operand: 'none' },
  { code: 0x20, mnemonic: 'ld', operand: 'abs' },
  { code: 0x28, mnemonic: 'ldh', operand: 'abs' },
  { code: 0x30, mnemonic: 'ldb', operand: 'abs' },
  { code: 0x80, mnemonic: 'ld', operand: 'len' },
  { code: 0x40, mnemonic: 'ld', operand: 'ind' },
  { code: 0x48, mnemonic: 'ldh', operand: 'ind' },
  { code: 0x50, mnemonic: 'ldb', operand: 'ind' },
  { code: 0x00, mnemonic: 'ld', operand: 'imm' },
  { code: 0x60, mnemonic: 'ld', operand: 'mem' },
  { code: 0x81, mnemonic: 'ldx', operand: 'len' },
  { code: 0xb1, mnemonic: 'ldxb', operand: 'msh' },
  { code: 0x01, mnemonic: 'ldx', operand: 'imm' },
  { code: 0x61, mnemonic: 'ldx', operand: 'mem' },
  { code: 0x02, mnemonic: 'st', operand: 'mem' },
  { code: 0x03, mnemonic: 'stx', operand: 'mem' },
  { code: 0x07, mnemonic: 'tax', operand: 'none' },
  { code: 0x87, mnemonic: 'txa', operand: 'none' },
  { code: 0x06, mnemonic: 'ret', operand: 'imm' },
  { code: 0x16, mnemonic: 'ret', operand: 'a' },
  { code: 0x05, mnemonic: 'ja', operand: 'target' },
  ...cond('jeq', 0x10),
  ...cond('jgt', 0x20),
  ...cond('jge', 0x30),
  ...cond('jset', 0x40),
];

const byCode = new Map(SPELLINGS.map((s) => [s.code, s]));
const byMnemonicAndForm = new Map(SPELLINGS.map((s) => [`${s.mnemonic} ${s.operand}`, s]));

/** How bpf_asm writes `code`, or undefined for a code the kernel does not know. */
export function spellingOf(code: number): Spelling | undefined {
  return byCode.get(code);
}

/** The opcode spelt `mnemonic` with operands of `form`, or undefined. */
export function opcodeFor(mnemonic: string, form: OperandForm): number | undefined {
  return byMnemonicAndForm.get(`${mnemonic} ${form}`)?.code;
}

/** Every mnemonic the assembler reads without an alias. */
export const MNEMONICS: ReadonlySet<string> = new Set(SPELLINGS.map((s) => s.mnemonic));

/** True when instructions written in `form` carry `k` in their text. */
export function formUsesK(form: OperandForm): boolean {
  return form === 'imm' || form === 'abs' || form === 'ind' || form === 'mem' || form === 'msh' || form === 'target' || form === 'cond-imm';
}

/** True when instructions written in `form` carry jt and jf in their text. */
export function formUsesJumpOffsets(form: OperandForm): boolean {
  return form === 'cond-imm' || form === 'cond-x';
}
