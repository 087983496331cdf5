import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers.js';

/** Filters that return what they read: the syscall number, or the arch. */
const RETURN_NR = 'ld [nr]\nret a\n';
const RETURN_ARCH = 'ld [arch]\nret a\n';

describe('cbpf eval on bad or unusual traces', () => {
  it.each([
    {
      what: 'an strace argument past 64 bits (it wrapped to 0xffffffffffffffff)',
      argv: [],
      trace: ['t.strace', '123 read(0x1ffffffffffffffffff, 0x0, 0x0) = 0\n'],
      code: 1,
      stdout: '',
      stderr: 'cbpf: t.strace:1:10: args[0] 0x1ffffffffffffffffff does not fit (0..18446744073709551615)\n',
    },
    {
      what: 'the same, passed over with --skip-bad',
      argv: ['--skip-bad'],
      trace: ['t.strace', '123 read(0x1ffffffffffffffffff, 0x0, 0x0) = 0\n123 write(0x1) = 1\n'],
      code: 0,
      stdout: '0x00000001\n',
      stderr: 'cbpf: skipped 1 bad record (the first: line 1: args[0] 0x1ffffffffffffffffff does not fit (0..18446744073709551615))\n',
    },
    {
      what: 'an strace log with CRLF lines (it was taken for JSON lines)',
      argv: [],
      trace: ['t.strace', '123 read(0x0, 0x0) = 0\r\n124 write(0x1) = 1\r\n'],
      code: 0,
      stdout: '0x00000000\n0x00000001\n',
      stderr: '',
    },
    {
      what: 'a JSON line with a syntax error, at its line and column',
      argv: [],
      trace: ['t.jsonl', '{"nr":"read"}\r\n{"nr":"write",}\r\n'],
      code: 1,
      stdout: '0x00000000\n',
      stderr: 'cbpf: t.jsonl:2:15: not valid JSON: a property must follow ",", not "}"\n',
    },
    {
      what: 'a JSON line whose field is nested 10,000 deep (JSON.stringify overflowed)',
      argv: [],
      trace: ['t.jsonl', `{"nr":${'['.repeat(10_000)}${']'.repeat(10_000)}}\n`],
      code: 1,
      stdout: '',
      stderr: 'cbpf: t.jsonl:1: nr must be an integer (a JSON number up to 2^53, or a decimal or 0x string), got an array\n',
    },
    {
      what: 'a syscall name without an arch, with --arch given (it was "unknown syscall "read" for arch 0x0")',
      argv: ['--arch', 'x86_64'],
      trace: ['t.jsonl', '{"nr":"read"}\n{"nr":"write"}\n'],
      code: 0,
      stdout: '0x00000000\n0x00000001\n',
      stderr: '',
    },
    {
      what: 'a syscall name without an arch, of the default --arch',
      argv: [],
      trace: ['t.jsonl', '{"nr":"openat"}\n'],
      code: 0,
      stdout: '0x00000101\n',
      stderr: '',
    },
    {
      what: 'a record without an arch is of --arch',
      argv: ['--arch', 'i386'],
      trace: ['t.jsonl', '{"nr":"read"}\n{"nr":3}\n{"arch":"x86_64","nr":0}\n'],
      filter: RETURN_ARCH,
      code: 0,
      stdout: '0x40000003\n0x40000003\n0xc000003e\n',
      stderr: '',
    },
  ])('$what', async ({ argv, trace, filter, code, stdout, stderr }) => {
    const [name, text] = trace as [string, string];
    const run = await runCli(['eval', 'f.s', '--records', name, ...argv], { files: { 'f.s': filter ?? RETURN_NR, [name]: text } });
    expect(run).toMatchObject({ code, stdout, stderr });
  });

  it('takes records without an arch as --arch on worker threads too', async () => {
    // Pieces of 256 KiB: about a dozen for the worker threads to read.
    const lines = Array.from({ length: 200_000 }, (_, i) => (i % 3 === 0 ? '{"nr":"read"}' : i % 3 === 1 ? '{"nr":4}' : '{"arch":"x86_64","nr":"read"}'));
    const files = { 'f.s': RETURN_ARCH, 't.jsonl': `${lines.join('\n')}\n` };
    const expected = lines.map((line) => (line.includes('x86_64') ? '0xc000003e' : '0x40000003'));
    for (const workers of ['1', '2']) {
      const run = await runCli(['eval', 'f.s', '--records', 't.jsonl', '--arch', 'i386', '--workers', workers, '--engine', 'interp'], { files });
      expect(run).toMatchObject({ code: 0, stderr: '' });
      const got = run.stdout.split('\n');
      const first = expected.findIndex((value, i) => got[i] !== value);
      expect(first === -1 ? 'all equal' : `record ${first}: ${got[first]}, expected ${expected[first]}`).toBe('all equal');
      expect(got).toHaveLength(expected.length + 1);
    }
  });
});
