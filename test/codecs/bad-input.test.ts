import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/codecs/asm.js';
import { parseC } from '../../src/codecs/c.js';
import { detectFormat } from '../../src/codecs/formats.js';
import { parseJson } from '../../src/codecs/json.js';
import { jsonSyntaxError } from '../../src/codecs/json-syntax.js';
import { encodeRaw } from '../../src/codecs/raw.js';
import { excerpt, quoted } from '../../src/codecs/text.js';
import { formatAsm } from '../../src/disasm.js';
import { stmt } from '../../src/instruction.js';
import { BPF_K, BPF_RET } from '../../src/opcodes.js';
import { runCli } from '../helpers.js';

const TEN_MB = 10_000_000;

/** The one line `cbpf` printed for a bad input, checked to be one line and short. */
function oneLine(stderr: string): string {
  expect(stderr.endsWith('\n')).toBe(true);
  const line = stderr.slice(0, -1);
  expect(line).not.toMatch(/[\n\r\u2028\u2029]/);
  expect(line.length).toBeLessThan(300);
  return line;
}

describe('bad program input gives one short line on stderr and exit 1', () => {
  it.each([
    {
      what: 'a file whose text starts with no format (raw line breaks were quoted)',
      argv: ['disasm', 'n.ddd'],
      file: '-1\n6 0 0 0\n',
      error:
        'cbpf: n.ddd: not a known cBPF format (raw sock_filter bytes, C array, tcpdump -ddd, bpf_asm, JSON or a seccomp profile): starts with "-1\\n6 0 0 0"',
    },
    {
      what: 'a JSON array with a trailing comma (V8 quoted the input across lines, with no position)',
      argv: ['disasm', 'b.json'],
      file: '[{"code":6,"jt":0,"jf":0,"k":1},]',
      error: 'cbpf: b.json:1:33: not valid JSON: a value must follow ",", not "]"',
    },
    {
      what: 'the same in CRLF lines',
      argv: ['disasm', 'b.json'],
      file: '[\r\n{"code":6,"jt":0,"jf":0,"k":1},\r\n]\r\n',
      error: 'cbpf: b.json:3:1: not valid JSON: a value must follow ",", not "]"',
    },
    { what: 'JSON cut short', argv: ['disasm', 'b.json'], file: '[{"code":6,"jt":0,', error: 'cbpf: b.json:1:19: not valid JSON: unexpected end of input' },
    // Found by `cbpf fuzz --target inputs` (seed 161220968, case 59082): the assembler read the missing target and threw a TypeError.
    { what: 'a ja with no target', argv: ['disasm', 'f.s'], file: 'ld [0]\nja ; unreachable\nret #0\n', error: 'cbpf: f.s:2:1: "ja" takes 1 operand, found 0' },
    {
      what: 'a C shift past 32 bits (it disassembled as ret #0)',
      argv: ['disasm', 'f.c'],
      file: 'BPF_STMT(BPF_RET|BPF_K, 1 << 40),',
      error: 'cbpf: f.c:1:27: 1 << 40: a 32-bit value shifts by 0..31',
    },
    {
      what: 'C parentheses 900 deep (the call stack overflowed)',
      argv: ['disasm', 'f.c'],
      file: `BPF_STMT(BPF_RET|BPF_K, ${'('.repeat(900)}1${')'.repeat(900)}),`,
      error: 'cbpf: f.c:1:281: parentheses nested more than 256 deep',
    },
    {
      what: 'a 10 MB number in asm, quoted short',
      argv: ['disasm', 'f.s'],
      file: `ret #${'9'.repeat(TEN_MB)}`,
      error: `cbpf: f.s:1:6: constant ${'9'.repeat(40)}… does not fit (0..4294967295)`,
    },
    {
      what: 'a 10 MB name in asm, quoted short',
      argv: ['disasm', 'f.s'],
      file: `ret ${'x'.repeat(TEN_MB)}`,
      error: `cbpf: f.s:1:5: unknown name "${'x'.repeat(40)}…" (not a constant, nor a x86_64 syscall)`,
    },
    {
      what: 'a 10 MB word that is no format, quoted short',
      argv: ['disasm', 'f.s'],
      file: 'y'.repeat(TEN_MB),
      error: `cbpf: f.s: not a known cBPF format (raw sock_filter bytes, C array, tcpdump -ddd, bpf_asm, JSON or a seccomp profile): starts with "${'y'.repeat(40)}…"`,
    },
    {
      what: 'a 10 MB number in C, quoted short',
      argv: ['disasm', 'f.c'],
      file: `BPF_STMT(BPF_RET|BPF_K, ${'9'.repeat(TEN_MB)}),`,
      error: `cbpf: f.c:1:25: number ${'9'.repeat(40)}… does not fit in 32 bits`,
    },
    {
      what: 'a 10 MB number in -ddd, quoted short',
      argv: ['disasm', 'f.ddd'],
      file: `1\n6 0 0 ${'9'.repeat(TEN_MB)}\n`,
      error: `cbpf: f.ddd:2:7: k ${'9'.repeat(40)}… does not fit (0..4294967295)`,
    },
    {
      what: 'a 10 MB JSON key, quoted short',
      argv: ['disasm', 'f.json'],
      file: `[{"code":6,"jt":0,"jf":0,"k":1,"${'y'.repeat(TEN_MB)}":1}]`,
      error: `cbpf: f.json:1:2: instruction 0: unknown field "${'y'.repeat(40)}…"`,
    },
    {
      what: 'a 10 MB bad JSON token, quoted short',
      argv: ['disasm', 'f.json'],
      file: `[${'z'.repeat(TEN_MB)}]`,
      error: `cbpf: f.json:1:2: not valid JSON: expected a value, found "${'z'.repeat(40)}…"`,
    },
    {
      what: 'JSON nested 100,000 deep',
      argv: ['disasm', 'f.json'],
      file: `[${'['.repeat(100_000)}${']'.repeat(100_000)}]`,
      error: 'cbpf: f.json:1:2: instruction 0: expected an object {"code","jt","jf","k"}',
    },
    {
      what: 'JSON nested 100,000 deep and cut short',
      argv: ['disasm', 'f.json'],
      file: '['.repeat(100_000),
      error: 'cbpf: f.json:1:100001: not valid JSON: unexpected end of input',
    },
    {
      what: 'a word that is an Object property, not a mnemonic',
      argv: ['disasm', 'f.s'],
      file: 'constructor #1\n',
      error:
        'cbpf: f.s: not a known cBPF format (raw sock_filter bytes, C array, tcpdump -ddd, bpf_asm, JSON or a seccomp profile): starts with "constructor #1"',
    },
    {
      what: 'a comment in asm that a lone \\r would have ended',
      argv: ['disasm', 'f.s'],
      file: 'ld [nr] ; A = nr\rret #1\r',
      error: 'cbpf: f.s:1:17: a carriage return (\\r) inside a comment would hide the text after it (lines end with \\n or \\r\\n)',
    },
  ])('$what', async ({ argv, file, error }) => {
    const run = await runCli(argv, { files: { [argv[1]!]: file } });
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toBe(error);
  });

  it('assembles a file with CRLF lines and comments as the same file with LF (every CRLF line was dropped)', async () => {
    const lf = 'ld [nr]            ; A = nr\njeq #openat, deny\nret ALLOW          ; the rest\ndeny: ret ERRNO(EACCES)\n';
    const runs = await Promise.all([lf, lf.replace(/\n/g, '\r\n')].map((text) => runCli(['asm', 'win.s', '-o', 'win.bpf'], { files: { 'win.s': text } })));
    for (const run of runs) expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(runs[1]!.files.get('win.bpf')).toEqual(runs[0]!.files.get('win.bpf'));
    expect(runs[0]!.files.get('win.bpf')).toEqual(encodeRaw(assemble('ld [nr]\njeq #openat, deny\nret ALLOW\ndeny: ret ERRNO(EACCES)')));
    expect(runs[0]!.files.get('win.bpf')).toHaveLength(4 * 8);
  });

  it('disassembles 200,000 instructions (Math.max over a spread of every line overflowed the stack)', async () => {
    const program = Array.from({ length: 200_000 }, (_, i) => stmt(BPF_RET | BPF_K, i));
    const text = formatAsm(program);
    expect(text.split('\n')).toHaveLength(200_001);
    const run = await runCli(['disasm', 'big.bpf'], { files: { 'big.bpf': encodeRaw(program) } });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout.split('\n')).toHaveLength(200_001);
  });
});

