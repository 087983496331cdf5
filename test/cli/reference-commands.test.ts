import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { interpret } from '../../interp/interpret.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { archByName } from '../../src/seccomp/arches.js';
import { formatRecordJson } from '../../src/seccomp/record-json.js';
import { decodeSeccompData, encodeSeccompData } from '../../src/seccomp/records.js';
import { syscallName } from '../../src/seccomp/syscalls.js';
import { verify } from '../../src/verifier.js';
import { type CliRun, firstDifference, runCli } from '../helpers.js';

const path = (name: string) => SAMPLE_FILTERS.find((s) => s.name === name)!.path;
const small = path('allowlist-small');

describe('cbpf verify', () => {
  it('finds every bundled sample valid', async () => {
    const run = await runCli(['verify', ...SAMPLE_FILTERS.map((s) => s.path)]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(SAMPLE_FILTERS.map((s) => `${s.path}: ok`));
  });

  it.each([
    ['ld [0]\njeq #1, 2, 12\nret #0', 'pc 1: jump target 12 is outside the program (length 3) [EINVAL]'],
    ['ld M[0]\nret a', 'pc 0: M[0] may be read before it is written [EINVAL]'],
    ['div #0\nret a', 'pc 0: division by the constant 0 [EINVAL]'],
    ['lsh #32\nret a', 'pc 0: shift by 32, not below 32 [EINVAL]'],
    ['st M[16]\nret #0', 'pc 0: scratch word M[16] does not exist (M[0..15]) [EINVAL]'],
    ['ld #0', 'pc 0: the last instruction is not ret #k or ret a [EINVAL]'],
    ['ld [64]\nret a', 'pc 0: load at offset 64 is not an aligned word of seccomp_data (0, 4, ... 60) [EINVAL]'],
    ['mod #3\nret a', 'pc 0: mod #3 (opcode 0x94) is not allowed in seccomp filters [EINVAL]'],
    ['.insn 0x62, 0, 0, 0\nret #0', 'pc 0: unknown opcode 0x62 [EINVAL]'],
    ['ld [0xfffff040]\nret #0', 'pc 0: unknown ancillary load at 0xfffff040 [EINVAL]'],
    [`${'ld #0\n'.repeat(4096)}ret #0`, 'program has 4097 instructions; the kernel accepts 1 to 4096 [EINVAL]'],
  ])('diagnoses %j', async (text, message) => {
    const run = await runCli(['verify', 'f.s'], { files: { 'f.s': text } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`f.s: ${message}\n`);
    expect(run.stderr).toBe('cbpf: 1 of 1 rejected\n');
  });

  it('--json prints one object per file, with the file as given', async () => {
    const run = await runCli(['verify', small, 'bad.s', '--json'], { files: { 'bad.s': 'ld M[2]\nret a' } });
    expect(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { file: small, valid: true, errno: null, code: null, pc: null, message: 'ok' },
      { file: 'bad.s', valid: false, errno: 'EINVAL', code: 'uninitialized-scratch', pc: 0, message: 'pc 0: M[2] may be read before it is written [EINVAL]' },
    ]);
  });

  it('--stack checks that the filters fit in one stack', async () => {
    const big = Array(4096).fill('ret #0').join('\n');
    const ok = await runCli(['verify', 'a', 'a', 'a', '--stack'], { files: { a: big } });
    expect(ok.code).toBe(0);
    const full = await runCli(['verify', 'a', 'a', 'a', 'a', '--stack'], { files: { a: big } });
    expect(full.code).toBe(1);
    expect(full.stdout).toContain('stack of 4: filter 4 of 4 brings the stack to 32792 eBPF instructions; the kernel allows 32768 [ENOMEM]');
  });
});

describe('cbpf emu', () => {
  it('decides one syscall by name', async () => {
    const run = await runCli(['emu', small, '--nr', 'openat']);
    expect(run.stdout).toBe('value:  0x7fff0000\naction: ALLOW\neffect: the syscall runs\n');
  });

  it('decides by number, with args, and explains the effect', async () => {
    const docker = path('docker-linear');
    expect((await runCli(['emu', docker, '--nr', '135', '--args', '0x20008'])).stdout).toContain('action: ALLOW');
    expect((await runCli(['emu', docker, '--nr', 'personality', '--args', '7'])).stdout).toBe(
      'value:  0x00050001\naction: ERRNO(1)\neffect: the syscall does not run and returns -1 (EPERM)\n',
    );
  });

  it('uses --arch for the record: i386 takes the i386 branch of a multi-arch filter', async () => {
    // libseccomp turns the socket rule into socketcall(SYS_SOCKET = 1, ...) on i386.
    expect((await runCli(['emu', path('multiarch'), '--arch', 'i386', '--nr', 'socketcall', '--args', '1'])).stdout).toContain('action: ALLOW');
    expect((await runCli(['emu', path('multiarch'), '--arch', 'i386', '--nr', 'socketcall', '--args', '3'])).stdout).toContain('action: ERRNO(1)');
  });

  it('--trace shows the path with A and X', async () => {
    const run = await runCli(['emu', small, '--nr', 'ptrace', '--trace']);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`${small}:`);
    expect(lines[1]).toBe('   0: ld [4]                     A=0xc000003e X=0x00000000  ; A = arch');
    expect(lines).toContain('  17: ret #0x80000000            A=0x00000065 X=0x00000000  ; KILL_PROCESS');
    expect(run.stdout).toContain('action: KILL_PROCESS');
  });

  it('resolves a stack and shows each filter', async () => {
    const run = await runCli(['emu', 'a', 'b', '--nr', 'read'], { files: { a: 'ret ERRNO(1)', b: 'ret TRAP(2)' } });
    expect(run.stdout).toBe(
      '  => 0x00050001 ERRNO(1) (filter 1, a)\n  => 0x00030002 TRAP(2) (filter 2, b)\nvalue:  0x00030002\naction: TRAP(2)\neffect: the syscall does not run; the thread gets SIGSYS with si_errno = 2\n',
    );
  });

  it('--json prints one object', async () => {
    const run = await runCli(['emu', small, '--nr', 'read', '--json']);
    expect(JSON.parse(run.stdout)).toEqual({
      value: '0x7fff0000',
      action: 'ALLOW',
      effect: 'the syscall runs',
      runs: true,
      filters: [{ file: small, value: '0x7fff0000' }],
    });
  });

  it('fails with one line on a filter the kernel refuses', async () => {
    const run = await runCli(['emu', 'bad.s', '--nr', 'read'], { files: { 'bad.s': 'ld M[0]\nret a' } });
    expect(run).toMatchObject({ code: 1, stderr: 'cbpf: bad.s: pc 0: M[0] may be read before it is written [EINVAL]\n' });
  });
});

