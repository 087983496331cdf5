import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../bench/samples.js';
import { argumentHeavyFilter, largeFilter } from '../bench/synthetic.js';
import { interpret, interpretFrom } from '../interp/interpret.js';
import { interpretStack } from '../interp/stack.js';
import { assemble } from '../src/codecs/asm.js';
import { decodeRaw } from '../src/codecs/raw.js';
import { archDecisions, type DecisionTable, decisionTable, lookupDecision, NOT_CONSTANT, resumePoints } from '../src/decision-table.js';
import { biasedRecords, generateProgram } from '../src/fuzz/programs.js';
import { seededRandom } from '../src/fuzz/random.js';
import { ACTIONS } from '../src/seccomp/actions.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { byteOrderOfAuditArch, encodeSeccompData, type SeccompData } from '../src/seccomp/records.js';
import { type VerifiedProgram, verify } from '../src/verifier.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const EPERM = ACTIONS.ERRNO | 1;
const table = (...texts: string[]) => decisionTable(texts.map((text) => verify(assemble(text))));
const sample = (name: string) => verify(decodeRaw(readFileSync(SAMPLE_FILTERS.find((s) => s.name === name)!.path)));

/**
 * Runs `check` on 400 generated stacks of 1 to 3 filters, each with their
 * table and 40 records aimed at their constants (each record also encoded).
 */
function forGeneratedStacks(
  seed: number,
  check: (filters: VerifiedProgram[], t: DecisionTable, record: SeccompData, bytes: Uint8Array, byteOrder: ByteOrder) => void,
): void {
  const random = seededRandom(seed);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 }), (depth) => {
      const programs = Array.from({ length: depth }, () => generateProgram(random));
      const filters = programs.map((p) => verify(p));
      const t = decisionTable(filters);
      for (const record of biasedRecords(programs.flat(), random, 40, 'any'))
        check(filters, t, record, encodeSeccompData(record), byteOrderOfAuditArch(record.arch));
    }),
    { numRuns: 400 },
  );
}

