import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { packageRoot } from '../../src/package-root.js';

const filter = SAMPLE_FILTERS.find((s) => s.name === 'docker-linear')!.path;
const dir = mkdtempSync(join(tmpdir(), 'cbpf-output-'));
const trace = join(dir, 'trace.jsonl');
writeFileSync(trace, Array.from({ length: 3000 }, (_, i) => `{"arch":"x86_64","nr":${i % 400}}\n`).join(''));

/** Runs the real cbpf process with standard output going to `stdout` (a path). */
function run(args: string[], stdout = '/dev/null') {
  const fd = openSync(stdout, 'w');
  return spawnSync('node', [join(packageRoot(), 'bin', 'cbpf.js'), ...args], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
}

describe.skipIf(!existsSync('/dev/full'))('a write that fails (a full disk, /dev/full) is one line and exit 1', () => {
  it.each([
    { what: 'eval -o FILE', args: ['eval', filter, '--records', trace, '-o', '/dev/full'], error: 'cbpf: /dev/full: no space left on device' },
    { what: 'eval --out FILE', args: ['eval', filter, '--records', trace, '--out', '/dev/full'], error: 'cbpf: /dev/full: no space left on device' },
    {
      what: 'eval --out FILE with --summary',
      args: ['eval', filter, '--records', trace, '--summary', '--out', '/dev/full'],
      error: 'cbpf: /dev/full: no space left on device',
    },
    { what: 'disasm -o FILE', args: ['disasm', filter, '-o', '/dev/full'], error: 'cbpf: /dev/full: no space left on device' },
    { what: 'convert -o FILE', args: ['convert', filter, '--to', 'c', '-o', '/dev/full'], error: 'cbpf: /dev/full: no space left on device' },
    {
      what: "eval's lines on standard output",
      args: ['eval', filter, '--records', trace],
      stdout: '/dev/full',
      error: 'cbpf: standard output: no space left on device',
    },
    {
      what: "eval's lines on -o -",
      args: ['eval', filter, '--records', trace, '-o', '-'],
      stdout: '/dev/full',
      error: 'cbpf: standard output: no space left on device',
    },
    { what: "disasm's text on standard output", args: ['disasm', filter], stdout: '/dev/full', error: 'cbpf: standard output: no space left on device' },
  ])('$what', ({ args, stdout, error }) => {
    const result = run(args, stdout);
    expect(result.stderr).toBe(`${error}\n`);
    expect(result.status).toBe(1);
  });
});

describe('- as an output is standard output', () => {
  it.each([
    { what: 'eval -o -', args: ['-o', '-'], bytes: 3000 * 11 },
    { what: 'eval --out -', args: ['--out', '-'], bytes: 3000 * 4 },
  ])('$what', ({ args, bytes }) => {
    const out = join(dir, `${args[0]}.out`);
    const result = run(['eval', filter, '--records', trace, ...args], out);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readFileSync(out).length).toBe(bytes);
    expect(existsSync(join(process.cwd(), '-'))).toBe(false);
  });
});
