import { describe, expect, it } from 'vitest';
import { assemble } from '../src/codecs/asm.js';
import { ebpfLength, MAX_INSNS_PER_PATH, VerifyError, verify, verifyStack } from '../src/verifier.js';

const prog = (text: string) => assemble(text);

describe('verify', () => {
  it('returns the same instructions, wrapped', () => {
    const program = prog('ld [0]\nret a');
    expect(verify(program).instructions).toBe(program);
  });

  it('rejects an empty program for its length', () => {
    expect(() => verify([])).toThrow(expect.objectContaining({ code: 'length', pc: undefined, errno: 'EINVAL' }));
  });

  it('answers EACCES without no_new_privs or CAP_SYS_ADMIN, after the length check and before any instruction check', () => {
    expect(() => verify(prog('ret #0'), { mayInstall: false })).toThrow(expect.objectContaining({ code: 'permission', errno: 'EACCES' }));
    expect(() => verify(prog('.insn 0x62, 0, 0, 0'), { mayInstall: false })).toThrow(expect.objectContaining({ code: 'permission' }));
    expect(() => verify([], { mayInstall: false })).toThrow(expect.objectContaining({ code: 'length' }));
  });

  it('writes diagnostics as "pc N: detail [ERRNO]"', () => {
    expect(() => verify(prog('ld #0\njeq #0, 2, 12\nret #0'))).toThrow('pc 1: jump target 12 is outside the program (length 3) [EINVAL]');
    expect(() => verify(prog('ld [2]\nret a'))).toThrow('pc 0: load at offset 2 is not an aligned word of seccomp_data (0, 4, ... 60) [EINVAL]');
    expect(() => verify(prog('ldh [0]\nret a'))).toThrow('pc 0: ldh [0] (opcode 0x28) is not allowed in seccomp filters [EINVAL]');
  });

  it.each([
    { what: 'a backward jump (jt < 0)', insn: { code: 0x15, jt: -4, jf: 0, k: 0 }, detail: 'pc 1: jt = -4 does not fit struct sock_filter (0..255) [EINVAL]' },
    { what: 'jf past a u8', insn: { code: 0x15, jt: 0, jf: 256, k: 0 }, detail: 'pc 1: jf = 256 does not fit struct sock_filter (0..255) [EINVAL]' },
    {
      what: 'k past a u32',
      insn: { code: 0x06, jt: 0, jf: 0, k: 2 ** 32 },
      detail: 'pc 1: k = 4294967296 does not fit struct sock_filter (0..4294967295) [EINVAL]',
    },
    { what: 'a fractional code', insn: { code: 6.5, jt: 0, jf: 0, k: 0 }, detail: 'pc 1: code = 6.5 does not fit struct sock_filter (0..65535) [EINVAL]' },
  ])('rejects $what in a program built in code, which no sock_filter can hold', ({ insn, detail }) => {
    const program = [...prog('ld [0]'), insn, ...prog('ret #0\nret #0')];
    expect(() => verify(program)).toThrow(detail);
    expect(() => verify(program)).toThrow(expect.objectContaining({ code: 'field-range', pc: 1 }));
  });

  it('throws VerifyError, a CbpfError with code, pc and errno', () => {
    try {
      verify(prog('ld M[3]\nret a'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(VerifyError);
      expect(error).toMatchObject({ code: 'uninitialized-scratch', pc: 0, errno: 'EINVAL' });
    }
  });
});

describe('ebpfLength and verifyStack', () => {
  it.each([
    ['ret #0', 3 + 2],
    ['ret a', 3 + 1],
    ['ld [0]\nret a', 3 + 1 + 1],
    ['div x\nret a', 3 + 5 + 1],
    ['div #2\nret a', 3 + 1 + 1],
    ['jeq #1, 1, 1\nret a', 3 + 1 + 1], // jf == 0
    ['jeq #1, 1, 2\nret a\nret a', 3 + 1 + 1 + 1], // jt == 0 and JEQ can be inverted
    ['jset #1, 1, 2\nret a\nret a', 3 + 2 + 1 + 1], // JSET cannot
    ['jgt #1, 2, 3\nret a\nret a\nret a', 3 + 2 + 3], // both taken
    ['jeq #0x80000000, 1, 1\nret a', 3 + 2 + 1], // a negative immediate needs a register
    ['jeq x, 2, 1\nret a\nret a', 3 + 1 + 2], // X operands need none
  ])('%j converts to %i eBPF instructions', (text, length) => {
    expect(ebpfLength(verify(prog(text)))).toBe(length);
  });

  it('accepts a stack that fills the budget exactly and refuses one more instruction', () => {
    const big = verify(prog(Array(4096).fill('ret #0').join('\n'))); // 3 + 8192
    const fill = (n: number) => verify(prog(Array(n).fill('ret #0').join('\n')));
    expect(3 * (ebpfLength(big) + 4) + ebpfLength(fill(4084))).toBe(MAX_INSNS_PER_PATH);
    expect(() => verifyStack([big, big, big, fill(4084)])).not.toThrow();
    expect(() => verifyStack([big, big, big, fill(4085)])).toThrow(expect.objectContaining({ code: 'stack-too-long', errno: 'ENOMEM' }));
  });
});