describe('the C reader: unsigned 32-bit arithmetic that never wraps', () => {
  const k = (expression: string): number => parseC(`BPF_STMT(BPF_RET|BPF_K, ${expression})`)[0]!.k;
  const AT = 'BPF_STMT(BPF_RET|BPF_K, '.length + 1; // the expression's column

  it.each([
    { what: 'the top bit', expression: '1 << 31', value: 0x80000000 },
    { what: 'the largest literal', expression: '0xffffffff', value: 0xffffffff },
    { what: 'the complement, in 32 bits', expression: '~0', value: 0xffffffff },
    { what: 'the complement of all ones', expression: '~0xffffffff', value: 0 },
    { what: 'a right shift by 31', expression: '0xffffffff >> 31', value: 1 },
    { what: 'a product that just fits', expression: '65535 * 65537', value: 0xffffffff },
    { what: 'a sum that just fits', expression: '0xfffffffe + 1', value: 0xffffffff },
    { what: 'a difference of zero', expression: '5 - 5', value: 0 },
    { what: 'minus zero', expression: '-0', value: 0 },
    { what: 'a unary plus', expression: '+7', value: 7 },
    { what: 'suffixes', expression: '0x10UL + 1u', value: 17 },
    {
      what: 'precedence: * before +, + before <<, << before &, & before ^, ^ before |',
      expression: '1 | 2 ^ 3 & 1 << 1 + 2 * 1',
      value: 1 | (2 ^ (3 & (1 << (1 + 2 * 1)))),
    },
    { what: 'an action with errno data', expression: 'SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)', value: 0x50001 },
    { what: 'a syscall number, plus one', expression: '__NR_write + 1', value: 2 },
    { what: '10,000 unary minus signs on zero (they overflowed the stack)', expression: `${'-'.repeat(10_000)}0`, value: 0 },
    { what: '10,000 complements', expression: `${'~'.repeat(10_000)}5`, value: 5 },
    { what: 'a sum of 100,000 terms', expression: `${'1 + '.repeat(99_999)}1`, value: 100_000 },
    { what: 'parentheses 256 deep', expression: `${'('.repeat(256)}3${')'.repeat(256)}`, value: 3 },
  ])('reads $what', ({ expression, value }) => {
    expect(k(expression)).toBe(value);
  });

  it.each([
    { what: 'a shift by 40 (it gave 0)', expression: '1 << 40', column: AT + 2, detail: '1 << 40: a 32-bit value shifts by 0..31' },
    { what: 'a shift by 32', expression: '1 << 32', column: AT + 2, detail: '1 << 32: a 32-bit value shifts by 0..31' },
    { what: 'a right shift by 32', expression: '8 >> 32', column: AT + 2, detail: '8 >> 32: a 32-bit value shifts by 0..31' },
    { what: 'bits shifted out', expression: '3 << 31', column: AT + 2, detail: '3 << 31 = 0x180000000 does not fit in 32 bits' },
    { what: 'a carry out of +', expression: '0xffffffff + 1', column: AT + 11, detail: '0xffffffff + 1 = 0x100000000 does not fit in 32 bits' },
    { what: 'a carry out of *', expression: '65536 * 65536', column: AT + 6, detail: '0x10000 * 0x10000 = 0x100000000 does not fit in 32 bits' },
    { what: 'a negative difference', expression: '1 - 2', column: AT + 2, detail: '1 - 2 is negative: values are unsigned 32-bit and never wrap' },
    {
      what: 'a negative difference made good later',
      expression: '0 - 1 + 1',
      column: AT + 2,
      detail: '0 - 1 is negative: values are unsigned 32-bit and never wrap',
    },
    { what: 'a unary minus', expression: '-1', column: AT, detail: '-1 is negative: values are unsigned 32-bit and never wrap' },
    { what: 'a double minus (the inner one first)', expression: '- -1', column: AT + 2, detail: '-1 is negative: values are unsigned 32-bit and never wrap' },
    { what: 'a complement plus one', expression: '~0 + 1', column: AT + 3, detail: '0xffffffff + 1 = 0x100000000 does not fit in 32 bits' },
    { what: 'a literal past 32 bits', expression: '0x100000000', column: AT, detail: 'number 0x100000000 does not fit in 32 bits' },
    {
      what: 'a syscall number made negative',
      expression: '__NR_read - 1',
      column: AT + 10,
      detail: '0 - 1 is negative: values are unsigned 32-bit and never wrap',
    },
    { what: 'parentheses 257 deep', expression: `${'('.repeat(257)}3${')'.repeat(257)}`, column: AT + 256, detail: 'parentheses nested more than 256 deep' },
    { what: 'parentheses 900 deep', expression: `${'('.repeat(900)}3${')'.repeat(900)}`, column: AT + 256, detail: 'parentheses nested more than 256 deep' },
  ])('refuses $what at its operator', ({ expression, column, detail }) => {
    expect(() => k(expression)).toThrow(expect.objectContaining({ line: 1, column, detail }));
  });

  it('checks the fields of each form: a jt that is a u32 but not a u8', () => {
    expect(() => parseC('BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, 0, 1 << 8, 0)')).toThrow(
      expect.objectContaining({ code: 'out-of-range', column: 36, detail: 'jt 256 does not fit (0..255)' }),
    );
  });
});

