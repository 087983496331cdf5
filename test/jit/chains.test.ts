import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argumentHeavyFilter, largeFilter } from '../../bench/synthetic.js';
import { interpretBatch } from '../../interp/stack.js';
import { alignChain, chainColumns, chainFrom, MAX_CHAIN_TESTS } from '../../jit/chains.js';
import { compile, decideRecords, jitEngine } from '../../jit/compiled.js';
import type { JitEngine } from '../../jit/instance.js';
import { TABLE_OFFSET } from '../../jit/layout-abi.js';
import { rowChains } from '../../jit/lower-js.js';
import { layoutTables, readTableArches } from '../../jit/table-layout.js';
import { tableEngine } from '../../jit/tables.js';
import { assemble } from '../../src/codecs/asm.js';
import { decisionTable, NOT_CONSTANT } from '../../src/decision-table.js';
import { biasedRecords } from '../../src/fuzz/programs.js';
import { type Random, seededRandom } from '../../src/fuzz/random.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { ACTIONS } from '../../src/seccomp/actions.js';
import { decodeSeccompData, encodeSeccompData, packRecords, readRecordStream } from '../../src/seccomp/records.js';
import { type VerifiedProgram, verify } from '../../src/verifier.js';

const program = (lines: readonly string[]) => verify(assemble(lines.join('\n')));
const from = (lines: readonly string[], pc = 0, a = 0) => chainFrom(program(lines).instructions, { pc, a, x: 0, m: Array(16).fill(0) }, (k) => k);
const EPERM = ACTIONS.ERRNO | 1;

/** How many rows of `filter`'s tables that run the filter have a chain. */
function chainRows(filter: VerifiedProgram): number {
  const table = decisionTable([filter]);
  const layout = layoutTables(table, [filter]);
  if (!layout.chains) return 0;
  const view = new DataView(layout.bytes.buffer);
  const rowsAt = layout.offsets[0]! - TABLE_OFFSET;
  const values = table.arches.flatMap((arch) => [...arch.values]);
  return values.filter((value, row) => value === NOT_CONSTANT && view.getUint32(rowsAt + row * layout.stride + layout.chains!.fromRow, true) !== 0).length;
}

/**
 * A filter in libseccomp's linear shape over syscalls 0 to `syscalls - 1`:
 * some allowed outright, some checked by a row of random tests on record
 * words (jeq or jset, ending the run on either outcome, with one of a few
 * values), some by a range check (jgt, which no chain holds).
 */
function checkedFilter(random: Random, syscalls: number): VerifiedProgram {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const leaves = ['ALLOW', 'ERRNO(1)', 'ERRNO(2)', 'TRAP', 'LOG', 'KILL_PROCESS', '#0x7fff0005'];
  const lines = ['ld [4]', 'jeq #0xc000003e, good, kill', 'kill: ret KILL_PROCESS', 'good: ld [0]'];
  for (let nr = 0; nr < syscalls; nr++) {
    lines.push(`n${nr}: jeq #${nr}, b${nr}, n${nr + 1}`);
    const kind = pick(['allow', 'chain', 'chain', 'chain', 'range']);
    if (kind === 'allow') lines.push(`b${nr}: ret ALLOW`);
    else if (kind === 'range')
      lines.push(`b${nr}: ld [16]`, `jgt #${Math.floor(random() * 100)}, r${nr}a, r${nr}b`, `r${nr}a: ret ${pick(leaves)}`, `r${nr}b: ret ${pick(leaves)}`);
    else {
      const tests = 1 + Math.floor(random() * 6);
      const ends = [pick(leaves), pick(leaves)];
      lines.push(`b${nr}: ld #0`);
      for (let t = 0; t < tests; t++) {
        const word = pick([0, 4, 8, 12, 16, 20, 24, 28, 40, 44, 56, 60]);
        const k = pick([0, 1, 0xfff00000, 0x80, 7, Math.floor(random() * 2 ** 32)]);
        const op = pick(['jeq', 'jset']);
        const end = `e${nr}x${Math.floor(random() * 2)}`;
        const next = `t${nr}x${t + 1}`;
        lines.push(`t${nr}x${t}: ld [${word}]`, random() < 0.5 ? `${op} #${k}, ${end}, ${next}` : `${op} #${k}, ${next}, ${end}`);
      }
      lines.push(`t${nr}x${tests}: ret ${pick(leaves)}`, `e${nr}x0: ret ${ends[0]}`, `e${nr}x1: ret ${ends[1]}`);
    }
  }
  lines.push(`n${syscalls}: ret ERRNO(1)`);
  return program(lines);
}

