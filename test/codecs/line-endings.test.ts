import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { detectRecordFormat, recordBatches } from '../../eval/record-stream.js';
import { assemble } from '../../src/codecs/asm.js';
import type { Format, InputFormat } from '../../src/codecs/format-names.js';
import { detectFormat, readProgram, writeProgram } from '../../src/codecs/formats.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { formatAsm } from '../../src/disasm.js';
import { ParseError } from '../../src/errors.js';
import type { Instruction } from '../../src/instruction.js';
import { archByName } from '../../src/seccomp/arches.js';
import { parseRecordLines } from '../../src/seccomp/record-json.js';
import { decodeSeccompData, RecordBatchBuilder, recordByteOrder, type SeccompData } from '../../src/seccomp/records.js';
import { StraceReader } from '../../src/seccomp/strace.js';

const TEXT_FORMATS = ['c', 'ddd', 'asm', 'json'] as const;
const x86_64 = archByName('x86_64')!;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const crlf = (text: string): string => text.replace(/\n/g, '\r\n');

/** The program `text` gives in `format`, and the format detected from it. */
function read(text: string, format: Format): { program: Instruction[]; detected: InputFormat } {
  return { program: readProgram(bytes(text), format).program, detected: detectFormat(bytes(text)) };
}

/** What a call gives, or the code, line and column of the ParseError it throws. */
function outcome<T>(run: () => T): T | { code: string; line: number; column: number } {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    return { code: error.code, line: error.line, column: error.column };
  }
}

describe('CRLF ends a line exactly as LF does, in every text format', () => {
  describe.each(SAMPLE_FILTERS)('sample $name', ({ path }) => {
    const program = decodeRaw(readFileSync(path));
    const written: Array<[string, Format, string]> = [
      ...TEXT_FORMATS.map((format): [string, Format, string] => [format, format, writeProgram(program, format) as string]),
      ['the disassembler (pcs, with ; comments)', 'asm', formatAsm(program, { style: 'pcs' })],
    ];
    it.each(written)('%s', (_, format, text) => {
      expect(text).toContain('\n');
      const lf = read(text, format);
      expect(lf).toEqual({ program, detected: format });
      expect(read(crlf(text), format)).toEqual(lf);
    });
  });

  const ASM_EXPECTED = assemble('ld [nr]\njeq #openat, deny\nret ALLOW\ndeny: ret ERRNO(EACCES)');
  it.each([
    {
      what: 'asm with ; comments (the reported file)',
      format: 'asm',
      text: 'ld [nr]            ; A = nr\njeq #openat, deny\nret ALLOW          ; the rest\ndeny: ret ERRNO(EACCES)\n',
    },
    { what: 'asm without comments', format: 'asm', text: 'ld [nr]\njeq #openat, deny\nret ALLOW\ndeny: ret ERRNO(EACCES)\n' },
    {
      what: 'asm with block comments across lines, a label alone and a ; in a block comment',
      format: 'asm',
      text: '/* a filter\n   ; not a line comment */\n  ld [nr] /* A = nr */\n  jeq #openat, deny ; /* not a block comment\n  ret ALLOW\ndeny:\n  ret ERRNO(EACCES) ; end */\n',
    },
    {
      what: 'C with #include, block and line comments',
      format: 'c',
      text: '#include <linux/filter.h>\n/* the\n   filter */\nstruct sock_filter f[] = {\n  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)), // A = nr\n  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,\n           __NR_openat, 1, 0),\n  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),\n  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),\n};\n',
    },
    { what: 'tcpdump -ddd lines', format: 'ddd', text: '4\n32 0 0 0\n21 1 0 257\n6 0 0 2147418112\n6 0 0 327693\n' },
    { what: 'the one-line comma form, with a line break at its end', format: 'ddd', text: '4,32 0 0 0,21 1 0 257,6 0 0 2147418112,6 0 0 327693,\n' },
    {
      what: 'JSON written by hand, across lines',
      format: 'json',
      text: '[\n  {"code": 32, "jt": 0, "jf": 0, "k": 0},\n  {"code": 21,\n   "jt": 1, "jf": 0, "k": 257},\n  {"code": 6, "jt": 0, "jf": 0, "k": 2147418112},\n  {"code": 6, "jt": 0, "jf": 0, "k": 327693}\n]\n',
    },
  ] as const)('$what', ({ format, text }) => {
    expect(read(text, format)).toEqual({ program: ASM_EXPECTED, detected: format });
    expect(read(crlf(text), format)).toEqual({ program: ASM_EXPECTED, detected: format });
  });

  it.each([
    { what: 'asm: an unknown mnemonic', format: 'asm', text: 'ld [nr]\n\n  bogus #1\nret #0\n', error: { code: 'unknown-mnemonic', line: 3, column: 3 } },
    {
      what: 'asm: an undefined label after a comment',
      format: 'asm',
      text: 'ld [nr] ; x\njeq #1, nowhere ; y\nret #0\n',
      error: { code: 'undefined-label', line: 2, column: 9 },
    },
    {
      what: 'C: a field that does not fit',
      format: 'c',
      text: '// c\n{ 0x06, 0, 0, 0 },\n{ 0x06, 0, 256, 0 },\n',
      error: { code: 'out-of-range', line: 3, column: 12 },
    },
    { what: 'C: the end of the text', format: 'c', text: 'BPF_STMT(BPF_RET | BPF_K,\n0\n', error: { code: 'syntax', line: 3, column: 1 } },
    { what: 'ddd: a short line', format: 'ddd', text: '2\n6 0 0 0\n6 0 0\n', error: { code: 'syntax', line: 3, column: 1 } },
    { what: 'JSON: a trailing comma', format: 'json', text: '[\n{"code":6,"jt":0,"jf":0,"k":0},\n]\n', error: { code: 'syntax', line: 3, column: 1 } },
    {
      what: 'JSON: a bad token at the end of a line',
      format: 'json',
      text: '[\n{"code":6,"jt":0,"jf":0,"k":0} x\n]',
      error: { code: 'syntax', line: 2, column: 32 },
    },
  ] as const)('puts an error at the same line and column with CRLF: $what', ({ format, text, error }) => {
    expect(outcome(() => read(text, format))).toEqual(error);
    expect(outcome(() => read(crlf(text), format))).toEqual(error);
  });
});

