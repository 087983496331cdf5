import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { interpretStack } from '../../interp/stack.js';
import { compile } from '../../jit/compiled.js';
import { diffStacks } from '../../src/analysis/diff.js';
import { diffWithSolverFallback } from '../../src/analysis/solver.js';
import { assemble } from '../../src/codecs/asm.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { biasedRecords, generateProgram, mutateProgram } from '../../src/fuzz/programs.js';
import { seededRandom } from '../../src/fuzz/random.js';
import type { Instruction } from '../../src/instruction.js';
import { kernelDecide } from '../../src/kernel/oracle.js';
import { resolveStack } from '../../src/seccomp/actions.js';
import { byteOrderOfAuditArch, encodeSeccompData, packRecords } from '../../src/seccomp/records.js';
import { type VerifiedProgram, verify } from '../../src/verifier.js';
import { runCli } from '../helpers.js';
import { i386Missing, kernelIt } from '../system-deps.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const samplePath = (name: string): string => SAMPLE_FILTERS.find((s) => s.name === name)!.path;
const program = (name: string): Instruction[] => decodeRaw(readFileSync(samplePath(name)));

/**
 * `insns` with a `ja 0` (a jump to the next instruction) inserted before pc
 * `at`, every jump across it lengthened by one: the same filter, laid out
 * differently. Undefined where a conditional jump would need more than 255.
 */
function withNoOpAt(insns: readonly Instruction[], at: number): Instruction[] | undefined {
  const out: Instruction[] = [];
  for (const [pc, insn] of insns.entries()) {
    if (pc === at) out.push({ code: 0x05, jt: 0, jf: 0, k: 0 });
    if (pc >= at) {
      out.push(insn);
      continue;
    }
    const crosses = (offset: number) => (pc + 1 + offset >= at ? offset + 1 : offset);
    if (insn.code === 0x05) out.push({ ...insn, k: crosses(insn.k) });
    else if ((insn.code & 0x07) === 0x05) {
      const [jt, jf] = [crosses(insn.jt), crosses(insn.jf)];
      if (jt > 255 || jf > 255) return undefined;
      out.push({ ...insn, jt, jf });
    } else out.push(insn);
  }
  return out;
}

describe('diff: equivalence is a proof over every record', () => {
  it('proves the Docker-like sample equivalent in its linear and tree layouts', () => {
    const result = diffStacks([verify(program('docker-linear'))], [verify(program('docker-tree'))]);
    expect({ equivalent: result.equivalent, differences: result.differences.length }).toEqual({ equivalent: true, differences: 0 });
  });

  it('proves generated programs equivalent to a re-layout of themselves, by the solver where the diagrams grow too large', async () => {
    const random = seededRandom(25);
    const seen = { proved: 0, bySolver: 0 };
    for (let n = 0; n < 60; n++) {
      const original = generateProgram(random);
      const relaid = withNoOpAt(original, Math.floor(random() * original.length));
      if (!relaid) continue;
      const result = await diffWithSolverFallback([verify(original)], [verify(relaid)]);
      expect(result.equivalent, `program ${n}`).toBe(true);
      seen.proved++;
      if (result.by === 'solver') seen.bySolver++;
    }
    expect(seen.proved).toBeGreaterThan(40);
    // Programs that multiply or divide record words (several of every 60) need the solver.
    expect(seen.bySolver).toBeGreaterThan(0);
  }, 120_000);

  it('says equivalent exactly when no aimed record tells two generated programs apart, and every record it shows does', async () => {
    const random = seededRandom(2512);
    const seen = { equivalent: 0, different: 0, bySolver: 0 };
    for (let n = 0; n < 40; n++) {
      const a = generateProgram(random);
      const b = n % 2 === 0 ? mutateProgram(a, random) : generateProgram(random);
      let filters: [VerifiedProgram, VerifiedProgram];
      try {
        filters = [verify(a), verify(b)];
      } catch {
        continue; // a mutant the kernel would refuse: nothing to compare
      }
      const result = await diffWithSolverFallback([filters[0]], [filters[1]], { max: 5 });
      if (result.by === 'solver') seen.bySolver++;
      const records = biasedRecords([...a, ...b], random, 10_000, 'any');
      const [jitA, jitB] = [compile([filters[0]]), compile([filters[1]])];
      const told = records.some((r) => {
        const bytes = encodeSeccompData(r);
        const order = byteOrderOfAuditArch(r.arch);
        return interpretStack([filters[0]], bytes, order).value !== interpretStack([filters[1]], bytes, order).value;
      });
      // Equivalent means no record differs; a difference the records missed is fine, but it must be real.
      if (result.equivalent) expect(told, `program pair ${n}: equivalent, yet a record tells them apart`).toBe(false);
      else expect(result.differences.length).toBeGreaterThan(0);
      for (const d of result.differences) {
        const order = byteOrderOfAuditArch(d.arch);
        const values = [interpretStack([filters[0]], d.bytes, order).value, interpretStack([filters[1]], d.bytes, order).value];
        const jitted = order === 'le' ? [jitA.decide(d.bytes), jitB.decide(d.bytes)] : values;
        expect({ values, jitted }, `program pair ${n}`).toEqual({ values: [d.a, d.b], jitted: [d.a, d.b] });
        expect(d.a).not.toBe(d.b);
      }
      seen[result.equivalent ? 'equivalent' : 'different']++;
    }
    expect(seen.equivalent).toBeGreaterThan(0);
    expect(seen.different).toBeGreaterThan(0);
  }, 120_000);
});

