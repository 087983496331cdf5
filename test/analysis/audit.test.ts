import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { interpretStack } from '../../interp/stack.js';
import { auditStack } from '../../src/analysis/audit.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import type { Instruction } from '../../src/instruction.js';
import { byteOrderOfAuditArch, encodeSeccompData, type SeccompData } from '../../src/seccomp/records.js';
import { verify } from '../../src/verifier.js';
import { runCli } from '../helpers.js';

const samplePath = (name: string): string => SAMPLE_FILTERS.find((s) => s.name === name)!.path;
const program = (name: string): Instruction[] => decodeRaw(readFileSync(samplePath(name)));
const audit = (insns: Instruction[]) => auditStack([verify(insns)]);
const decide = (insns: Instruction[], r: SeccompData): number => interpretStack([verify(insns)], encodeSeccompData(r), byteOrderOfAuditArch(r.arch)).value;

describe('audit of the samples finds what reading them shows', () => {
  it('finds nothing in allowlist-small: the arch is checked, x32 numbers are killed, and everything unlisted kills the process', () => {
    expect(audit(program('allowlist-small'))).toEqual([]);
  });

  it('finds, in multiarch, x32 socket and personality compared on the low half of args[0], and i386 socketcall around socket', () => {
    const findings = audit(program('multiarch'));
    expect(findings.map((f) => [f.severity, f.kind, f.message.split(':')[0]])).toEqual([
      ['medium', 'low-half-only', 'x86_64 x32 socket'],
      ['medium', 'low-half-only', 'x86_64 x32 personality'],
      ['medium', 'socketcall-bypass', 'i386'],
    ]);
    // i386 socket denies AF_VSOCK, but socketcall(SYS_SOCKET, ...) is allowed, and its arguments are in memory no filter reads.
    expect(findings[2]!.record).toMatchObject({ arch: 0x40000003, nr: 102, args: [1n, 0n, 0n, 0n, 0n, 0n] });
    // libseccomp reads x32 as a 32-bit ABI; the kernel passes all 64 bits. The record's high half is 1, and it decides as without it.
    for (const { record } of findings.slice(0, 2)) {
      const low = { ...record!, args: record!.args.map((a) => a & 0xffffffffn) };
      expect(record!.args[0]! >> 32n).toBe(1n);
      expect(decide(program('multiarch'), record!)).toBe(decide(program('multiarch'), low));
    }
  });

  it.each(['docker-linear', 'docker-tree'])('finds io_uring allowed, x32 numbers killing a thread only, and an unreachable instruction in %s', (name) => {
    const findings = audit(program(name));
    // Docker 20.10's profile allowed io_uring_setup whatever its arguments (later releases removed it); libseccomp answers a
    // number of a foreign ABI (x32) with KILL_THREAD; and it emits one instruction no jump reaches.
    expect(findings.map((f) => [f.severity, f.kind])).toEqual([
      ['medium', 'dangerous-allowed'],
      ['low', 'kill-thread-default'],
      ['low', 'unreachable'],
    ]);
    expect(findings[0]!.record?.nr).toBe(425); // io_uring_setup
  });
});

describe('audit finds planted generator bugs it can see in one filter', () => {
  it('an arch check dropped: every arch reaches the x86_64 rules', () => {
    const broken = program('allowlist-small').map((insn, pc) => (pc === 1 ? { ...insn, jf: insn.jt } : insn));
    const findings = audit(broken);
    expect(findings.filter((f) => f.kind === 'arch-unchecked').map((f) => f.severity)).toContain('high');
    const shown = findings.find((f) => f.record !== undefined && f.kind === 'arch-unchecked')!.record!;
    expect(shown.arch).not.toBe(0xc000003e);
    expect(decide(broken, shown)).toBe(0x7fff0000);
  });

  it('a 64-bit argument checked on its low half only', () => {
    const broken = program('multiarch').map((insn, pc) => (pc === 31 ? { ...insn, jf: insn.jt } : insn));
    expect(audit(broken).map((f) => f.message.split(':')[0])).toContain('x86_64 socket');
  });
});

describe('cbpf audit', () => {
  it('exits 1 at --fail-on or above, 0 below, and prints one JSON object per finding', async () => {
    expect((await runCli(['audit', samplePath('docker-linear')])).code).toBe(0);
    const medium = await runCli(['audit', samplePath('docker-linear'), '--fail-on', 'medium']);
    expect({ code: medium.code, stderr: medium.stderr }).toEqual({ code: 1, stderr: 'cbpf: 1 finding of severity medium or above\n' });
    // x32's low halves are medium (the kernel reads socket's and personality's int arguments as 32 bits): exit 0 at the default --fail-on high.
    expect((await runCli(['audit', samplePath('multiarch')])).code).toBe(0);
    const json = await runCli(['audit', samplePath('multiarch'), '--json', '--fail-on', 'medium']);
    expect(json.code).toBe(1);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { kind: string }).kind),
    ).toEqual(['low-half-only', 'low-half-only', 'socketcall-bypass']);
  });
});