describe('a lone \\r, U+2028 or U+2029 is whitespace, or refused where it would hide text', () => {
  const program = assemble('ld [nr]\nret #1');
  it.each([
    { what: 'asm: \\r between mnemonic and operand', format: 'asm', text: 'ld\r[nr]\nret #1' },
    { what: 'asm: U+2028 inside an operand', format: 'asm', text: 'ld [ nr\u2028]\nret #1' },
    { what: 'asm: U+2029 before a comment', format: 'asm', text: 'ld [nr]\u2029; c\nret #1' },
    { what: 'asm: a comment ending in \\r\\r\\n', format: 'asm', text: 'ld [nr] ; c\r\r\nret #1' },
    { what: 'C: \\r between tokens', format: 'c', text: 'BPF_STMT(BPF_LD|BPF_W|BPF_ABS,\r0),BPF_STMT(BPF_RET|BPF_K,\u20281)' },
    { what: 'ddd: U+2028 between numbers', format: 'ddd', text: '2\n32 0 0\u20280\n6 0 0 1\n' },
    { what: 'JSON: \\r as JSON whitespace', format: 'json', text: '[{"code":32,"jt":0,"jf":0,"k":0},\r{"code":6,"jt":0,"jf":0,"k":1}]' },
  ] as const)('reads $what as whitespace', ({ format, text }) => {
    expect(readProgram(bytes(text), format).program).toEqual(program);
  });

  it.each([
    {
      what: 'asm: a comment that would swallow the next line (\\r line ends)',
      format: 'asm',
      text: 'ld [nr] ; A = nr\rret #1\r',
      error: { code: 'line-ending', line: 1, column: 17 },
    },
    { what: 'asm: U+2028 inside a comment', format: 'asm', text: 'ld [nr]\nret #1 ; one\u2028ret #2\n', error: { code: 'line-ending', line: 2, column: 13 } },
    {
      what: 'C: a // comment that would swallow an item',
      format: 'c',
      text: 'BPF_STMT(BPF_LD|BPF_W|BPF_ABS, 0), // nr\rBPF_STMT(BPF_RET|BPF_K, 1)',
      error: { code: 'line-ending', line: 1, column: 41 },
    },
    {
      what: 'C: a # line that would swallow an item',
      format: 'c',
      text: '#include <x.h>\u2029BPF_STMT(BPF_RET|BPF_K, 1)',
      error: { code: 'line-ending', line: 1, column: 15 },
    },
    { what: 'asm: an unterminated block comment', format: 'asm', text: 'ld [nr]\n/* the rest\nret #1\n', error: { code: 'syntax', line: 2, column: 1 } },
    { what: 'C: an unterminated block comment', format: 'c', text: 'BPF_STMT(BPF_RET|BPF_K, 1) /*/', error: { code: 'syntax', line: 1, column: 28 } },
  ] as const)('refuses $what at its position', ({ format, text, error }) => {
    expect(outcome(() => readProgram(bytes(text), format))).toEqual(error);
  });

  it('says why in one line', () => {
    expect(() => assemble('ret #1 ; c\rret #2')).toThrow(
      '1:11: a carriage return (\\r) inside a comment would hide the text after it (lines end with \\n or \\r\\n)',
    );
    expect(() => assemble('ret #1 ; c\u2028ret #2')).toThrow('1:11: U+2028 inside a comment would hide the text after it (lines end with \\n or \\r\\n)');
  });
});

