import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../bench/samples.js';
import { interpret } from '../interp/interpret.js';
import { type CacheOutcome, kernelActionCache, kernelCacheOutcome } from '../src/action-cache.js';
import { assemble } from '../src/codecs/asm.js';
import { decodeRaw } from '../src/codecs/raw.js';
import { constantValue } from '../src/decision-table.js';
import { biasedRecords, generateProgram } from '../src/fuzz/programs.js';
import { seededRandom } from '../src/fuzz/random.js';
import { ACTIONS } from '../src/seccomp/actions.js';
import { archByName } from '../src/seccomp/arches.js';
import { byteOrderOfAuditArch, encodeSeccompData } from '../src/seccomp/records.js';
import { type VerifiedProgram, VerifyError, verify } from '../src/verifier.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const filter = (text: string) => verify(assemble(text));
const sample = (name: string) => verify(decodeRaw(readFileSync(SAMPLE_FILTERS.find((s) => s.name === name)!.path)));
/** The value an outcome says the filter returns; undefined where the emulation gave up. */
const outcomeValue = (outcome: CacheOutcome) => (outcome.kind === 'cached' ? ACTIONS.ALLOW : outcome.kind === 'returns' ? outcome.value : undefined);

/** An allowlist of read (0) and write (1) on x86_64; ALLOW with data for openat (257); close (3) checks its argument. */
const ALLOWLIST = filter(`
  ld [arch]
  jne #AUDIT_ARCH_X86_64, kill
  ld [nr]
  jeq #read, allow
  jeq #write, allow
  jeq #openat, noted
  jeq #close, check
  ret ERRNO(1)
  check: ld [args[0].lo]
  jeq #0, allow
  ret ERRNO(9)
  allow: ret ALLOW
  noted: ret #0x7fff0001
  kill: ret KILL_PROCESS`);

describe('kernelCacheOutcome: the kernel emulation of a filter for one syscall', () => {
  it.each([
    ['a syscall the filter allows by arch and nr', X86_64, 0, { kind: 'cached' }],
    ['another value, at the return that gives it', X86_64, 2, { kind: 'returns', pc: 7, value: ACTIONS.ERRNO | 1 }],
    ['ALLOW with data, which is not exactly ALLOW', X86_64, 257, { kind: 'returns', pc: 12, value: 0x7fff0001 }],
    ['a load of an argument, which the emulator does not know', X86_64, 3, { kind: 'gives-up', pc: 8 }],
    ['another arch', I386, 0, { kind: 'returns', pc: 13, value: ACTIONS.KILL_PROCESS }],
  ])('%s', (_, arch, nr, outcome) => {
    expect(kernelCacheOutcome(ALLOWLIST, arch, nr)).toEqual(outcome);
  });

  it('knows jge, jgt, jset, and with a constant, and ja', () => {
    const program = filter(`
      ld [nr]
      and #0xfff0
      jset #0x100, high
      jge #0x20, ge
      jgt #0x10, gt
      ja allow
      high: ret ERRNO(2)
      ge: ret ERRNO(3)
      gt: ret ERRNO(4)
      allow: ret ALLOW`);
    const value = (nr: number) => outcomeValue(kernelCacheOutcome(program, X86_64, nr));
    // 0x1f is 0x10 once masked: not above 0x10; 0x2f is 0x20: at least 0x20.
    expect([0x0f, 0x1f, 0x2f, 0x3f, 0x10f].map(value)).toEqual([ACTIONS.ALLOW, ACTIONS.ALLOW, ACTIONS.ERRNO | 3, ACTIONS.ERRNO | 3, ACTIONS.ERRNO | 2]);
  });

  it.each([
    ['ld #k', 'ld #0\nret ALLOW', 0],
    ['ldx', 'ld [nr]\nldx #1\njeq #0, allow, deny\nallow: ret ALLOW\ndeny: ret ERRNO(1)', 1],
    ['a comparison with X', 'ld [nr]\njeq x, allow, deny\nallow: ret ALLOW\ndeny: ret ERRNO(1)', 1],
    ['ret a', 'ld #0x7fff0000\nret a', 0],
    ['an ALU operation other than and #k', 'ld [nr]\nadd #1\njeq #1, allow, deny\nallow: ret ALLOW\ndeny: ret ERRNO(1)', 1],
    ['a store', 'ld [nr]\nst M[0]\nret ALLOW', 1],
    ['a load of the instruction pointer', 'ld [8]\nret ALLOW', 0],
  ])('gives up at %s', (_, text, pc) => {
    expect(kernelCacheOutcome(filter(text), X86_64, 0)).toEqual({ kind: 'gives-up', pc });
  });

  it('agrees with the decision tables and the interpreter wherever it reaches a return', () => {
    const random = seededRandom(20261123);
    let reached = 0;
    fc.assert(
      fc.property(fc.constant(null), () => {
        const program = generateProgram(random);
        let verified: VerifiedProgram;
        try {
          verified = verify(program);
        } catch (error) {
          if (error instanceof VerifyError) return;
          throw error;
        }
        for (const record of biasedRecords(program, random, 20, 'any')) {
          const outcome = kernelCacheOutcome(verified, record.arch, record.nr);
          if (outcome.kind === 'gives-up') continue;
          reached++;
          const value = outcomeValue(outcome);
          // The emulation knew every value on its way: the filter's value is that whatever the rest of the record holds.
          expect(constantValue(verified, record.arch, record.nr)).toBe(value);
          expect(interpret(verified, encodeSeccompData(record), byteOrderOfAuditArch(record.arch))).toBe(value);
        }
      }),
      { numRuns: 600 },
    );
    expect(reached).toBeGreaterThan(1000);
  });
});

describe('kernelActionCache: which syscalls of an arch skip a filter', () => {
  it('names the cached syscalls, and those always allowed that miss the cache with where the emulation ended', () => {
    const cache = kernelActionCache(ALLOWLIST, archByName('x86_64')!);
    expect(cache.cached).toEqual(['read', 'write']);
    expect(cache.missed).toEqual([{ name: 'openat', pc: 12, why: 'returns' }]);
    expect(cache.syscalls).toBeGreaterThan(300);
  });

  it('reports a syscall that checks an argument but is allowed either way as missed', () => {
    const program = filter('ld [nr]\njeq #read, check, deny\ncheck: ld [args[0].lo]\nret ALLOW\ndeny: ret ERRNO(1)');
    expect(kernelActionCache(program, archByName('x86_64')!).missed).toEqual([{ name: 'read', pc: 2, why: 'gives-up' }]);
  });

  it("leaves out x32's numbers, past every kernel's bitmap", () => {
    const cache = kernelActionCache(filter('ret ALLOW'), archByName('x32')!);
    expect(cache).toEqual({ arch: 'x32', syscalls: 0, cached: [], missed: [] });
  });

  it('caches most of a docker profile: every syscall it allows without looking at arguments', () => {
    const cache = kernelActionCache(sample('docker-linear'), archByName('x86_64')!);
    expect(cache.cached.length).toBe(292);
    expect(cache.cached).toContain('read');
    expect(cache.cached).not.toContain('clone'); // the profile checks clone's flags
    expect(cache.missed).toEqual([]);
  });
});