describe('decisionTable', () => {
  it('holds the value of every syscall whose verdict needs only arch and nr', () => {
    const t = table(
      'ld [4]\njeq #AUDIT_ARCH_X86_64, native, kill\nkill: ret KILL_PROCESS\nnative: ld [0]\njeq #0, allow, deny\nallow: ret ALLOW\ndeny: ret ERRNO(1)',
    );
    expect(t.arches.map((a) => a.auditArch)).toEqual([X86_64]);
    expect([lookupDecision(t, X86_64, 0), lookupDecision(t, X86_64, 1), lookupDecision(t, X86_64, 300)]).toEqual([ACTIONS.ALLOW, EPERM, EPERM]);
  });

  it('leaves syscalls whose verdict reads an argument or the instruction pointer to the filter', () => {
    const t = decisionTable([argumentHeavyFilter()]);
    expect(lookupDecision(t, X86_64, 0)).toBe(NOT_CONSTANT); // arguments checked against a mask
    expect(lookupDecision(t, X86_64, 100)).toBe(EPERM); // not in the policy
    expect(lookupDecision(table('ld [4]\njeq #AUDIT_ARCH_X86_64, native, kill\nnative: ld [8]\nret a\nkill: ret KILL_THREAD'), X86_64, 0)).toBe(NOT_CONSTANT);
  });

  it('gives arches the filter never names no table, so their records run the filter', () => {
    const t = table('ld [4]\njeq #AUDIT_ARCH_X86_64, allow, kill\nkill: ret KILL_PROCESS\nallow: ret ALLOW');
    expect(lookupDecision(t, I386, 0)).toBe(NOT_CONSTANT);
    expect(lookupDecision(t, X86_64, 0)).toBe(ACTIONS.ALLOW);
  });

  it('does not take small constants for arch checks (AUDIT_ARCH_MIPS is 8)', () => {
    expect(table('ld [4]\njeq #8, allow, kill\nallow: ret ALLOW\nkill: ret KILL_THREAD').arches).toEqual([]);
  });

  it('leaves out an arch where it would hold no value and no resume point past pc 0', () => {
    expect(table('ld [16]\njeq #AUDIT_ARCH_X86_64, allow, kill\nallow: ret ALLOW\nkill: ret KILL_THREAD').arches).toEqual([]);
  });

  it("covers numbers past the arch's syscall table that a filter compares with", () => {
    const values = decisionTable([largeFilter()]).arches[0]!.values; // syscalls 0 to 907 named
    expect(values.length).toBe(908);
    expect(values[906]).toBe(ACTIONS.ALLOW);
  });

  it("stops at 1,024 numbers per arch (ARM's private calls start at 0xf0001)", () => {
    const arm = table('ld [4]\njeq #AUDIT_ARCH_ARM, allow, kill\nallow: ret ALLOW\nkill: ret KILL_THREAD').arches[0]!;
    expect(arm.firstNr + arm.values.length).toBeLessThanOrEqual(1024);
    expect(lookupDecision({ arches: [arm] }, 0x40000028, 0xf0005)).toBe(NOT_CONSTANT);
  });

  it('follows division by X: X = 0 returns 0, an unknown X decides nothing', () => {
    expect(lookupDecision(table('ld [4]\njeq #AUDIT_ARCH_X86_64, native, kill\nnative: ldx #0\ndiv x\nret ALLOW\nkill: ret KILL_THREAD'), X86_64, 1)).toBe(0);
    expect(
      lookupDecision(table('ld [4]\njeq #AUDIT_ARCH_X86_64, native, kill\nnative: ld [16]\ntax\ndiv x\nret ALLOW\nkill: ret KILL_THREAD'), X86_64, 1),
    ).toBe(NOT_CONSTANT);
  });

  it("resolves a stack with the kernel's precedence, and runs the filters where any one of them needs to", () => {
    const allowFirst = 'ld [4]\njeq #AUDIT_ARCH_X86_64, native, deny\nnative: ld [0]\njeq #1, allow, deny\nallow: ret ALLOW\ndeny: ret ERRNO(1)';
    const denyWrites = 'ld [4]\njeq #AUDIT_ARCH_X86_64, native, allow\nnative: ld [0]\njeq #1, write, allow\nwrite: ld [16]\nret a\nallow: ret ALLOW';
    const t = table(allowFirst, denyWrites);
    expect(lookupDecision(t, X86_64, 1)).toBe(NOT_CONSTANT);
    expect(lookupDecision(t, X86_64, 2)).toBe(EPERM);
    expect(lookupDecision(table(allowFirst, 'ret KILL_THREAD'), X86_64, 1)).toBe(ACTIONS.KILL_THREAD);
  });

  it('holds a value for nearly every syscall of the bundled Docker-like policy', () => {
    const values = decisionTable([sample('docker-linear')]).arches[0]!.values;
    expect(values.filter((v) => v === NOT_CONSTANT).length).toBe(3); // socket, clone and personality check arguments
  });

  it('resumes a run that needs the arguments where they are first read, with A still holding nr', () => {
    const filter = argumentHeavyFilter();
    const [resume] = decisionTable([filter]).arches[0]!.resume.get(1)!; // nr 1: arguments 0, 1 and 2 checked
    expect(filter.instructions[resume!.pc]).toMatchObject({ code: 0x20, k: 20 }); // ld [20]: args[0].hi
    expect(resume).toMatchObject({ a: 1, x: 0 });
  });

  it('agrees with the interpreter wherever it holds a value, on generated stacks and records aimed at their constants', () => {
    let checked = 0;
    forGeneratedStacks(23, (filters, t, record, bytes, byteOrder) => {
      const value = lookupDecision(t, record.arch, record.nr);
      if (value === NOT_CONSTANT) return;
      checked++;
      expect(value).toBe(interpretStack(filters, bytes, byteOrder).value);
    });
    expect(checked).toBeGreaterThan(100); // the property reached the tables
  });

  it('resumes runs where they end as from pc 0, on generated stacks and records aimed at their constants', () => {
    let resumedPastStart = 0;
    forGeneratedStacks(29, (filters, t, record, bytes, byteOrder) => {
      const points = resumePoints(archDecisions(t, record.arch), record.nr);
      if (!points) return;
      filters.forEach((filter, f) => {
        if (points[f]!.pc > 0) resumedPastStart++;
        expect(interpretFrom(filter, bytes, byteOrder, points[f]!)).toBe(interpret(filter, bytes, byteOrder));
      });
    });
    expect(resumedPastStart).toBeGreaterThan(100); // the property reached resume points past the start
  });
});