describe('cbpf eval', () => {
  const jsonl = '{"arch":"x86_64","nr":"read"}\n{"arch":"x86_64","nr":"ptrace"}\n# a comment\n{"arch":"i386","nr":"read"}\n';

  it.each([
    ['hex', '0x7fff0000\n0x80000000\n0x00000000\n'],
    ['action', 'ALLOW\nKILL_PROCESS\nKILL_THREAD\n'],
    [
      'json',
      '{"record":0,"value":"0x7fff0000","action":"ALLOW","arch":"x86_64","nr":"read"}\n{"record":1,"value":"0x80000000","action":"KILL_PROCESS","arch":"x86_64","nr":"ptrace"}\n{"record":2,"value":"0x00000000","action":"KILL_THREAD","arch":"i386","nr":"read"}\n',
    ],
  ])('prints one line per record as %s', async (format, out) => {
    const run = await runCli(['eval', small, '--records', '-', '--format', format], { stdin: jsonl });
    expect(run).toMatchObject({ code: 0, stdout: out });
  });

  it('reads binary records in either byte order', async () => {
    const record = (arch: number, nr: number, order: 'le' | 'be') => encodeSeccompData({ nr, arch, instructionPointer: 0n, args: [] }, order);
    const le = Buffer.concat([record(0xc000003e, 0, 'le'), record(0xc000003e, 101, 'le')]);
    expect((await runCli(['eval', small, '--records', 'r.bin'], { files: { 'r.bin': le } })).stdout).toBe('0x7fff0000\n0x80000000\n');
    const be = record(0x80000016, 0, 'be');
    const run = await runCli(['eval', 'f.s', '--records', 'r.bin', '--records-byte-order', 'be'], { files: { 'r.bin': be, 'f.s': 'ld [arch]\nret a' } });
    expect(run.stdout).toBe('0x80000016\n');
  });

  it('--summary counts per action, per arch and per syscall, with examples of what is not allowed', async () => {
    const run = await runCli(['eval', small, '--records', '-', '--summary'], { stdin: jsonl });
    expect(run.stdout).toBe(`records: 3
actions:
  ALLOW                     1   33.3%
  KILL_PROCESS              1   33.3%
  KILL_THREAD               1   33.3%
arches:
  x86_64                    2  ALLOW 1, KILL_PROCESS 1
  i386                      1  KILL_THREAD
syscalls:
  x86_64 read                           1  ALLOW
  x86_64 ptrace                         1  KILL_PROCESS
  i386 read                             1  KILL_THREAD
examples (the first 3 records of each decision other than ALLOW):
  KILL_PROCESS     record 1: x86_64 ptrace(0x0, 0x0, 0x0, 0x0, 0x0, 0x0)
  KILL_THREAD      record 2: i386 read(0x0, 0x0, 0x0, 0x0, 0x0, 0x0)
`);
  });

  it('--summary with -o writes the lines to the file and the summary to stdout', async () => {
    const run = await runCli(['eval', small, '--records', '-', '--summary', '-o', 'out', '--format', 'action'], { stdin: jsonl });
    expect(new TextDecoder().decode(run.files.get('out'))).toBe('ALLOW\nKILL_PROCESS\nKILL_THREAD\n');
    expect(run.stdout).toMatch(/^records: 3\n/);
  });

  it.each([
    [{ 'r.bin': new Uint8Array(65) }, 'cbpf: r.bin: record 1 is truncated: 1 of 64 bytes\n', '0x00000000\n'],
    [{ 'r.bin': '{"arch":"x86_64"}\n{"arch":"x86_64","nr":"bogus"}\n' }, 'cbpf: r.bin:2: unknown syscall "bogus" for arch x86_64\n', '0x7fff0000\n'],
  ])('stops at a bad record with its position, keeping the decisions made before it', async (files, stderr, stdout) => {
    const run = await runCli(['eval', small, '--records', 'r.bin'], { files });
    expect(run).toMatchObject({ code: 1, stderr, stdout });
  });

  it('--skip-bad passes over bad records and counts them', async () => {
    const jsonl = '{"arch":"x86_64","nr":"read"}\nnot json\n{"arch":"x86_64","nr":"bogus"}\n{"arch":"x86_64","nr":"write"}\n';
    const run = await runCli(['eval', small, '--records', '-', '--skip-bad'], { stdin: jsonl });
    expect(run).toMatchObject({ code: 0, stdout: '0x7fff0000\n0x7fff0000\n' });
    expect(run.stderr).toMatch(/^cbpf: skipped 2 bad records \(the first: line 2: not valid JSON/);
  });

  it('streams traces larger than a batch, across chunk boundaries, in order', async () => {
    const records = generateRecords(40_000, 'realistic', 3); // 2.4 batches, read in 1000-byte chunks
    const run = await runCli(['eval', small, '--records', 'r.bin', '--out', 'd.bin', '-o', 'd.txt'], { files: { 'r.bin': records } });
    expect(run.code).toBe(0);
    const filter = verify(decodeRaw(readFileSync(small)));
    const expected = Array.from({ length: 40_000 }, (_, i) => interpret(filter, records.subarray(i * 64, i * 64 + 64), 'le'));
    const binary = run.files.get('d.bin')!;
    expect(firstDifference(new Uint32Array(binary.slice().buffer), expected)).toBe('');
    expect(
      firstDifference(
        new TextDecoder()
          .decode(run.files.get('d.txt'))
          .trim()
          .split('\n')
          .map((l) => parseInt(l, 16)),
        expected,
      ),
    ).toBe('');
  });

  it.each([2, 3])('gives the same lines, binary decisions and summary with %i threads deciding as the main thread alone', async (threads) => {
    // The interpreter is slow enough (about 1 µs a record) that the workers come up and take work before the end.
    const file = join(mkdtempSync(join(tmpdir(), 'cbpf-eval-')), 'r.bin');
    writeFileSync(file, generateRecords(500_000, 'realistic', 4));
    const docker = path('docker-tree');
    const run = (workers: number) =>
      runCli(['eval', docker, '--records', file, '--out', 'd.bin', '-o', 'd.txt', '--summary', '--engine', 'interp', '--timing', '--workers', String(workers)]);
    const [main, pooled] = [await run(1), await run(threads)];
    expect(pooled.code).toBe(0);
    expect(pooled.stderr).toMatch(new RegExp(`; [1-9][0-9]* records on ${threads - 1} worker threads? \\(`));
    const decisions = (run: CliRun): Uint32Array => new Uint32Array(run.files.get('d.bin')!.slice().buffer);
    expect(firstDifference(decisions(pooled), [...decisions(main)])).toBe('');
    expect(Buffer.from(pooled.files.get('d.txt')!).equals(main.files.get('d.txt')!), 'the lines').toBe(true); // toEqual on 5 MB takes minutes
    expect(pooled.stdout).toBe(main.stdout);
  });

  it('reads a record file on disk in ranges, on worker threads or not, as the interpreter decides', async () => {
    const count = 17 * 16384 + 123; // more than one range of the file
    const records = generateRecords(count, 'realistic', 9);
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-eval-'));
    const file = join(dir, 'r.bin');
    writeFileSync(file, Buffer.concat([records, new Uint8Array(10)])); // and a truncated last record
    const docker = path('docker-tree');
    const filter = verify(decodeRaw(readFileSync(docker)));
    const expected = Array.from({ length: count }, (_, i) => interpret(filter, records.subarray(i * 64, i * 64 + 64), 'le'));
    const summaries = new Set<string>();
    for (const extra of [['--workers', '1'], ['--engine', 'jit', '--workers', '2'], ['--engine', 'interp', '--workers', '3'], []]) {
      const run = await runCli(['eval', docker, '--records', file, '--out', 'd.bin', '--summary', '--skip-bad', ...extra]);
      expect(run.code, extra.join(' ')).toBe(0);
      expect(run.stderr).toBe(`cbpf: skipped 1 bad record (the first: record ${count} is truncated: 10 of 64 bytes)\n`);
      const binary = run.files.get('d.bin')!;
      expect(firstDifference(new Uint32Array(binary.slice().buffer), expected), extra.join(' ')).toBe('');
      summaries.add(run.stdout);
    }
    expect(summaries.size).toBe(1);
    expect([...summaries][0]).toMatch(new RegExp(`^records: ${count}\n`));
  });

  it('decides with the decision tables and the interpreter before any JIT, with worker threads or not', async () => {
    const count = 5 * 16384;
    const records = generateRecords(count, 'realistic', 12);
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-eval-'));
    const file = join(dir, 'r.bin');
    writeFileSync(file, records);
    const multiarch = path('multiarch'); // argument rules: some records need the interpreter
    const filter = verify(decodeRaw(readFileSync(multiarch)));
    const expected = Array.from({ length: count }, (_, i) => interpret(filter, records.subarray(i * 64, i * 64 + 64), 'le'));
    const saved = process.env.CBPF_CACHE_DIR;
    process.env.CBPF_CACHE_DIR = 'off'; // no compiled module to start with
    try {
      for (const workers of ['1', '2']) {
        const run = await runCli(['eval', multiarch, '--records', file, '--out', 'd.bin', '--workers', workers, '--timing']);
        expect(run.stderr).toMatch(/^auto: JIT not compiled \(the trace was too short for it to pay\)/);
        if (workers === '2') expect(run.stderr).toMatch(/; [0-9]+ records on 1 worker thread\b/);
        const binary = run.files.get('d.bin')!;
        expect(firstDifference(new Uint32Array(binary.slice().buffer), expected), `--workers ${workers}`).toBe('');
      }
    } finally {
      if (saved === undefined) delete process.env.CBPF_CACHE_DIR;
      else process.env.CBPF_CACHE_DIR = saved;
    }
  });

  it('keeps every decision made before a bad record, with worker threads started, and stops them', async () => {
    const records = generateRecords(40_000, 'realistic', 6);
    const truncated = new Uint8Array(records.length + 10);
    truncated.set(records);
    const run = await runCli(['eval', small, '--records', 'r.bin', '--out', 'd.bin', '--workers', '2'], { files: { 'r.bin': truncated } });
    expect(run).toMatchObject({ code: 1, stderr: 'cbpf: r.bin: record 40000 is truncated: 10 of 64 bytes\n' });
    expect(run.files.get('d.bin')!.length).toBe(40_000 * 4);
  });

  it('decides mixed byte orders with worker threads started, with either engine', async () => {
    const jsonl = '{"arch":"x86_64","nr":"read"}\n{"arch":"s390x","nr":3}\n{"arch":"i386","nr":3}\n';
    const main = await runCli(['eval', 'f.s', '--records', '-'], { stdin: jsonl, files: { 'f.s': 'ld [arch]\nret a' } });
    const pooled = await runCli(['eval', 'f.s', '--records', '-', '--workers', '2', '--engine', 'jit'], { stdin: jsonl, files: { 'f.s': 'ld [arch]\nret a' } });
    const interp = await runCli(['eval', 'f.s', '--records', '-', '--workers', '2', '--engine', 'interp'], {
      stdin: jsonl,
      files: { 'f.s': 'ld [arch]\nret a' },
    });
    expect(pooled.stdout).toBe('0xc000003e\n0x80000016\n0x40000003\n');
    expect(pooled.stdout).toBe(main.stdout);
    expect(interp.stdout).toBe(main.stdout);
  });

  /** `count` realistic calls as JSON lines, three of them bad. */
  const jsonLines = (count: number): string[] => {
    const records = generateRecords(count, 'realistic', 8);
    const lines = Array.from({ length: count }, (_, i) => formatRecordJson(decodeSeccompData(records, 'le', i * 64)));
    for (const bad of [120_000, 150_000, 190_000]) lines[bad] = `{"arch":"x86_64","nr":"bogus${bad}"}`;
    return lines;
  };
  /**
   * `count` realistic calls as an strace log of four processes, every fifth
   * call unfinished and resumed after another process's call; one process
   * turns 32-bit near the end, and three lines are bad.
   */
  const straceLines = (count: number): string[] => {
    const records = generateRecords(count, 'realistic', 8);
    const lines: string[] = [];
    let resumed: string | undefined;
    for (let i = 0; i < count; i++) {
      const { nr, args } = decodeSeccompData(records, 'le', i * 64);
      const name = syscallName(archByName('x86_64')!, nr >>> 0) ?? `syscall_0x${(nr >>> 0).toString(16)}`;
      const [pid, call] = [1000 + (i % 4), `${name}(${args.map((a) => `0x${a.toString(16)}`).join(', ')}`];
      lines.push(i % 5 === 0 ? `${pid} ${call} <unfinished ...>` : `${pid} ${call}) = 0`);
      if (resumed) lines.push(resumed);
      resumed = i % 5 === 0 ? `${pid} <... ${name} resumed>) = 0x1` : undefined;
      if (i === 180_000) lines.push('[ Process PID=1003 runs in 32 bit mode. ]');
      if (i === 120_000 || i === 150_000 || i === 190_000) lines.push(`${pid} bogus${i}(0x1) = 0`);
    }
    return lines;
  };

  it.each([
    ['JSON lines', jsonLines],
    ['an strace log', straceLines],
  ])('reads %s on worker threads as the main thread alone does, bad lines and all', async (_, makeLines) => {
    // Long enough (about 0.6 s of reading here) that the worker comes up and reads pieces before the end.
    const file = join(mkdtempSync(join(tmpdir(), 'cbpf-eval-')), 'trace.txt');
    writeFileSync(file, makeLines(200_000).join('\n'));
    const docker = path('docker-tree');
    for (const skipBad of [['--skip-bad'], []]) {
      const run = (workers: string) =>
        runCli(['eval', docker, '--records', file, '--format', 'json', '-o', 'd.txt', '--summary', '--timing', '--workers', workers, ...skipBad]);
      const [main, pooled] = [await run('1'), await run('2')];
      expect(pooled.code, skipBad.join(' ')).toBe(main.code);
      if (skipBad.length > 0) expect(pooled.stderr).toMatch(/; [1-9][0-9]* records read from lines of text there;/); // a run that stops has no timing
      const withoutTiming = (stderr: string) => stderr.replace(/^(auto|jit|interp): .*\n/m, '');
      expect(withoutTiming(pooled.stderr)).toBe(withoutTiming(main.stderr));
      expect(Buffer.from(pooled.files.get('d.txt')!).equals(main.files.get('d.txt')!), 'the lines').toBe(true);
      expect(pooled.stdout).toBe(main.stdout);
    }
  });

  it('reads JSON lines that cross chunk boundaries', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ arch: 'x86_64', nr: i % 2 === 0 ? 'read' : 'ptrace', args: [i] })).join('\n');
    const run = await runCli(['eval', small, '--records', '-', '--format', 'action'], { stdin: lines });
    expect(run.stdout.trim().split('\n')).toEqual(Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? 'ALLOW' : 'KILL_PROCESS')));
  });
});