describe('chains', () => {
  it("read an argument check as tests of whole 64-bit arguments, ending the run as the filter's jumps do", () => {
    // argument-heavy's block for syscall 1, from its resume point: args 0, 1, 2 each with a zero high word and no bit of the mask set.
    const filter = argumentHeavyFilter();
    const point = decisionTable([filter]).arches[0]!.resume.get(1)![0]!;
    const chain = chainFrom(filter.instructions, point, (k) => k);
    const mask = BigInt(0xfff00000 >>> 1);
    expect(chain).toEqual({
      tests: [16, 24, 32].map((offset) => ({ offset, mask: (0xffffffffn << 32n) | mask, value: 0n, endsWhenEqual: false, leaf: EPERM })),
      last: ACTIONS.ALLOW,
    });
    // jeq that ends the run when equal, jset whose outcome "no bit set" goes on, and a jump on the known A folded away.
    expect(
      from(['jeq #5, a, b', 'a: ld [24]', 'jeq #9, yes, next', 'next: ld [28]', 'jset #3, next2, yes', 'next2: ret ALLOW', 'yes: ret TRAP', 'b: ret #1'], 0, 5),
    ).toEqual({
      tests: [
        { offset: 24, mask: 0xffffffffn, value: 9n, endsWhenEqual: true, leaf: ACTIONS.TRAP },
        { offset: 24, mask: 3n << 32n, value: 0n, endsWhenEqual: false, leaf: ACTIONS.ALLOW },
      ],
      last: ACTIONS.TRAP,
    });
  });

  it('merge two tests only where their bits do not overlap', () => {
    const tail = ['n2: ld [24]', 'jeq #0, ok, other', 'ok: ret ALLOW', 'deny: ret TRAP', 'other: ret LOG'];
    // Both must hold: 5 and then 7 in the same word is never so, which one test of the word against 5 | 7 would let pass.
    expect(from(['ld [16]', 'jeq #5, n1, deny', 'n1: ld [16]', 'jeq #7, n2, deny', ...tail])?.tests).toHaveLength(3);
    expect(from(['ld [16]', 'jset #1, deny, n1', 'n1: ld [16]', 'jset #6, deny, n2', ...tail])?.tests).toHaveLength(2);
  });

  it('line up in columns of offsets where none grows longer for it', () => {
    const test = (offset: number) => ({ offset, mask: 1n, value: 0n, endsWhenEqual: false, leaf: 7 });
    const chain = (...offsets: number[]) => ({ tests: offsets.map(test), last: 1 });
    // argument-heavy's shapes: arguments 0, 1 and 2, or 0 and 2.
    const columns = chainColumns([chain(16, 24, 32), chain(16, 32), chain()]);
    expect(columns).toEqual([16, 24, 32]);
    expect(alignChain(chain(16, 32), columns!).tests.map((t) => [t.offset, t.mask])).toEqual([
      [16, 1n],
      [24, 0n],
      [32, 1n],
    ]);
    // Arguments 1 then 0, and 0 then 1: in one row of columns, one chain would test three words.
    expect(chainColumns([chain(24, 16), chain(16, 24)])).toBeUndefined();
  });

  it('are not made of code that computes, compares by order, or has more tests than a chain holds', () => {
    expect(from(['ld [16]', 'jgt #3, a, b', 'a: ret ALLOW', 'b: ret TRAP'])).toBeUndefined();
    expect(from(['ld [16]', 'add #1', 'jeq #3, a, b', 'a: ret ALLOW', 'b: ret TRAP'])).toBeUndefined();
    expect(from(['ld [16]', 'ret a'])).toBeUndefined();
    const tests = (n: number) => [
      ...Array.from({ length: n }, (_, i) => [`ld [${16 + 8 * (i % 6)}]`, `jeq #1, deny, t${i + 1}`, `t${i + 1}:`]).flat(),
      'ret ALLOW',
      'deny: ret TRAP',
    ];
    expect(from(tests(MAX_CHAIN_TESTS))?.tests).toHaveLength(MAX_CHAIN_TESTS);
    expect(from(tests(MAX_CHAIN_TESTS + 1))).toBeUndefined();
  });

  it('decide argument-heavy and large-4091 exactly as the interpreter, in the JIT and the table kernel, counting included', () => {
    for (const filter of [argumentHeavyFilter(), largeFilter()]) {
      expect(chainRows(filter)).toBeGreaterThan(50);
      const records = new Uint8Array([...generateRecords(20_000, 'realistic', 3), ...generateRecords(20_000, 'random', 4)]);
      const batch = readRecordStream(records, 'le');
      const expected = [...interpretBatch([filter], batch)];
      const tally = new Map<number, number>();
      for (const value of expected) tally.set(value, (tally.get(value) ?? 0) + 1);
      for (const engine of [jitEngine([filter]), tableEngine([filter])] as JitEngine[]) {
        expect([...engine.decide(batch)], engine.name).toEqual(expected);
        const counted = new Map<number, number>();
        engine.decideCounting(batch, (_, value) => {
          counted.set(value >>> 0, (counted.get(value >>> 0) ?? 0) + 1);
          return true; // settle the row on this value
        });
        for (const [, , value, n] of engine.takeCounts()) counted.set(value >>> 0, (counted.get(value >>> 0) ?? 0) + n);
        expect(counted, engine.name).toEqual(tally);
      }
    }
  }, 60_000);

  it('decide one record at a time from the chains as data, a large filter lowered by entry and filters lowered whole, in columns and not, in either byte order, as the interpreter does', () => {
    const random = seededRandom(31);
    const wide = checkedFilter(random, 400); // more jump targets than decide() lowers whole; offsets that fit no columns
    const mixes = new Uint8Array([...generateRecords(3000, 'realistic', 5), ...generateRecords(3000, 'random', 6)]);
    for (const [filter, columns] of [
      [largeFilter(), true],
      [wide, false],
      [argumentHeavyFilter(), true],
      [checkedFilter(random, 100), false],
    ] as const) {
      const layout = layoutTables(decisionTable([filter]), [filter]);
      expect(layout.chains?.columns !== undefined).toBe(columns);
      // The table block where decide() finds it: its chains are read as data (rowChains), not by each row's code.
      const memory = new ArrayBuffer(TABLE_OFFSET + layout.bytes.length);
      new Uint8Array(memory, TABLE_OFFSET).set(layout.bytes);
      expect(rowChains(memory, readTableArches(memory), 'le')).toBeDefined();
      const calls = [
        ...biasedRecords(filter.instructions, random, 6000, [0xc000003e]),
        ...Array.from({ length: mixes.length / 64 }, (_, i) => decodeSeccompData(mixes, 'le', i * 64)),
      ];
      // Chains hold little-endian words: a big-endian module's decide() runs its resume points instead.
      for (const byteOrder of ['le', 'be'] as const) {
        const records = new Uint8Array(calls.flatMap((call) => [...encodeSeccompData(call, byteOrder)]));
        const compiled = compile([filter], { byteOrder });
        const each = Array.from({ length: calls.length }, (_, i) => compiled.decide(records.subarray(i * 64, i * 64 + 64)));
        expect(each, byteOrder).toEqual([...interpretBatch([filter], readRecordStream(records, byteOrder))]);
      }
    }
  }, 60_000);

  it("are left to the rows' own code in decide() where few rows run the filter", () => {
    const filter = program([
      'ld [4]',
      'jeq #0xc000003e, good, kill',
      'kill: ret KILL_PROCESS',
      'good: ld [0]',
      'jeq #1, check, allow', // one syscall of the table's rows has its argument checked
      'check: ld [16]',
      'jset #4, deny, allow',
      'allow: ret ALLOW',
      'deny: ret ERRNO(1)',
    ]);
    const layout = layoutTables(decisionTable([filter]), [filter]);
    expect(layout.chains).toBeDefined();
    const memory = new ArrayBuffer(TABLE_OFFSET + layout.bytes.length);
    new Uint8Array(memory, TABLE_OFFSET).set(layout.bytes);
    expect(rowChains(memory, readTableArches(memory), 'le')).toBeUndefined();
  });

  it('decide generated argument checks exactly as the interpreter, in the JIT and the table kernel', () => {
    const random = seededRandom(29);
    let withChains = 0;
    fc.assert(
      fc.property(fc.integer({ min: 60, max: 120 }), (syscalls) => {
        const filter = checkedFilter(random, syscalls);
        if (chainRows(filter) > 0) withChains++;
        // Half aimed at the filter's constants, half at its syscalls; a few of another arch (i386), outside the tables.
        const calls = biasedRecords(filter.instructions, random, 400, [0xc000003e, 0xc000003e, 0x40000003]).map((call, i) =>
          i % 2 ? { ...call, nr: i % (syscalls + 2) } : call,
        );
        const batch = packRecords(calls);
        const expected = [...interpretBatch([filter], batch)];
        expect([...decideRecords([filter], batch)]).toEqual(expected);
        expect([...tableEngine([filter]).decide(batch)]).toEqual(expected);
      }),
      { numRuns: 150 },
    );
    expect(withChains).toBeGreaterThan(100);
  }, 120_000);
});
