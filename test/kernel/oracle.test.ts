/**
 * Parity with the live kernel (SPEC section 9). Every test here skips, with
 * the reason printed, where the kernel oracle is unavailable.
 */
import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { interpreterEngine } from '../../interp/engines.js';
import { interpret } from '../../interp/interpret.js';
import { assemble } from '../../src/codecs/asm.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { formatAsm } from '../../src/disasm.js';
import { biasedRecords, generateProgram, mutateProgram } from '../../src/fuzz/programs.js';
import { seededRandom } from '../../src/fuzz/random.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import type { Instruction } from '../../src/instruction.js';
import { kernelAccepts, kernelDecide, kernelInstallStack, recordAsIssued } from '../../src/kernel/oracle.js';
import { compareAcceptance, compareDecisions } from '../../src/kernel/parity.js';
import { MAX_REWRITABLE_LENGTH } from '../../src/kernel/rewrite.js';
import { packRecords, type RecordBatch, readRecordStream } from '../../src/seccomp/records.js';
import { ebpfLength, type VerifiedProgram, verify } from '../../src/verifier.js';
import { loadCorpus } from '../conformance/corpus.js';
import { kernelIssuable, kernelIt } from '../system-deps.js';

const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Decides `records` with the kernel and the interpreter; returns a readable
 * report of every mismatch. Records the host answers before seccomp are left
 * out: i386 ones where the kernel answers them all (kernelIssuable), any
 * other such reported, and rare, so the comparison always covers the rest.
 */
function decisionMismatches(filter: VerifiedProgram, records: RecordBatch): string[] {
  const batch = kernelIssuable(records);
  const kernel = kernelDecide(filter.instructions, batch);
  const bypassed = kernel.bypassed.reduce((n, b) => n + b, 0);
  if (bypassed > 0) console.info(`${bypassed} of ${batch.count} records never reached seccomp on this host; left out`);
  expect(bypassed).toBeLessThanOrEqual(Math.max(2, batch.count / 100));
  const decisions = compareDecisions(kernel, batch, interpreterEngine([filter])).map(
    (m) => `record ${m.record} ${Buffer.from(m.issued).toString('hex')}: kernel ${hex(m.kernel)}, interp ${hex(m.engine)}\n${formatAsm(filter.instructions)}`,
  );
  // The oracle reveals the filter's own value too, ALLOW's data included, which the decision drops: the interpreter gives it exactly.
  const values = Array.from({ length: batch.count }, (_, i) => i).flatMap((i) => {
    if (kernel.bypassed[i]) return [];
    const value = interpret(filter, recordAsIssued(batch, i, kernel.ips[i]!), 'le');
    return value === kernel.values[i]
      ? []
      : [`record ${i}: the kernel's filter value ${hex(kernel.values[i]!)}, interp ${hex(value)}\n${formatAsm(filter.instructions)}`];
  });
  return [...decisions, ...values];
}

describe('the kernel oracle helper', () => {
  kernelIt('reads back every data word of a record exactly, as the kernel saw it', () => {
    const random = seededRandom(3);
    const batch = kernelIssuable(packRecords(biasedRecords([], random, 64)));
    for (let offset = 0; offset < 64; offset += 4) {
      const filter = verify(assemble(`ld [${offset}]\nret a`));
      const kernel = kernelDecide(filter.instructions, batch);
      for (let i = 0; i < batch.count; i++) {
        const issued = recordAsIssued(batch, i, kernel.ips[i]!);
        expect(kernel.values[i], `offset ${offset}, record ${i}`).toBe(new DataView(issued.buffer).getUint32(offset, true));
      }
    }
  });

  kernelIt('reports DIV by X = 0 as the value 0 and carries on with the next record', () => {
    const filter = verify(assemble('ld [args[0].lo]\ntax\nld #10\ndiv x\nret a'));
    const batch = packRecords([0n, 2n, 0n, 5n].map((a) => ({ nr: 0, arch: 0xc000003e, instructionPointer: 0n, args: [a] })));
    expect([...kernelDecide(filter.instructions, batch).values]).toEqual([0, 5, 0, 2]);
  });
});

