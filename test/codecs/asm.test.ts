import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/codecs/asm.js';
import { jump, stmt } from '../../src/instruction.js';
import {
  BPF_A,
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_MEM,
  BPF_MISC,
  BPF_MSH,
  BPF_NEG,
  BPF_RET,
  BPF_ST,
  BPF_STX,
  BPF_TAX,
  BPF_TXA,
  BPF_W,
  BPF_X,
} from '../../src/opcodes.js';
import { archByName } from '../../src/seccomp/arches.js';

const s390x = archByName('s390x')!;

describe('assemble: the bpf_asm dialect', () => {
  it.each([
    ['ld [4]', stmt(BPF_LD | BPF_W | BPF_ABS, 4)],
    ['ldh [x + 2]', stmt(BPF_LD | BPF_H | BPF_IND, 2)],
    ['ldb [x]', stmt(BPF_LD | BPF_B | BPF_IND, 0)],
    ['ldi #5', stmt(BPF_LD | BPF_IMM, 5)],
    ['ld #0x10', stmt(BPF_LD | BPF_IMM, 16)],
    ['ld #len', stmt(BPF_LD | BPF_W | BPF_LEN, 0)],
    ['ld M[3]', stmt(BPF_LD | BPF_MEM, 3)],
    ['ldx #7', stmt(BPF_LDX | BPF_IMM, 7)],
    ['ldxi #7', stmt(BPF_LDX | BPF_IMM, 7)],
    ['ldx M[15]', stmt(BPF_LDX | BPF_MEM, 15)],
    ['ldxb 4*([14]&0xf)', stmt(BPF_LDX | BPF_B | BPF_MSH, 14)],
    ['st M[1]', stmt(BPF_ST, 1)],
    ['stx M[2]', stmt(BPF_STX, 2)],
    ['and #0xff', stmt(BPF_ALU | BPF_AND | BPF_K, 0xff)],
    ['and x', stmt(BPF_ALU | BPF_AND | BPF_X, 0)],
    ['AND %x', stmt(BPF_ALU | BPF_AND | BPF_X, 0)],
    ['neg', stmt(BPF_ALU | BPF_NEG, 0)],
    ['tax', stmt(BPF_MISC | BPF_TAX, 0)],
    ['txa', stmt(BPF_MISC | BPF_TXA, 0)],
    ['ret #0x7fff0000', stmt(BPF_RET | BPF_K, 0x7fff0000)],
    ['ret a', stmt(BPF_RET | BPF_A, 0)],
    ['ret 010', stmt(BPF_RET | BPF_K, 8)],
    ['.insn 0x62, 1, 2, 3', { code: 0x62, jt: 1, jf: 2, k: 3 }],
  ])('reads "%s"', (text, expected) => {
    expect(assemble(`${text}\nret #0`)[0]).toEqual(expected);
  });

  it('resolves labels and absolute pcs to forward offsets', () => {
    const program = assemble(`
      jeq #1, yes, 3   ; absolute pc 3
      ja yes
    yes: ret #1
      ret #2`);
    expect(program.slice(0, 2)).toEqual([jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 2), stmt(BPF_JMP | BPF_JA, 0)]);
  });

  it.each([
    ['jeq #5, t', jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 1, 0)],
    ['jne #5, t', jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 1)],
    ['jneq #5, t', jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 1)],
    ['jlt #5, t', jump(BPF_JMP | BPF_JGE | BPF_K, 5, 0, 1)],
    ['jle #5, t', jump(BPF_JMP | BPF_JGT | BPF_K, 5, 0, 1)],
    ['jne #5, t, f', jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 2, 1)],
    ['jset x, t, f', jump(BPF_JMP | BPF_JSET | BPF_X, 0, 1, 2)],
    ['jmp f', stmt(BPF_JMP | BPF_JA, 2)],
  ])('reads the jump form "%s"', (text, expected) => {
    expect(assemble(`${text}\nret #0\nt: ret #1\nf: ret #2`)[0]).toEqual(expected);
  });

  it('reads seccomp sugar: fields, actions, errno names and syscall names', () => {
    const program = assemble(`
      ld [arch]
      jeq #AUDIT_ARCH_X86_64, ok, bad
    ok:
      ld [nr]
      jeq #openat, deny
      ld [args[1].hi]
      ld [instruction_pointer.lo]
      ld [ip.hi]
      jeq #__NR_read, allow
      ret ERRNO(EACCES)
    deny:
      ret ERRNO(13)
    allow:
      ret ALLOW
    bad:
      ret #KILL_PROCESS
    `);
    expect(program.map((i) => i.k)).toEqual([4, 0xc000003e, 0, 257, 28, 8, 12, 0, 0x5000d, 0x5000d, 0x7fff0000, 0x80000000]);
  });

  it('names syscalls for the arch the path checked, else the default arch', () => {
    const text = `
      ld [arch]
      jeq #AUDIT_ARCH_I386, i386, other
    i386:
      ld [nr]
      jeq #openat, allow, kill
    other:
      ld [nr]
      jeq #openat, allow, kill
    allow: ret ALLOW
    kill: ret KILL_PROCESS`;
    expect([assemble(text)[3]!.k, assemble(text)[5]!.k]).toEqual([295, 257]);
    expect(assemble(text, { arch: archByName('aarch64')! })[5]!.k).toBe(56);
  });

  it('reads .lo and .hi in the byte order of the checked arch (s390x is big-endian)', () => {
    const checked = assemble('ld [arch]\njeq #AUDIT_ARCH_S390X, 2, 3\nld [args[0].lo]\nret #0');
    expect(checked[2]!.k).toBe(20);
    expect(assemble('ld [args[0].lo]\nret #0', { arch: s390x })[0]!.k).toBe(20);
    expect(assemble('ld [args[0].lo]\nret #0')[0]!.k).toBe(16);
  });

  it('accepts comments of both kinds and a pc before each line', () => {
    expect(assemble('/* a\n block */ 0: ld [0] ; A = nr\n 1: ret a')).toEqual([stmt(BPF_LD | BPF_W | BPF_ABS, 0), stmt(BPF_RET | BPF_A, 0)]);
  });

  it('writes a conditional jump of exactly 255 and refuses 256', () => {
    const body = (n: number): string => Array.from({ length: n }, () => 'ld #0').join('\n');
    expect(assemble(`jeq #0, far\n${body(255)}\nfar: ret #0`)[0]!.jt).toBe(255);
    expect(() => assemble(`jeq #0, far\n${body(256)}\nfar: ret #0`)).toThrow(expect.objectContaining({ code: 'jump-too-far', line: 1 }));
  });

  it.each([
    ['foo #1', 'unknown-mnemonic', 1, 1],
    ['ret #0\n  jeq #1, nowhere', 'undefined-label', 2, 11],
    ['x: ret #0\nx: ret #1', 'duplicate-label', 2, 1],
    ['l: ld #0\njeq #0, l', 'backward-jump', 2, 9],
    ['ret #0x100000000', 'out-of-range', 1, 6],
    ['ret ERRNO(65536)', 'out-of-range', 1, 11],
    ['jeq #nosuchcall, 1, 1\nret #0', 'unknown-name', 1, 6],
    ['ld [args[6].lo]', 'unknown-name', 1, 5],
    ['ld [args[1]]', 'syntax', 1, 5],
    ['ret x', 'syntax', 1, 5],
    ['tax 5', 'syntax', 1, 5],
    ['1: ret #0', 'pc-mismatch', 1, 1],
    ['; only a comment', 'empty-input', 0, 0],
  ])('rejects %j with %s at %i:%i', (text, code, line, column) => {
    expect(() => assemble(text)).toThrow(expect.objectContaining({ code, line, column }));
  });
});
