import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_FILTER_BYTES } from '../../src/codecs/formats.js';
import { packageRoot } from '../../src/package-root.js';
import { runCli } from '../helpers.js';

const lines = (n: number, line: string) => Array.from({ length: n }, () => line).join('\n');

describe('bad input: one line naming the problem, exit 1, nothing written', () => {
  it.each([
    {
      what: 'a raw file whose length is not a multiple of 8',
      argv: ['disasm', 'f.bpf'],
      file: new Uint8Array(12),
      error: 'cbpf: f.bpf: raw input is 12 bytes, not a multiple of 8 (sizeof struct sock_filter): 4 trailing bytes',
    },
    { what: 'an empty file', argv: ['disasm', 'f.bpf'], file: '', error: 'cbpf: f.bpf: empty input: no instructions' },
    { what: 'a file of only comments', argv: ['disasm', 'f.s'], file: '; nothing\n/* here */\n', error: 'cbpf: f.s: empty input: no instructions' },
    {
      what: 'text that is no known format',
      argv: ['disasm', 'f.txt'],
      file: 'hello world\n',
      error:
        'cbpf: f.txt: not a known cBPF format (raw sock_filter bytes, C array, tcpdump -ddd, bpf_asm, JSON or a seccomp profile): starts with "hello world"',
    },
    {
      what: 'an unknown mnemonic',
      argv: ['asm', 'f.s', '-o', 'out'],
      file: 'ld [0]\n  jeqq #1, a\na: ret #0\n',
      error: 'cbpf: f.s:2:3: unknown mnemonic "jeqq"',
    },
    {
      what: 'an undefined label',
      argv: ['asm', 'f.s', '-o', 'out'],
      file: 'ld [0]\njeq #1, nowhere\nret #0\n',
      error: 'cbpf: f.s:2:9: label "nowhere" is not defined',
    },
    { what: 'a duplicate label', argv: ['asm', 'f.s', '-o', 'out'], file: 'a: ld [0]\na: ret #0\n', error: 'cbpf: f.s:2:1: label "a" is defined twice' },
    {
      what: 'a conditional jump farther than 255',
      argv: ['asm', 'f.s', '-o', 'out'],
      file: `jeq #1, far\n${lines(256, 'ld #0')}\nfar: ret #0\n`,
      error: 'cbpf: f.s:1:9: jump from pc 0 to "far" (pc 257) skips 256 instructions; a conditional jump skips at most 255',
    },
    {
      what: 'a constant that does not fit in 32 bits',
      argv: ['asm', 'f.s', '-o', 'out'],
      file: 'ret #4294967296\n',
      error: 'cbpf: f.s:1:6: constant 4294967296 does not fit (0..4294967295)',
    },
    {
      what: 'a jt that does not fit in 8 bits',
      argv: ['convert', 'f.c', '--to', 'raw', '-o', 'out'],
      file: '{ 0x15, 256, 0, 0 },\n',
      error: 'cbpf: f.c:1:9: jt 256 does not fit (0..255)',
    },
    {
      what: 'a JSON field that does not fit',
      argv: ['convert', 'f.json', '--to', 'raw', '-o', 'out'],
      file: '[{"code":6,"jt":0,"jf":0,"k":-1}]',
      error: 'cbpf: f.json:1:2: instruction 0: "k" = -1 does not fit (0..4294967295)',
    },
    {
      what: 'more than 4096 instructions written for the kernel',
      argv: ['asm', 'f.s', '-o', 'out'],
      file: `${lines(4097, 'ret #0')}\n`,
      error: 'cbpf: f.s: program has 4097 instructions; the kernel loads at most 4096 (BPF_MAXINSNS)',
    },
    {
      what: 'a ddd count that does not match',
      argv: ['disasm', 'f.ddd'],
      file: '2\n6 0 0 0\n',
      error: 'cbpf: f.ddd:1:1: count says 2 instructions, but 1 follow',
    },
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
    {
      what: 'that is no baseline',
      argv: ['--gate', 'b.json'],
      file: '{"ratios":{}}',
      error: 'cbpf: b.json: not a cbpf bench baseline (it needs "tolerance" and "ratios")',
    },
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

  it.each([
    {
      what: 'no command at all shows the commands',
      argv: [],
      error: /^cbpf: load, check and explain[\s\S]*Exit codes: 0 ok, 1 bad input or failed check, 2 usage\.\n$/,
    },
    {
      what: 'a syscall name the arch does not have',
      argv: ['emu', 'f.bpf', '--nr', 'nosuch'],
      error: 'cbpf: --nr: x86_64 has no syscall "nosuch"\nTry \'cbpf emu --help\'.\n',
    },
    {
      what: 'a syscall number that does not fit',
      argv: ['emu', 'f.bpf', '--nr', '99999999999'],
      error: "cbpf: --nr: 99999999999 does not fit in 32 bits\nTry 'cbpf emu --help'.\n",
    },
    {
      what: 'more worker threads than cbpf starts',
      argv: ['eval', 'f.bpf', '--records', 'r', '--workers', '1000'],
      error: "cbpf: --workers: 1000 threads is more than the 256 cbpf starts\nTry 'cbpf eval --help'.\n",
    },
    {
      what: 'both outputs on standard output',
      argv: ['eval', 'f.bpf', '--records', 'r', '-o', '-', '--out', '-'],
      error: "cbpf: eval: standard output cannot take both the lines (-o -) and the binary decisions (--out -)\nTry 'cbpf eval --help'.\n",
    },
  ])('a bad command line exits 2: $what', async ({ argv, error }) => {
    const run = await runCli(argv, { files: { 'f.bpf': 'ret #0\n' } });
    expect(run.code).toBe(2);
    if (typeof error === 'string') expect(run.stderr).toBe(error);
    else expect(run.stderr).toMatch(error);
    expect(run.stdout).toBe('');
  });

  it("kernel-check's usage names every engine", async () => {
    expect((await runCli(['kernel-check', '--help'])).stdout).toContain('[--engine interp|table|jit|standalone|all]');
  });

  it.each(['disasm', 'info', 'eval'])('%s refuses a filter file larger than any filter, in one line', async (command) => {
    const huge = new Uint8Array(MAX_FILTER_BYTES + 1);
    const run = await runCli([command, 'huge.bpf', ...(command === 'eval' ? ['--records', 'r'] : [])], { files: { 'huge.bpf': huge } });
    expect(run.stderr).toBe('cbpf: huge.bpf: larger than 16 MiB, which no filter needs (a filter is at most 65,535 instructions)\n');
    expect(run.code).toBe(1);
  });

  it('refuses a filter file over 2 GiB in one line (reading it whole threw ERR_FS_FILE_TOO_LARGE)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-huge-'));
    const huge = join(dir, 'x.bpf');
    writeFileSync(huge, '');
    truncateSync(huge, 3 * 2 ** 30); // sparse: no disk is used
    try {
      const result = spawnSync('node', [join(packageRoot(), 'bin', 'cbpf.js'), 'disasm', huge], { encoding: 'utf8' });
      expect(result.stderr).toBe(`cbpf: ${huge}: larger than 16 MiB, which no filter needs (a filter is at most 65,535 instructions)\n`);
      expect(result.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('reads an endless filter source only up to the cap, in bounded memory', () => {
    // The child reports its peak resident memory as it exits.
    const reportPeak = "data:text/javascript,process.on('exit',()=>process.stderr.write('peak '+process.resourceUsage().maxRSS+'\\n'))";
    const result = spawnSync('node', ['--import', reportPeak, join(packageRoot(), 'bin', 'cbpf.js'), 'disasm', '/dev/zero'], { encoding: 'utf8' });
    const [error, peak] = result.stderr.split('\n');
    expect(error).toBe('cbpf: /dev/zero: larger than 16 MiB, which no filter needs (a filter is at most 65,535 instructions)');
    expect(result.status).toBe(1);
    expect(Number(/^peak (\d+)$/.exec(peak!)![1]) * 1024).toBeLessThan(256 << 20);
  });

  it('closes the trace it stops reading at a bad record (no warning about a file handle left to the garbage collector)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-bad-'));
    writeFileSync(join(dir, 'f.s'), 'ret #0\n');
    writeFileSync(join(dir, 'big.log'), `${'123 read(0, 0x0, 0x0) = 0\n'.repeat(10)}123 read(${'x'.repeat(5 << 20)})\n`);
    // --expose-gc and a collection at exit make a leaked handle's warning certain rather than up to the collector's timing.
    const collectAtExit = "data:text/javascript,process.on('beforeExit',()=>globalThis.gc())";
    const result = spawnSync(
      'node',
      ['--expose-gc', '--import', collectAtExit, join(packageRoot(), 'bin', 'cbpf.js'), 'eval', 'f.s', '--records', 'big.log', '--summary'],
      { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    expect(result.stderr.split('\n')).toHaveLength(2); // one line, and the empty string after its newline
    expect(result.stderr).toMatch(/^cbpf: big\.log:11:/);
    expect(result.status).toBe(1);
  });

  it('an unknown command points to the main help', async () => {
    expect(await runCli(['frobnicate'])).toMatchObject({ code: 2, stderr: 'cbpf: unknown command "frobnicate"\nTry \'cbpf --help\'.\n' });
  });
});