describe('JSON syntax errors: where and why', () => {
  it.each([
    { what: 'a trailing comma in an array', text: '[1,]', offset: 3, reason: 'a value must follow ",", not "]"' },
    { what: 'a trailing comma in an object', text: '{"a":1,}', offset: 7, reason: 'a property must follow ",", not "}"' },
    { what: 'a missing colon', text: '{"a" 1}', offset: 5, reason: 'expected ":" after a property name, found "1"' },
    { what: 'an unquoted key', text: '{a:1}', offset: 1, reason: 'expected a property name in double quotes, found "a"' },
    { what: 'text after the value', text: '[1] x', offset: 4, reason: 'unexpected "x" after the JSON value' },
    { what: 'an unterminated string', text: '["abc', offset: 1, reason: 'unterminated string' },
    { what: 'a raw line break in a string', text: '["a\nb"]', offset: 3, reason: 'control character U+000A in a string (write it escaped)' },
    { what: 'a bad escape', text: '["\\q"]', offset: 3, reason: 'bad escape in a string: "q" after "\\"' },
    { what: 'a short \\u escape', text: '["\\u12"]', offset: 2, reason: 'bad \\u escape in a string: it takes 4 hex digits' },
    { what: 'a leading zero', text: '[01]', offset: 2, reason: 'a number has no leading zeros' },
    { what: 'an exponent without digits', text: '[1e]', offset: 3, reason: 'expected a digit in the exponent, found "]"' },
    { what: 'a misspelt literal', text: '[tru]', offset: 1, reason: 'expected a value, found "tru"' },
    { what: 'a missing comma', text: '[1 2]', offset: 3, reason: 'expected "," or "]", found "2"' },
    { what: 'nothing', text: '  ', offset: 2, reason: 'unexpected end of input' },
    { what: 'U+2028 outside a string', text: '[\u2028]', offset: 1, reason: 'expected a value, found "\\u2028"' },
    { what: 'a mismatched bracket', text: '[1}', offset: 2, reason: 'expected "," or "]", found "}"' },
  ])('$what', ({ text, offset, reason }) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonSyntaxError(text)).toEqual({ offset, reason });
  });

  it('finds none in valid JSON, however deep', () => {
    for (const text of ['[]', '{}', ' {"a":[1,-2.5e+3,"x\\u0041\\n",true,false,null,{}]} ', `${'['.repeat(100_000)}${']'.repeat(100_000)}`]) {
      expect(jsonSyntaxError(text)).toBeUndefined();
    }
  });

  it('gives parseJson a line and column', () => {
    expect(() => parseJson('[\n  {"code":6,"jt":0,"jf":0,"k":1} {"code":6}\n]')).toThrow(expect.objectContaining({ code: 'syntax', line: 2, column: 34 }));
  });
});