describe('verifier parity with the kernel', () => {
  kernelIt('agrees on every code 0x0000..0xffff in "code k; ret #0", for k = 0, 4, 32, 64, 0xfffff000', () => {
    const programs: Instruction[][] = [];
    for (let code = 0; code <= 0xffff; code++) {
      for (const k of [0, 4, 32, 64, 0xfffff000])
        programs.push([
          { code, jt: 0, jf: 0, k },
          { code: 0x06, jt: 0, jf: 0, k: 0 },
        ]);
    }
    const mismatches = compareAcceptance(programs, kernelAccepts(programs));
    expect(mismatches.slice(0, 10).map((m) => ({ ...m, program: programs[m.index]![0] }))).toEqual([]);
  });

  kernelIt('agrees on 20,000 generated programs, half of them mutated', () => {
    const random = seededRandom(2026);
    const programs = Array.from({ length: 20_000 }, (_, i) => {
      const program = generateProgram(random);
      return i % 2 === 0 ? program : mutateProgram(program, random);
    });
    const mismatches = compareAcceptance(programs, kernelAccepts(programs));
    expect(mismatches.slice(0, 5).map((m) => ({ ...m, program: formatAsm(programs[m.index]!) }))).toEqual([]);
  });

  kernelIt('agrees with every verifier case of the conformance corpus that the kernel can be asked', () => {
    const single = loadCorpus().filter((c) => c.programs.length === 1);
    const programs = single.map((c) => c.programs[0]!);
    const kernel = kernelAccepts(programs);
    expect(compareAcceptance(programs, kernel).map((m) => ({ ...m, case: single[m.index]!.name }))).toEqual([]);
    expect(kernel.filter((e) => e === -1)).toHaveLength(1); // 65536 instructions cannot be expressed in sock_fprog
  });

  kernelIt('refuses a stack past 32768 eBPF instructions with ENOMEM, exactly where verifyStack does', () => {
    const allow = (n: number) => Array.from({ length: n }, () => ({ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }));
    expect(kernelInstallStack([allow(4096), allow(4096), allow(4096), allow(4084)])).toEqual({ errnos: [0, 0, 0, 0], killedBy: 0 });
    expect(kernelInstallStack([allow(4096), allow(4096), allow(4096), allow(4085)])).toEqual({ errnos: [0, 0, 0, 12], killedBy: 0 });
  });

  kernelIt('counts eBPF lengths as the kernel does, for every kind of instruction', () => {
    // Three full filters of `ret ALLOW` use 3 * (8195 + 4) = 24597. A fourth `ret ALLOW` filter takes
    // most of what is left, so that the filter under test, padded with `ld #0` (1 each), lands exactly
    // on 32768; one more `ld #0` must then be refused.
    const allow = (n: number) => Array.from({ length: n }, () => ({ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }));
    const ldImm = { code: 0, jt: 0, jf: 0, k: 0 };
    const shapes: Record<string, string> = {
      'jeq, jf = 0': 'jeq #1, 1, 1',
      'jeq, jt = 0': 'jeq #1, 1, 2',
      'jset, jt = 0': 'jset #1, 1, 2',
      'jgt, both': 'jgt #1, 2, 3',
      'negative k': 'jeq #0x80000000, 2, 3',
      'jge x': 'jge x, 2, 3',
      'div x': 'div x',
      alu: 'add #1',
    };
    for (const [name, line] of Object.entries(shapes)) {
      // Repeat the shape, each copy jumping at most 2 ahead, then returns to land on.
      const relative = (l: string, i: number) => l.replace(/, (\d+), (\d+)$/, (_m: string, t: string, f: string) => `, ${i + Number(t)}, ${i + Number(f)}`);
      const body = assemble(`${Array.from({ length: 1000 }, (_u, i) => relative(line, i)).join('\n')}\nret ALLOW\nret ALLOW\nret ALLOW`);
      const room = 32768 - 3 * (ebpfLength(verify(allow(4096))) + 4) - ebpfLength(verify(body)) - 4; // for the 4th filter + padding
      const fourth = Math.floor((room - 3) / 2); // ret ALLOW x n costs 3 + 2n
      const padding = room - (3 + 2 * fourth);
      const exact = [...Array.from({ length: padding }, () => ldImm), ...body];
      const stack = (last: Instruction[]) => kernelInstallStack([allow(4096), allow(4096), allow(4096), allow(fourth), last]).errnos[4];
      expect(ebpfLength(verify(exact)) + 3 * (8195 + 4) + (3 + 2 * fourth + 4)).toBe(32768);
      expect(stack(exact), `${name}: exactly 32768`).toBe(0);
      expect(stack([ldImm, ...exact]), `${name}: 32769`).toBe(12);
    }
  });
});

describe('decision parity with the kernel', () => {
  kernelIt('agrees on every x86_64 and i386 record of the conformance corpus, filter by filter', () => {
    const mismatches: string[] = [];
    for (const c of loadCorpus()) {
      if (c.rejected) continue;
      const records = c.records.filter((r) => r.arch === 0xc000003e || r.arch === 0x40000003);
      if (records.length === 0) continue;
      for (const program of c.programs) {
        if (program.length > MAX_REWRITABLE_LENGTH) continue;
        mismatches.push(...decisionMismatches(verify(program), packRecords(records)).map((m) => `${c.where} ${c.name}: ${m}`));
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  kernelIt('agrees on every bundled sample with 20,000 realistic and 5,000 biased records', () => {
    const random = seededRandom(7);
    for (const sample of SAMPLE_FILTERS) {
      const filter = verify(decodeRaw(readFileSync(sample.path)));
      const realistic = readRecordStream(generateRecords(20_000, 'realistic', 11), 'le');
      expect(decisionMismatches(filter, realistic).slice(0, 3), sample.name).toEqual([]);
      expect(decisionMismatches(filter, packRecords(biasedRecords(filter.instructions, random, 5_000))).slice(0, 3), sample.name).toEqual([]);
    }
  });

  kernelIt('agrees on 300 generated programs with records biased to their constants', () => {
    const random = seededRandom(99);
    for (let n = 0; n < 300; n++) {
      const program = generateProgram(random);
      if (program.length > MAX_REWRITABLE_LENGTH) continue;
      const filter = verify(program);
      expect(decisionMismatches(filter, packRecords(biasedRecords(program, random, 40))).slice(0, 2), `program ${n}`).toEqual([]);
    }
  });
});
