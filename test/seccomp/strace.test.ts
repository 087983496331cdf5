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
  lines.forEach((line, i) => reader.line(line, i + 1, into));
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
    expect(records.map((r) => [r.nr, r.args[0]])).toEqual([[233, 0x9n], [202, 0x196b22f0n], [61, 0xffffffffn]]);
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
    expect(records.map((r) => [r.arch.toString(16), r.nr])).toEqual([['40000003', 3], ['c000003e', 0], ['c000003e', 0x1c8]]);
    expect(reader.notSyscalls).toBe(3);
  });

  it('reads raw arguments of any width, hex or decimal, as BigInt would, cut to 64 bits (32 on a 32-bit arch)', () => {
    const hex = fc.bigInt({ min: 0n, max: (1n << 80n) - 1n }).chain((n) => fc.constantFrom(`0x${n.toString(16)}`, `0X${n.toString(16).toUpperCase()}`, `0x000${n.toString(16)}`));
    const decimal = fc.bigInt({ min: 0n, max: (1n << 70n) - 1n }).map((n) => n.toString());
    fc.assert(
      fc.property(fc.array(fc.oneof(hex, decimal), { maxLength: 6 }), fc.boolean(), fc.boolean(), (args, i386, spaced) => {
        const reader = new StraceReader(i386 ? archByName('i386')! : x86_64);
        const into = new RecordBatchBuilder(1);
        reader.line(`100 write(${args.join(spaced ? ' ,  ' : ', ')})   = 0x1`, 1, into);
        const batch = into.take();
        const record = decodeSeccompData(batch.bytes, recordByteOrder(batch, 0));
        const mask = i386 ? 0xffffffffn : (1n << 64n) - 1n;
        expect(record.args).toEqual([...args.map((a) => BigInt(a) & mask), ...Array<bigint>(6 - args.length).fill(0n)]);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['28936 bogus(0x1) = 0', /unknown syscall "bogus" for arch x86_64/],
    ['28936 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3', /argument "AT_FDCWD" is not a number: record the log with strace -e raw=all/],
    ['28936 read(0x3, 0x, 0x10) = 0', /argument "0x" is not a number/],
    ['28936 read(0x3,, 0x10) = 0', /argument "" is not a number/],
    ['28936 read(0x3, -1, 0x10) = 0', /argument "-1" is not a number/],
    ['28936 read(0x3, 0x1g, 0x10) = 0', /argument "0x1g" is not a number/],
    ['28936 read(1, 2, 3, 4, 5, 6, 7) = 0', /7 arguments; a syscall has at most 6/],
    ['28936 <... read resumed>) = 0', /"read resumed" with no unfinished read call of process 28936/],
  ])('rejects %j with a reason', (line, message) => {
    const reader = new StraceReader(x86_64);
    const into = new RecordBatchBuilder(1);
    expect(() => reader.line(line, 7, into)).toThrow(ParseError);
    expect(() => reader.line(line, 7, into)).toThrow(message);
    expect(into.count).toBe(0);
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
    const summary = execFileSync('node', ['bin/cbpf.js', 'eval', SAMPLE_FILTERS.find((s) => s.name === 'docker-linear')!.path, '--records', log, '--summary', '--format', 'json'], {
      encoding: 'utf8',
    });
    const result = JSON.parse(summary) as { records: number; actions: Record<string, number>; syscalls: Array<{ nr: string }> };
    expect(result.records).toBe(calls);
    expect(result.syscalls.map((s) => s.nr)).toEqual(expect.arrayContaining(['execve', 'openat', 'read', 'exit_group']));
    expect(result.actions.ALLOW).toBeGreaterThan(0);
  });
});
