import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { assemble } from '../../src/codecs/asm.js';
import { kernelAccepts, kernelDecide } from '../../src/kernel/oracle.js';
import { compareAcceptance, compareDecisions, JIT_FAILED_ERRNO, kernelVerdict } from '../../src/kernel/parity.js';
import { packRecords } from '../../src/seccomp/records.js';
import { runCli } from '../helpers.js';
import { i386Missing, kernelIt } from '../system-deps.js';

const small = SAMPLE_FILTERS.find((s) => s.name === 'allowlist-small')!.path;

describe('the comparisons catch a wrong answer', () => {
  it("take the kernel's errnos as verdicts, but not its JIT's failure to compile an accepted program", () => {
    expect([0, 22, 12].map(kernelVerdict)).toEqual(['accepted', 'EINVAL', 'ENOMEM']);
    expect(kernelVerdict(JIT_FAILED_ERRNO)).toBeUndefined();
    expect(kernelVerdict(-1)).toBeUndefined();
  });

  kernelIt('compareDecisions reports an engine that answers wrongly', () => {
    const program = assemble('ld [nr]\nret a');
    const batch = packRecords([
      { nr: 1, arch: 0xc000003e, instructionPointer: 0n, args: [] },
      { nr: 2, arch: 0xc000003e, instructionPointer: 0n, args: [] },
    ]);
    const mismatches = compareDecisions(kernelDecide(program, batch), batch, { name: 'always 1', decide: (b) => new Uint32Array(b.count).fill(1) });
    expect(mismatches.map((m) => ({ record: m.record, kernel: m.kernel, engine: m.engine }))).toEqual([{ record: 1, kernel: 2, engine: 1 }]);
  });

  kernelIt('compareAcceptance reports a verifier that disagrees', () => {
    const programs = [assemble('ret #0'), assemble('ld [2]\nret a')];
    const kernel = kernelAccepts(programs);
    expect(kernel).toEqual([0, 22]);
    expect(compareAcceptance([programs[1]!, programs[0]!], kernel)).toEqual([
      { index: 0, kernel: 'accepted', verifier: 'EINVAL' },
      { index: 1, kernel: 'EINVAL', verifier: 'accepted' },
    ]);
  });
});

describe('cbpf kernel-check', () => {
  kernelIt('finds the verifier and the interpreter in agreement with the kernel on a sample', async () => {
    const run = await runCli(['kernel-check', small, '--count', '2000']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${small}: verifier accepted, kernel accepted\n  2000 realistic + 200 aimed records: 0 mismatches (interp)\n`);
    // The aimed records are all x86_64 where the kernel would leave i386 ones out (and it says so): none of those is left out.
    expect(run.stdout).not.toMatch(/left out.*i386/);
    if (i386Missing()) expect(run.stderr).toContain('cbpf kernel-check: records aimed at each program are x86_64 only: ');
  });

  kernelIt('reports a filter both reject', async () => {
    const run = await runCli(['kernel-check', 'bad.s'], { files: { 'bad.s': 'ld M[0]\nret a' } });
    expect(run).toMatchObject({ code: 0, stdout: 'bad.s: verifier EINVAL, kernel EINVAL\n' });
  });

  kernelIt('decides the records given, and refuses records it cannot issue', async () => {
    const ok = await runCli(['kernel-check', small, '--records', '-'], { stdin: '{"arch":"x86_64","nr":"read"}\n{"arch":"i386","nr":3}\n' });
    expect(ok.stdout).toContain('2 records: 0 mismatches (interp)');
    // Where the kernel answers i386 syscalls before seccomp, the i386 record is left out, and said to be.
    if (i386Missing()) expect(ok.stdout).toContain("1 records left out: this host's kernel answers i386 syscalls (1 records) before seccomp runs\n");
    else expect(ok.stdout).not.toContain('left out');
    const s390x = await runCli(['kernel-check', small, '--records', '-'], { stdin: '{"arch":"s390x","nr":3}\n' });
    expect(s390x).toMatchObject({ code: 1, stderr: 'cbpf: record 0 is s390x: only x86_64 and i386 records can be issued on an x86-64 host\n' });
  });
});
