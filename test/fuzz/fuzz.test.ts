import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpreterEngine } from '../../interp/engines.js';
import { jitEngine } from '../../jit/compiled.js';
import { assemble } from '../../src/codecs/asm.js';
import { codecTarget, engineTarget, failureAsCase, iterationRandom, kernelTarget, runFuzz, verifierTarget } from '../../src/fuzz/differential.js';
import { biasedRecords } from '../../src/fuzz/programs.js';
import { seededRandom } from '../../src/fuzz/random.js';
import { kernelAccepts } from '../../src/kernel/oracle.js';
import { JIT_FAILED_ERRNO } from '../../src/kernel/parity.js';
import { packRecords } from '../../src/seccomp/records.js';
import { verify } from '../../src/verifier.js';
import { loadCorpus } from '../conformance/corpus.js';
import { runCli } from '../helpers.js';
import { kernelIt } from '../system-deps.js';
import { faultyEngine } from './faulty-interpreter.js';

const jit = () => engineTarget('jit', interpreterEngine, jitEngine, { maxStack: 8, records: 40, anyArch: true, shrinkBudget: 5000 });

describe('records aimed at a program', () => {
  const program = assemble('ld [4]\njeq #0x40000028, allow, next\nnext: ld [0]\njeq #7, allow, kill\nkill: ret KILL_PROCESS\nallow: ret ALLOW');
  const arches = (given?: readonly number[] | 'any') => new Set(biasedRecords(program, seededRandom(3), 2000, given).map((r) => r.arch));

  it('are x86_64 or i386 by default, of the arches given, or of any arch and the constants the program compares', () => {
    expect(arches()).toEqual(new Set([0xc000003e, 0x40000003]));
    expect(arches([0xc000003e])).toEqual(new Set([0xc000003e]));
    expect(arches('any')).toContain(7); // a constant the program compares with, though no arch's
    expect(arches('any').size).toBeGreaterThan(5);
  });
});

describe('a fixed-seed fuzz run, as npm test runs it', () => {
  it('finds no disagreement between the JIT and the interpreter, or in any codec', () => {
    const report = runFuzz([jit(), codecTarget()], 2026, { runs: 21 * 12 });
    expect(report.failure?.report).toBeUndefined();
    expect(report.stats.jit!.programs).toBeGreaterThan(12);
    expect(report.stats.codec!.programs).toBe(240);
  }, 120_000);

  kernelIt(
    'finds no disagreement between the interpreter, the verifier and the kernel',
    () => {
      const report = runFuzz([kernelTarget(interpreterEngine), verifierTarget()], 2026, { runs: 40 });
      expect(report.failure?.report).toBeUndefined();
      // Records compared with the kernel's decisions: all it was sent (x86_64 only where it cannot decide i386 ones).
      expect(report.stats.kernel!.records).toBeGreaterThan(500);
      expect(report.stats.verifier!.programs).toBe(1000);
    },
    120_000,
  );

  kernelIt("does not count a program the kernel's BPF JIT could not compile as compared", () => {
    // Seed 4037694038, iteration 1193: 50 programs, among them this one, which Linux 6.18's x86 JIT fails on (ENOTSUPP).
    const refused = assemble(
      'ld #819\nst M[8]\nld #0x9392b40a\nst M[1]\njeq #0x4000002b, 40, 14\nld [24]\nld [52]\nst M[10]\nldx M[8]\nlsh #17\nldx M[1]\n' +
        'jgt #0x40000008, 34, 38\njgt x, 36, 36\nret a\nld [48]\nldx M[8]\nmul x\njeq #181, 23, 21\njge #0x400000a9, 26, 39\nret #0x584cb\n' +
        'jge x, 36, 40\nld #38519\nld [48]\nld [16]\nld [24]\nld [0]\nld #171\njset #322, 28, 31\njset x, 36, 33\nrsh #23\nlsh #2\n' +
        'ld [60]\nld M[1]\nld [56]\njset x, 37, 39\nret #0x7ffc2126\njge #0x3a9ad0c2, 39, 39\nst M[10]\nldx #len\nld [16]\nret #0x80000000',
    );
    const jitFails = kernelAccepts([refused])[0] === JIT_FAILED_ERRNO;
    const outcome = verifierTarget().iterate(iterationRandom(4037694038, 1193));
    expect(outcome.failure).toBeUndefined();
    expect(outcome.programs).toBe(jitFails ? 49 : 50);
  });

  it('replays exactly from its seed', () => {
    const a = runFuzz([jit(), codecTarget()], 77, { runs: 42 });
    const b = runFuzz([jit(), codecTarget()], 77, { runs: 42 });
    expect(b.stats).toEqual(a.stats);
  }, 60_000);
});

describe('a failure', () => {
  it('is written as a conformance case that the corpus loader reads, expecting the reference value', () => {
    const report = runFuzz(
      [engineTarget('planted', interpreterEngine, faultyEngine('tax-txa-swapped'), { maxStack: 1, records: 40, anyArch: true, shrinkBudget: 5000 })],
      1,
      { runs: 500 },
    );
    const text = failureAsCase(report.failure!)!;
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-fuzz-case-'));
    writeFileSync(join(dir, 'found.cases'), text);
    const [loaded] = loadCorpus(`${dir}/`);
    const filters = loaded!.programs.map((p) => verify(p));
    expect([...interpreterEngine(filters).decide(packRecords(loaded!.records))]).toEqual(loaded!.expected);
    expect([...faultyEngine('tax-txa-swapped')(filters).decide(packRecords(loaded!.records))]).not.toEqual(loaded!.expected);
  });
});

describe('cbpf fuzz', () => {
  it('prints its seed and a line per target, and exits 0 when all agree', async () => {
    const run = await runCli(['fuzz', '--runs', '40', '--seed', '5', '--target', 'codec']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('cbpf fuzz: seed 5, targets codec, 40 iterations\n');
    expect(run.stdout).toBe('codec             40 programs           0 records  0 mismatches\n');
  });

  it.each([
    [['fuzz', '--seconds', '1', '--runs', '2'], 'fuzz: give --seconds or --runs, not both'],
    [['fuzz', 'file'], 'fuzz takes no FILE, got 1'],
    [['fuzz', '--target', 'gvisor'], '--target: unknown value "gvisor" (one of jit, decide, table, standalone, kernel, verifier, codec, profile, inputs, all)'],
  ])('rejects %j', async (argv, message) => {
    const run = await runCli(argv);
    expect(run).toMatchObject({ code: 2, stderr: `cbpf: ${message}\nTry 'cbpf fuzz --help'.\n` });
  });
});
