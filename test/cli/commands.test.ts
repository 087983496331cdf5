import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { FORMATS } from '../../src/codecs/format-names.js';
import { runCli } from '../helpers.js';

const small = SAMPLE_FILTERS.find((s) => s.name === 'allowlist-small')!.path;

describe('cbpf disasm | cbpf asm', () => {
  it.each(SAMPLE_FILTERS)('gives back the bytes of $name', async ({ path }) => {
    const disasm = await runCli(['disasm', path]);
    expect(disasm.code).toBe(0);
    const asm = await runCli(['asm', '-', '-o', 'g.bpf'], { stdin: disasm.stdout });
    expect(asm.code).toBe(0);
    expect(Buffer.from(asm.files.get('g.bpf')!)).toEqual(readFileSync(path));
  });
});

describe('cbpf convert', () => {
  it.each(FORMATS)('--to %s and back to raw keeps the program', async (to) => {
    const there = await runCli(['convert', small, '--to', to, '-o', 'mid']);
    expect(there.code).toBe(0);
    const back = await runCli(['convert', 'mid', '--input-format', to, '--to', 'raw', '-o', 'end'], { files: { mid: there.files.get('mid')! } });
    expect(back.code).toBe(0);
    expect(Buffer.from(back.files.get('end')!)).toEqual(readFileSync(small));
  });

  it('writes tcpdump -dd lines to standard output', async () => {
    const run = await runCli(['convert', small, '--to', 'c']);
    expect(run.stdout.split('\n')[0]).toBe('{ 0x20, 0, 0, 0x00000004 },');
  });
});

describe('cbpf info', () => {
  it('--json reports arches, syscalls and actions', async () => {
    const run = await runCli(['info', small, '--json']);
    const info = JSON.parse(run.stdout);
    expect(info).toMatchObject({ file: small, format: 'raw', instructions: 20, arches: ['AUDIT_ARCH_X86_64'], returns: { ALLOW: 1, KILL_PROCESS: 1 } });
    expect(info.syscalls.x86_64).toContain('openat');
    expect(info.kernelCache).toMatchObject([{ arch: 'x86_64', missed: [] }]);
    expect(info.kernelCache[0].cached).toEqual([
      'read',
      'write',
      'close',
      'fstat',
      'mmap',
      'munmap',
      'brk',
      'rt_sigreturn',
      'exit',
      'futex',
      'exit_group',
      'openat',
    ]);
  });

  it("says which syscalls the kernel's cache lets skip the filter, and why others it always allows miss it", async () => {
    const filter = 'ld [nr]\njeq #read, check\njeq #write, allow\nret ERRNO(1)\ncheck: ld [args[0].lo]\nallow: ret ALLOW\n';
    const run = await runCli(['info', '-'], { stdin: filter });
    expect(run.stdout.split('\n').slice(-5)).toEqual([
      'kernel action cache (Linux 5.11+; cached syscalls skip the filter):',
      '  x86_64: 1 of 368 syscalls cached',
      "  x86_64: 1 syscall always allowed but not cached: the kernel's emulation stops at pc 4 (ld [16])",
      '  read',
      '',
    ]);
  });

  it('reports no cache for a filter the kernel would reject', async () => {
    const run = await runCli(['info', '-', '--input-format', 'ddd'], { stdin: '1\n21 0 0 0\n' });
    expect(run.stdout).toContain('kernel action cache: none (the kernel would reject this filter; see cbpf verify)\n');
    expect(JSON.parse((await runCli(['info', '-', '--input-format', 'ddd', '--json'], { stdin: '1\n21 0 0 0\n' })).stdout)).not.toHaveProperty('kernelCache');
  });
});

describe('the cbpf executable', () => {
  const cbpf = (args: string[], input?: Buffer) => spawnSync('node', ['bin/cbpf.js', ...args], { input, encoding: 'buffer' });

  it('prints its version and help with exit 0', () => {
    expect(cbpf(['--version']).stdout.toString()).toMatch(/^cbpf \d+\.\d+\.\d+\n$/);
    expect(cbpf(['--help']).status).toBe(0);
  });

  it('answers bad input with one line and exit 1, never a stack trace', () => {
    const run = cbpf(['disasm', '-'], Buffer.from([1, 2, 3]));
    expect(run.status).toBe(1);
    expect(run.stderr.toString()).toBe('cbpf: <stdin>: raw input is 3 bytes, not a multiple of 8 (sizeof struct sock_filter): 3 trailing bytes\n');
  });

  it('answers a bad command line with exit 2', () => {
    expect(cbpf(['disasm']).status).toBe(2);
  });

  it('stops quietly with exit 0 when its reader goes away (| head)', () => {
    const run = spawnSync(
      'bash',
      [
        '-c',
        `node bin/cbpf.js eval ${small} --records - --format action < <(yes '{"arch":"x86_64","nr":"read"}' | head -200000) | head -1; echo "status \${PIPESTATUS[0]}"`,
      ],
      { encoding: 'utf8' },
    );
    expect(run.stdout).toBe('ALLOW\nstatus 0\n');
    expect(run.stderr).toBe('');
  });

  it('writes -o files and pipes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-cli-'));
    const out = join(dir, 'g.bpf');
    const text = execFileSync('node', ['bin/cbpf.js', 'disasm', small]);
    execFileSync('node', ['bin/cbpf.js', 'asm', '-', '-o', out], { input: text });
    expect(readFileSync(out)).toEqual(readFileSync(small));
  });
});