describe('how input is quoted in messages', () => {
  it.each([
    { what: 'short text, as it is', text: 'abc', quoted: '"abc"' },
    { what: 'line breaks, tabs, quotes and backslashes, escaped', text: 'a\n\r\t"\\', quoted: '"a\\n\\r\\t\\"\\\\"' },
    { what: 'U+2028, U+2029, NEL and DEL, escaped', text: '\u2028\u2029\u0085\u007f', quoted: '"\\u2028\\u2029\\u0085\\u007f"' },
    { what: 'long text, cut at 40 with …', text: 'x'.repeat(41), quoted: `"${'x'.repeat(40)}…"` },
    { what: 'a surrogate pair that fits, whole', text: `${'x'.repeat(38)}😀`, quoted: `"${'x'.repeat(38)}😀"` },
    { what: 'a surrogate pair across the limit, not half of it', text: `${'x'.repeat(39)}😀`, quoted: `"${'x'.repeat(39)}…"` },
  ])('$what', ({ text, quoted: expected }) => {
    expect(quoted(text)).toBe(expected);
    expect(excerpt(text)).toBe(expected.slice(1, -1));
  });

  it('detectFormat quotes at most 40 characters', () => {
    expect(() => detectFormat(new TextEncoder().encode(`-${'1'.repeat(100)}\n`))).toThrow(`starts with "-${'1'.repeat(39)}…"`);
  });
});