describe('CRLF ends a line as LF does in traces', () => {
  const jsonLines = [
    '# a trace, with a comment',
    '{"arch":"x86_64","nr":"openat","ip":"0x7f00","args":[3,"0x10",0,0,0,0]}',
    '',
    '  {"arch":"i386","nr":3}  ',
    '{"arch":"s390x","nr":"read","args":["18446744073709551615"]}',
    '',
  ].join('\n');
  const strace = [
    '28936 openat(0xffffff9c, 0x7f11, 0x80000, 0) = 0x3',
    '28936 read(0x3, 0x7ffc <unfinished ...>',
    '28937 --- SIGCHLD {si_signo=SIGCHLD} ---',
    '[ Process PID=28937 runs in 32 bit mode. ]',
    '28937 read(0x3, 0xffffd000, 0x200) = 0x200',
    '28936 <... read resumed>, 0x340) = 0x340',
    '28936 +++ exited with 0 +++',
    '',
  ].join('\n');

  /** The records of a whole trace read by recordBatches, its format detected. */
  async function streamed(text: string): Promise<SeccompData[]> {
    const records: SeccompData[] = [];
    const chunks = (async function* () {
      yield bytes(text);
    })();
    for await (const batch of recordBatches(chunks, { format: undefined, byteOrder: 'le', arch: x86_64 })) {
      for (let i = 0; i < batch.count; i++) records.push(decodeSeccompData(batch.bytes, recordByteOrder(batch, i), i * 64));
    }
    return records;
  }

  function straceRecords(text: string): SeccompData[] {
    const reader = new StraceReader(x86_64);
    const lines = text.split('\n');
    const into = new RecordBatchBuilder(lines.length);
    lines.forEach((line, i) => {
      reader.line(line, i + 1, into);
    });
    while (reader.endNext(into));
    const batch = into.take();
    return Array.from({ length: batch.count }, (_, i) => decodeSeccompData(batch.bytes, recordByteOrder(batch, i), i * 64));
  }

  it.each([
    { what: 'JSON lines', text: jsonLines, format: 'jsonl', read: parseRecordLines, count: 3 },
    { what: 'an strace log', text: strace, format: 'strace', read: straceRecords, count: 3 },
  ] as const)('$what: the same records, and the same format detected', async ({ text, format, read, count }) => {
    const lf = read(text);
    expect(lf).toHaveLength(count);
    expect(read(crlf(text))).toEqual(lf);
    expect(detectRecordFormat(bytes(text))).toBe(format);
    expect(detectRecordFormat(bytes(crlf(text)))).toBe(format);
    expect(await streamed(text)).toEqual(lf);
    expect(await streamed(crlf(text))).toEqual(lf);
  });

  it.each([
    { what: 'a JSON line with a syntax error', text: '{"arch":"x86_64"}\n  {"arch":"x86_64",}\n', error: { code: 'bad-record', line: 2, column: 20 } },
    { what: 'a comment line that would hide a record (\\r line ends)', text: '# trace\r{"nr":1}\r', error: { code: 'bad-record', line: 1, column: 8 } },
  ])('JSON lines: $what, at the same line and column with CRLF', ({ text, error }) => {
    expect(outcome(() => parseRecordLines(text))).toEqual(error);
    expect(outcome(() => parseRecordLines(crlf(text)))).toEqual(error);
  });
});
