import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers.js';

const lines = (n: number, line: string) => Array.from({ length: n }, () => line).join('\n');

describe('bad input: one line naming the problem, exit 1, nothing written', () => {
  it.each([
    { what: 'a raw file whose length is not a multiple of 8', argv: ['disasm', 'f.bpf'], file: new Uint8Array(12),
      error: 'cbpf: f.bpf: raw input is 12 bytes, not a multiple of 8 (sizeof struct sock_filter): 4 trailing bytes' },
    { what: 'an empty file', argv: ['disasm', 'f.bpf'], file: '', error: 'cbpf: f.bpf: empty input: no instructions' },
    { what: 'a file of only comments', argv: ['disasm', 'f.s'], file: '; nothing\n/* here */\n', error: 'cbpf: f.s: empty input: no instructions' },
    { what: 'text that is no known format', argv: ['disasm', 'f.txt'], file: 'hello world\n',
      error: 'cbpf: f.txt: not a known cBPF format (raw sock_filter bytes, C array, tcpdump -ddd, bpf_asm or JSON): starts with "hello world"' },
    { what: 'an unknown mnemonic', argv: ['asm', 'f.s', '-o', 'out'], file: 'ld [0]\n  jeqq #1, a\na: ret #0\n',
      error: 'cbpf: f.s:2:3: unknown mnemonic "jeqq"' },
    { what: 'an undefined label', argv: ['asm', 'f.s', '-o', 'out'], file: 'ld [0]\njeq #1, nowhere\nret #0\n',
      error: 'cbpf: f.s:2:9: label "nowhere" is not defined' },
    { what: 'a duplicate label', argv: ['asm', 'f.s', '-o', 'out'], file: 'a: ld [0]\na: ret #0\n',
      error: 'cbpf: f.s:2:1: label "a" is defined twice' },
    { what: 'a conditional jump farther than 255', argv: ['asm', 'f.s', '-o', 'out'], file: `jeq #1, far\n${lines(256, 'ld #0')}\nfar: ret #0\n`,
      error: 'cbpf: f.s:1:9: jump from pc 0 to "far" (pc 257) skips 256 instructions; a conditional jump skips at most 255' },
    { what: 'a constant that does not fit in 32 bits', argv: ['asm', 'f.s', '-o', 'out'], file: 'ret #4294967296\n',
      error: 'cbpf: f.s:1:6: constant 4294967296 does not fit (0..4294967295)' },
    { what: 'a jt that does not fit in 8 bits', argv: ['convert', 'f.c', '--to', 'raw', '-o', 'out'], file: '{ 0x15, 256, 0, 0 },\n',
      error: 'cbpf: f.c:1:9: jt 256 does not fit (0..255)' },
    { what: 'a JSON field that does not fit', argv: ['convert', 'f.json', '--to', 'raw', '-o', 'out'], file: '[{"code":6,"jt":0,"jf":0,"k":-1}]',
      error: 'cbpf: f.json: instruction 0: "k" = -1 does not fit (0..4294967295)' },
    { what: 'more than 4096 instructions written for the kernel', argv: ['asm', 'f.s', '-o', 'out'], file: `${lines(4097, 'ret #0')}\n`,
      error: 'cbpf: f.s: program has 4097 instructions; the kernel loads at most 4096 (BPF_MAXINSNS)' },
    { what: 'a ddd count that does not match', argv: ['disasm', 'f.ddd'], file: '2\n6 0 0 0\n',
      error: 'cbpf: f.ddd:1:1: count says 2 instructions, but 1 follow' },
    { what: 'a file that does not exist', argv: ['disasm', 'missing.bpf'], file: undefined, error: 'cbpf: missing.bpf: no such file' },
  ])('$what', async ({ argv, file, error }) => {
    const files = file === undefined ? {} : { [argv[1]!]: file };
    const run = await runCli(argv, { files });
    expect(run.stderr).toBe(`${error}\n`);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.files.has('out')).toBe(false);
  });

  it.each([
    { what: 'that does not exist', argv: ['--gate', 'b.json'], file: undefined, error: 'cbpf: b.json: no such file' },
    { what: 'that is no baseline', argv: ['--gate', 'b.json'], file: '{"ratios":{}}', error: 'cbpf: b.json: not a cbpf bench baseline (it needs "tolerance" and "ratios")' },
    { what: 'to lower, that is not JSON', argv: ['--update-baseline', 'b.json'], file: '[1,', error: expect.stringMatching(/^cbpf: b\.json: .*JSON/) },
  ])('a bench baseline $what fails before any benchmark runs', async ({ argv, file, error }) => {
    const run = await runCli(['bench', ...argv], { files: file === undefined ? {} : { 'b.json': file } });
    expect(run.stderr).toEqual(typeof error === 'string' ? `${error}\n` : error);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(''); // no report: nothing was measured
  });

  it('accepts exactly 4096 instructions', async () => {
    const run = await runCli(['asm', 'f.s', '-o', 'out'], { files: { 'f.s': `${lines(4096, 'ret #0')}\n` } });
    expect(run.code).toBe(0);
    expect(run.files.get('out')!.length).toBe(4096 * 8);
  });

  it('names standard input <stdin>', async () => {
    const run = await runCli(['disasm', '-'], { stdin: new Uint8Array(3) });
    expect(run.stderr).toMatch(/^cbpf: <stdin>: raw input is 3 bytes/);
  });

  it("usage errors exit 2 and point to the command's help", async () => {
    const run = await runCli(['disasm']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("cbpf: disasm takes one FILE (- for standard input), got 0\nTry 'cbpf disasm --help'.\n");
  });

  it('an unknown command points to the main help', async () => {
    expect(await runCli(['frobnicate'])).toMatchObject({ code: 2, stderr: "cbpf: unknown command \"frobnicate\"\nTry 'cbpf --help'.\n" });
  });
});
