import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { interpretStack } from '../../interp/stack.js';
import { kernelCacheOutcome } from '../../src/action-cache.js';
import { explainStack } from '../../src/analysis/explain.js';
import { assemble } from '../../src/codecs/asm.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { constantValue, NOT_CONSTANT } from '../../src/decision-table.js';
import { biasedRecords } from '../../src/fuzz/programs.js';
import { seededRandom } from '../../src/fuzz/random.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { archByName } from '../../src/seccomp/arches.js';
import { byteOrderOfAuditArch, decodeSeccompData, encodeSeccompData, type SeccompData } from '../../src/seccomp/records.js';
import { verify } from '../../src/verifier.js';
import { runCli } from '../helpers.js';

const samplePath = (name: string): string => SAMPLE_FILTERS.find((s) => s.name === name)!.path;

/** The record's 16 words, as the filter reads them. */
function wordsOf(record: SeccompData): Uint32Array {
  const bytes = encodeSeccompData(record);
  const view = new DataView(bytes.buffer);
  const le = byteOrderOfAuditArch(record.arch) === 'le';
  return Uint32Array.from({ length: 16 }, (_, i) => view.getUint32(4 * i, le));
}

describe('explain', () => {
  it.each(SAMPLE_FILTERS.map((s) => s.name))('puts every aimed record of %s in exactly one case, whose decision the interpreter gives', (name) => {
    const filter = verify(decodeRaw(readFileSync(samplePath(name))));
    const explanation = explainStack([filter]);
    const m = explanation.manager;
    const random = seededRandom(31);
    const realistic = generateRecords(2000, 'realistic', 3);
    const records = [
      ...biasedRecords(filter.instructions, random, 3000, 'any'),
      ...Array.from({ length: 2000 }, (_, i) => decodeSeccompData(realistic.subarray(i * 64, i * 64 + 64), 'le')),
    ];
    let checked = 0;
    for (const record of records) {
      const words = wordsOf(record);
      const arch = explanation.arches.find((a) => a.auditArch === record.arch);
      const syscall = arch?.syscalls.find((s) => s.nr === words[0]);
      const cases = arch ? (syscall?.cases ?? arch.others) : explanation.otherArches;
      const holding = cases.filter((c) => m.contains(c.region, words));
      expect(
        holding.length,
        JSON.stringify(record, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
      ).toBe(1);
      const value = interpretStack([filter], encodeSeccompData(record), byteOrderOfAuditArch(record.arch)).value;
      if (holding[0]!.value !== undefined) expect(holding[0]!.value).toBe(value);
      checked++;
    }
    expect(checked).toBe(5000);
  });

  it.each(SAMPLE_FILTERS.map((s) => s.name))('agrees with the decision tables and the kernel action cache model on %s, syscall by syscall', (name) => {
    const filter = verify(decodeRaw(readFileSync(samplePath(name))));
    let compared = 0;
    for (const arch of explainStack([filter]).arches) {
      for (const syscall of arch.syscalls) {
        const table = constantValue(filter, arch.auditArch, syscall.nr);
        const constant = syscall.cases.length === 1 ? syscall.cases[0]!.value : undefined;
        // The tables see less than the evaluator: where they give a value, it is the one; the cache only ever says exactly ALLOW.
        if (table !== NOT_CONSTANT) expect(constant, `${arch.arch} ${syscall.name}`).toBe(table);
        if (kernelCacheOutcome(filter, arch.auditArch, syscall.nr).kind === 'cached') expect(constant, `${arch.arch} ${syscall.name}`).toBe(0x7fff0000);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('groups the unconditional syscalls and says the conditions of the others in words', async () => {
    const run = await runCli(['explain', samplePath('multiarch'), '--arch', 'x86_64']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('x86_64:');
    expect(lines).toContain('  socket: ERRNO(1) if args[0] == AF_VSOCK; else ALLOW');
    expect(lines.some((line) => /^ {2}ALLOW \(24\): read, write, close, /.test(line))).toBe(true);
    expect(lines).not.toContain('i386:');
  });

  it('says a 64-bit argument whole: one value when both halves are fixed, the low half when the high one must be 0', () => {
    const filter = verify(
      assemble(`
        ld [nr]
        jeq #read, read, other
        other: jeq #write, write, allow
        read: ld [args[0].hi]
        jeq #1, readlow, allow
        readlow: ld [args[0].lo]
        jeq #0x28, deny, allow
        write: ld [args[0].hi]
        jeq #0, writelow, allow
        writelow: ld [args[0].lo]
        jgt #0xff, deny, allow
        deny: ret ERRNO(1)
        allow: ret ALLOW`),
    );
    const syscalls = explainStack([filter], [archByName('x86_64')!]).arches[0]!.syscalls;
    const denied = (name: string) => syscalls.find((s) => s.name === name)!.cases.find((c) => c.value === 0x50001)!.conditions;
    expect(denied('read')).toEqual(['args[0] == 0x100000028']);
    expect(denied('write')).toEqual(['0x100 <= args[0] <= 0xffffffff']);
  });

  it('answers for one syscall, as JSON', async () => {
    const run = await runCli(['explain', samplePath('multiarch'), '--syscall', 'socket', '--json']);
    const report = JSON.parse(run.stdout) as {
      arches: { arch: string; syscalls: { name: string; cases: { value: number; conditions: string[] | null }[] }[] }[];
    };
    expect(report.arches.map((a) => [a.arch, a.syscalls.map((s) => s.name)])).toEqual([
      ['x86_64', ['socket', 'x32 socket']],
      ['i386', ['socket']],
    ]);
    expect(report.arches[0]!.syscalls[0]!.cases).toEqual([
      { value: 0x50001, conditions: ['args[0] == AF_VSOCK'] },
      { value: 0x7fff0000, conditions: null },
    ]);
  });
});
