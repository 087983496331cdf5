import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../bench/samples.js';
import { assemble } from '../src/codecs/asm.js';
import { decodeRaw, encodeRaw } from '../src/codecs/raw.js';
import { formatAsm } from '../src/disasm.js';
import { archByName } from '../src/seccomp/arches.js';
import { syscallName } from '../src/seccomp/syscalls.js';
import { summarizeProgram } from '../src/summary.js';
import { itWhenAvailable, libseccompMissing } from './system-deps.js';

const x86_64 = archByName('x86_64')!;
const load = (path: string) => readFileSync(path);

describe.each(SAMPLE_FILTERS)('sample $name', ({ path }) => {
  it('disassembles to text that assembles back to identical bytes, in both styles', () => {
    const bytes = load(path);
    for (const style of ['pcs', 'labels'] as const) {
      expect(Buffer.from(encodeRaw(assemble(formatAsm(decodeRaw(bytes), { style }))))).toEqual(bytes);
    }
  });

  it('shows syscall names and actions in the disassembly', () => {
    const text = formatAsm(decodeRaw(load(path)));
    expect(text).toMatch(/ld \[4\] +; A = arch/);
    expect(text).toMatch(/jeq #0xc000003e, \d+, \d+ +; AUDIT_ARCH_X86_64/);
    expect(text).toMatch(/jeq #0, \d+, \d+ +; read/);
    expect(text).toMatch(/ret #0x7fff0000 +; ALLOW/);
  });
});

describe('what the samples contain', () => {
  const summary = (name: string) => summarizeProgram(decodeRaw(load(SAMPLE_FILTERS.find((s) => s.name === name)!.path)), x86_64);

  it('docker-linear allows ~300 x86_64 syscalls and denies with ERRNO(EPERM)', () => {
    const s = summary('docker-linear');
    expect(s.syscalls.x86_64!.length).toBeGreaterThan(290);
    expect(s.returns['ERRNO(1)']).toBe(1);
  });

  it('multiarch checks x86_64 and i386, and names x32 calls apart', () => {
    const s = summary('multiarch');
    expect(s.arches).toEqual(['AUDIT_ARCH_X86_64', 'AUDIT_ARCH_I386']);
    expect(Object.keys(s.syscalls).sort()).toEqual(['i386', 'x32', 'x86_64']);
    expect(s.syscalls.i386).toContain('socketcall');
  });

  itWhenAvailable(libseccompMissing, 'are what scripts/gen-samples.sh makes', () => {
    const out = mkdtempSync(join(tmpdir(), 'cbpf-samples-'));
    execFileSync('bash', ['scripts/gen-samples.sh', out], { stdio: 'pipe' });
    for (const { path } of SAMPLE_FILTERS) {
      expect(readFileSync(join(out, path.split('/').at(-1)!))).toEqual(load(path));
    }
  });
});

describe('the trace generator', () => {
  it('is deterministic per seed and draws x86_64 records from the mix', async () => {
    const { generateRecords, REALISTIC_MIX } = await import('../src/fuzz/traces.js');
    const a = generateRecords(1000, 'realistic', 7);
    expect(a).toEqual(generateRecords(1000, 'realistic', 7));
    expect(a).not.toEqual(generateRecords(1000, 'realistic', 8));
    const view = new DataView(a.buffer);
    const names = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      expect(view.getUint32(i * 64 + 4, true)).toBe(0xc000003e);
      names.add(syscallName(x86_64, view.getUint32(i * 64, true))!);
    }
    expect([...names].every((n) => REALISTIC_MIX.some(([m]) => m === n))).toBe(true);
    expect(names.size).toBeGreaterThan(20);
  });
});
