import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { ParseError } from '../../src/errors.js';
import { archByName } from '../../src/seccomp/arches.js';
import { decodeSeccompData, RecordBatchBuilder, recordByteOrder, type SeccompData } from '../../src/seccomp/records.js';
import { StraceReader } from '../../src/seccomp/strace.js';
import { runCli } from '../helpers.js';
import { itWhenAvailable, straceMissing } from '../system-deps.js';

const x86_64 = archByName('x86_64')!;

/** Every record a log gives, decoded, with the reader (for its counts). */
function readLog(log: string): { records: SeccompData[]; reader: StraceReader } {
  const reader = new StraceReader(x86_64);
  const lines = log.split('\n');
  const into = new RecordBatchBuilder(lines.length);
  lines.forEach((line, i) => {
    reader.line(line, i + 1, into);
  });
  while (reader.endNext(into));
  const batch = into.take();
  return { records: Array.from({ length: batch.count }, (_, i) => decodeSeccompData(batch.bytes, recordByteOrder(batch, i), i * 64)), reader };
}

describe('StraceReader', () => {
  it('reads raw calls with and without a pid and a time stamp', () => {
    const { records, reader } = readLog(
      [
        '28936 openat(0xffffff9c, 0x7f115f13b0b1, 0x80000, 0) = 0x3',
        'read(0x3, 0x7ffc, 0x340) = 0x340',
        '28936 12:34:56.789012 close(0x3) = 0',
        '1700000000.123456 getpid() = 0x7108',
        '28936 access(0x7f11, 0x4)       = -1 ENOENT (No such file or directory)',
        '28936 exit_group(0)                     = ?',
      ].join('\n'),
    );
    expect(records.map((r) => r.nr)).toEqual([257, 0, 3, 39, 21, 231]);
    expect(records[0]).toEqual({ nr: 257, arch: 0xc000003e, instructionPointer: 0n, args: [0xffffff9cn, 0x7f115f13b0b1n, 0x80000n, 0n, 0n, 0n] });
    expect(reader.notSyscalls).toBe(0);
  });

  it('joins unfinished and resumed calls of each process, and keeps calls never resumed', () => {
    const { records } = readLog(
      [
        '28936 futex(0x196b22f0, 0x189, 0, 0, 0, 0xffffffff <unfinished ...>',
        '28937 epoll_ctl(0x9, 0x1, 0xb, 0x7fe9 <unfinished ...>',
        '28937 <... epoll_ctl resumed>)          = 0',
        '28936 <... futex resumed>)              = 0',
        '28938 wait4(0xffffffff, 0x7ffd <unfinished ...>',
        '28938 +++ killed by SIGKILL +++',
      ].join('\n'),
    );
    expect(records.map((r) => [r.nr, r.args[0]])).toEqual([
      [233, 0x9n],
      [202, 0x196b22f0n],
      [61, 0xffffffffn],
    ]);
    expect(records[1]!.args).toEqual([0x196b22f0n, 0x189n, 0n, 0n, 0n, 0xffffffffn]);
  });

  it('counts lines that are no syscall, and follows a process into 32-bit mode', () => {
    const { records, reader } = readLog(
      [
        '28936 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=28937} ---',
        '[ Process PID=28937 runs in 32 bit mode. ]',
        '28937 read(0x3, 0xffffd000, 0x200) = 0x200',
        '28936 read(0x3, 0x7ffd, 0x200) = 0x200',
        '28936 syscall_0x1c8(0x1, 0x2) = -1 ENOSYS (Function not implemented)',
        '28936 +++ exited with 0 +++',
        '',
      ].join('\n'),
    );
    expect(records.map((r) => [r.arch.toString(16), r.nr])).toEqual([
      ['40000003', 3],
      ['c000003e', 0],
      ['c000003e', 0x1c8],
    ]);
    expect(reader.notSyscalls).toBe(3);
  });

  it('reads raw u64 arguments, hex or decimal, as BigInt would (cut to 32 bits on a 32-bit arch), and refuses wider ones at their column', () => {
    const hex = fc
      .bigInt({ min: 0n, max: (1n << 80n) - 1n })
      .chain((n) => fc.constantFrom(`0x${n.toString(16)}`, `0X${n.toString(16).toUpperCase()}`, `0x000${n.toString(16)}`));
    const decimal = fc.bigInt({ min: 0n, max: (1n << 70n) - 1n }).chain((n) => fc.constantFrom(n.toString(), `00${n}`));
    fc.assert(
      fc.property(fc.array(fc.oneof(hex, decimal), { maxLength: 6 }), fc.boolean(), fc.boolean(), (args, i386, spaced) => {
        const reader = new StraceReader(i386 ? archByName('i386')! : x86_64);
        const into = new RecordBatchBuilder(1);
        const separator = spaced ? ' ,  ' : ', ';
        const line = `100 write(${args.join(separator)})   = 0x1`;
        const wide = args.findIndex((a) => BigInt(a) >= 1n << 64n);
        if (wide !== -1) {
          const column =
            '100 write('.length +
            args
              .slice(0, wide)
              .map((a) => a + separator)
              .join('').length +
            1;
          expect(() => reader.line(line, 1, into)).toThrow(
            expect.objectContaining({
              code: 'bad-record',
              line: 1,
              column,
              detail: expect.stringMatching(`^args\\[${wide}\\] .* does not fit \\(0\\.\\.18446744073709551615\\)$`),
            }),
          );
          expect(into.count).toBe(0);
          return;
        }
        reader.line(line, 1, into);
        const batch = into.take();
        const record = decodeSeccompData(batch.bytes, recordByteOrder(batch, 0));
        const mask = i386 ? 0xffffffffn : (1n << 64n) - 1n;
        expect(record.args).toEqual([...args.map((a) => BigInt(a) & mask), ...Array<bigint>(6 - args.length).fill(0n)]);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    { what: 'an unknown syscall', line: '28936 bogus(0x1) = 0', column: 7, detail: 'unknown syscall "bogus" for arch x86_64' },
    {
      what: 'decoded arguments',
      line: '28936 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3',
      column: 14,
      detail: 'argument "AT_FDCWD" is not a number: record the log with strace -e raw=all',
    },
    { what: 'a bare 0x', line: '28936 read(0x3, 0x, 0x10) = 0', column: 17, detail: 'argument "0x" is not a number: record the log with strace -e raw=all' },
    { what: 'an empty argument', line: '28936 read(0x3,, 0x10) = 0', column: 16, detail: 'argument "" is not a number: record the log with strace -e raw=all' },
    {
      what: 'a negative argument',
      line: '28936 read(0x3, -1, 0x10) = 0',
      column: 17,
      detail: 'argument "-1" is not a number: record the log with strace -e raw=all',
    },
    {
      what: 'a bad hex digit',
      line: '28936 read(0x3, 0x1g, 0x10) = 0',
      column: 17,
      detail: 'argument "0x1g" is not a number: record the log with strace -e raw=all',
    },
    { what: 'seven arguments', line: '28936 read(1, 2, 3, 4, 5, 6, 7) = 0', column: 30, detail: '7 arguments; a syscall has at most 6' },
    {
      what: 'a resumed call never begun',
      line: '28936 <... read resumed>) = 0',
      column: 7,
      detail: '"read resumed" with no unfinished read call of process 28936 before it',
    },
    {
      what: 'a hex argument past 64 bits',
      line: '123 read(0x1ffffffffffffffffff, 0x0, 0x0) = 0',
      column: 10,
      detail: 'args[0] 0x1ffffffffffffffffff does not fit (0..18446744073709551615)',
    },
    {
      what: 'a decimal argument past 64 bits',
      line: '123 read(0, 18446744073709551616) = 0',
      column: 13,
      detail: 'args[1] 18446744073709551616 does not fit (0..18446744073709551615)',
    },
    {
      what: 'a 10 MB argument, quoted short',
      line: `1 read(0x${'f'.repeat(10_000_000)}) = 0`,
      column: 8,
      detail: `args[0] 0x${'f'.repeat(38)}… does not fit (0..18446744073709551615)`,
    },
    {
      what: 'a huge decimal argument',
      line: `1 read(${'9'.repeat(1_000_000)}) = 0`,
      column: 8,
      detail: `args[0] ${'9'.repeat(40)}… does not fit (0..18446744073709551615)`,
    },
    {
      what: 'a long unknown name, quoted short',
      line: `1 ${'a'.repeat(100)}() = 0`,
      column: 3,
      detail: `unknown syscall "${'a'.repeat(40)}…" for arch x86_64`,
    },
    {
      what: 'a carriage return inside a line (a file of "\r" line ends)',
      line: '1 read(0x1) = 0\r1 write(0x1) = 1\r',
      column: 16,
      detail: 'a carriage return (\\r) inside a line (lines end with \\n or \\r\\n)',
    },
    { what: 'a U+2028 inside the arguments', line: '1 read(0x1,\u2028 0x2) = 0', column: 12, detail: 'U+2028 inside a line (lines end with \\n or \\r\\n)' },
  ])('rejects $what at its line and column, with one line', ({ line, column, detail }) => {
    const reader = new StraceReader(x86_64);
    const into = new RecordBatchBuilder(1);
    expect(() => reader.line(line, 7, into)).toThrow(ParseError);
    expect(() => reader.line(line, 7, into)).toThrow(expect.objectContaining({ code: 'bad-record', line: 7, column, detail }));
    expect(into.count).toBe(0);
  });

  it('places an error in the resumed part of a joined call on the resumed line', () => {
    const reader = new StraceReader(x86_64);
    const into = new RecordBatchBuilder(1);
    reader.line('5 read(0x1, <unfinished ...>', 3, into);
    expect(() => reader.line('5 <... read resumed>0xzz) = 0', 4, into)).toThrow(
      expect.objectContaining({ line: 4, column: 21, detail: 'argument "0xzz" is not a number: record the log with strace -e raw=all' }),
    );
    reader.line('5 read(0xq, <unfinished ...>', 5, into);
    expect(() => reader.line('5 <... read resumed>0x2) = 0', 6, into)).toThrow(expect.objectContaining({ line: 5, column: 8 }));
  });

  it('reads a log with CRLF line ends as the same log with LF', () => {
    const log = [
      '28936 openat(0xffffff9c, 0x7f11, 0x80000, 0) = 0x3',
      '28936 read(0x3, 0x7ffc <unfinished ...>',
      '28937 --- SIGCHLD {si_signo=SIGCHLD} ---',
      '28936 <... read resumed>, 0x340) = 0x340',
      '',
    ];
    const lf = readLog(log.join('\n'));
    const crlf = readLog(log.join('\r\n'));
    expect(crlf.records).toEqual(lf.records);
    expect(crlf.reader.notSyscalls).toBe(lf.reader.notSyscalls);
    expect(lf.records).toHaveLength(2);
  });
});

describe('cbpf eval on an strace log', () => {
  it('detects the format, evaluates, and reports lines that are no syscall', async () => {
    const log = '100 read(0x3, 0x7ffd, 0x200) = 0x200\n100 --- SIGCHLD {si_signo=SIGCHLD} ---\n100 ptrace(0, 0, 0, 0) = -1 EPERM\n';
    const small = SAMPLE_FILTERS.find((s) => s.name === 'allowlist-small')!.path;
    const run = await runCli(['eval', small, '--records', '-', '--format', 'action'], { stdin: log });
    expect(run).toMatchObject({ code: 0, stdout: 'ALLOW\nKILL_PROCESS\n', stderr: "cbpf: 1 line was not syscalls (signals, exits, strace's notes)\n" });
  });

  itWhenAvailable(straceMissing, 'evaluates a log recorded here from a real command against the Docker-like profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-strace-'));
    const log = join(dir, 'ls.strace');
    execFileSync('strace', ['-f', '-e', 'raw=all', '-o', log, 'ls', '-la', dir], { stdio: 'ignore' });
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const calls = lines.filter((l) => /^(\d+ +)?[a-z_0-9]+\(/.test(l)).length; // strace leaves out the pid while only one process runs
    const summary = execFileSync(
      'node',
      ['bin/cbpf.js', 'eval', SAMPLE_FILTERS.find((s) => s.name === 'docker-linear')!.path, '--records', log, '--summary', '--format', 'json'],
      {
        encoding: 'utf8',
      },
    );
    const result = JSON.parse(summary) as { records: number; actions: Record<string, number>; syscalls: Array<{ nr: string }> };
    expect(result.records).toBe(calls);
    expect(result.syscalls.map((s) => s.nr)).toEqual(expect.arrayContaining(['execve', 'openat', 'read', 'exit_group']));
    expect(result.actions.ALLOW).toBeGreaterThan(0);
  });
});