/** Planted generator bugs: each a broken copy of a sample. */
const PLANTED: readonly { name: string; original: () => Instruction[]; broken: (insns: Instruction[]) => Instruction[] }[] = [
  {
    name: 'the arch check dropped',
    original: () => program('allowlist-small'),
    // `jeq #AUDIT_ARCH_X86_64, 0, kill` falls through either way.
    broken: (insns) => insns.map((insn, pc) => (pc === 1 ? { ...insn, jf: insn.jt } : insn)),
  },
  {
    name: 'a 64-bit argument checked on its low half only',
    original: () => program('multiarch'),
    // socket's args[0].hi == 0 check (pc 31) goes on to the low half either way.
    broken: (insns) => insns.map((insn, pc) => (pc === 31 ? { ...insn, jf: insn.jt } : insn)),
  },
  {
    name: 'a jge emitted as jgt (the CVE-2019-9893 class)',
    original: () => program('docker-tree'),
    broken: (insns) => {
      const at = insns.findIndex((insn) => insn.code === 0x35);
      return insns.map((insn, pc) => (pc === at ? { ...insn, code: 0x25 } : insn));
    },
  },
  {
    name: 'a jump offset truncated mod 256',
    // read jumps over 300 returns to ALLOW; truncated, the jump lands on one of them.
    original: () =>
      assemble(
        [
          'ld [arch]',
          'jeq #AUDIT_ARCH_X86_64, x86, kill',
          'kill: ret KILL_PROCESS',
          'x86: ld [nr]',
          'jeq #read, far, other',
          'far: ja allow',
          'other: ret ERRNO(1)',
          ...Array.from({ length: 300 }, () => 'ret ERRNO(2)'),
          'allow: ret ALLOW',
        ].join('\n'),
      ),
    broken: (insns) => insns.map((insn) => (insn.code === 0x05 && insn.k >= 256 ? { ...insn, k: insn.k % 256 } : insn)),
  },
];

describe('diff finds planted generator bugs, with records the live kernel confirms', () => {
  for (const planted of PLANTED) {
    kernelIt(`finds ${planted.name}`, (context) => {
      const original = planted.original();
      const broken = planted.broken([...original]);
      expect(broken).not.toEqual(original);
      const result = diffStacks([verify(original)], [verify(broken)], { arches: [X86_64, I386], max: 5 });
      expect(result.equivalent).toBe(false);
      const issuable = result.differences.filter((d) => d.record.arch !== I386 || !i386Missing());
      if (issuable.length === 0) context.skip(`the kernel cannot confirm: every difference is an i386 record, and ${i386Missing()}`);
      const kernel = (insns: Instruction[]) => kernelDecide(insns, packRecords(issuable.map((d) => d.record)));
      const [before, after] = [kernel(original), kernel(broken)];
      const confirmed = issuable.filter((d, i) => !before.bypassed[i] && resolveStack([before.values[i]!]) === d.a && resolveStack([after.values[i]!]) === d.b);
      expect(confirmed.length, JSON.stringify(issuable.map((d) => d.record.nr))).toBeGreaterThan(0);
    });
  }
});

describe('cbpf diff', () => {
  it('exits 0 and says so for equivalent filters, 1 with a record per difference otherwise', async () => {
    const same = await runCli(['diff', samplePath('docker-linear'), samplePath('docker-tree')]);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/are equivalent: they decide every record alike/);
    const differ = await runCli(['diff', samplePath('multiarch'), samplePath('allowlist-small'), '--max', '2', '--json']);
    expect(differ.code).toBe(1);
    const report = JSON.parse(differ.stdout) as { equivalent: boolean; differences: { arch: string; syscall: string; record: object; a: number; b: number }[] };
    expect(report.equivalent).toBe(false);
    expect(report.differences.map((d) => `${d.arch} ${d.syscall}`)).toEqual(['x32 read', 'x32 write']);
    expect(report.differences[0]!.record).toEqual({ arch: 'x86_64', nr: 0x40000000, ip: '0x0', args: [0, 0, 0, 0, 0, 0] });
  });

  it('compares stacks given with --a and --b', async () => {
    const run = await runCli([
      'diff',
      '--a',
      samplePath('docker-linear'),
      '--a',
      samplePath('allowlist-small'),
      '--b',
      samplePath('allowlist-small'),
      '--b',
      samplePath('docker-tree'),
    ]);
    expect(run.stdout).toMatch(/are equivalent/);
    expect(run.code).toBe(0);
  });

  it.each([
    [['diff', 'a.bpf'], 'diff takes two FILEs (A B), got 1'],
    [['diff', '--a', 'a.bpf'], 'diff needs both --a FILE... and --b FILE...'],
  ])('refuses %j', async (argv, message) => {
    const run = await runCli(argv);
    expect({ code: run.code, first: run.stderr.split('\n')[0] }).toEqual({ code: 2, first: `cbpf: ${message}` });
  });
});
