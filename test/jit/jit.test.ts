import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { argumentHeavyFilter, largeFilter } from '../../bench/synthetic.js';
import { interpret } from '../../interp/interpret.js';
import { interpretBatch } from '../../interp/stack.js';
import { compile, decideRecords } from '../../jit/compiled.js';
import { CompiledFilter } from '../../jit/instance.js';
import { buildModule, RECORD_CAPACITY } from '../../jit/module.js';
import { tableEngine } from '../../jit/tables.js';
import { assemble } from '../../src/codecs/asm.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { biasedRecords, generateProgram } from '../../src/fuzz/programs.js';
import { seededRandom } from '../../src/fuzz/random.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { int32At } from '../../src/seccomp/data.js';
import { encodeSeccompData, packRecords, readRecordStream } from '../../src/seccomp/records.js';
import { type VerifiedProgram, verify } from '../../src/verifier.js';

const sample = (name: string) => verify(decodeRaw(readFileSync(SAMPLE_FILTERS.find((s) => s.name === name)!.path)));

describe('the JIT', () => {
  it.each(SAMPLE_FILTERS.map((s) => s.name))(
    'decides 1,000,000 realistic records of %s exactly as the interpreter',
    (name) => {
      const filter = sample(name);
      const records = generateRecords(1_000_000, 'realistic', 5);
      const jit = compile(filter).decideBatch(records);
      let mismatches = 0;
      for (let i = 0; i < jit.length; i++) if (jit[i] !== interpret(filter, records.subarray(i * 64, i * 64 + 64), 'le')) mismatches++;
      expect(mismatches).toBe(0);
    },
    60_000,
  );

  it('counts each record inside the batch loop, or hands it to JavaScript, by arch, syscall and value as the interpreter decides', () => {
    // argument-heavy decides a syscall several ways by its arguments; alone it runs inline in the loop, in a stack through run_filters.
    for (const stack of [[argumentHeavyFilter()], [sample('allowlist-small'), argumentHeavyFilter(), sample('docker-linear')]]) {
      const records = new Uint8Array([...generateRecords(20_000, 'realistic', 8), ...generateRecords(20_000, 'random', 9)]);
      const key = (i: number, value: number) => `${int32At(records, i * 64 + 4, true) >>> 0} ${int32At(records, i * 64, true)} ${value >>> 0}`;
      const tally = (counts: Map<string, number>, at: string, n: number) => counts.set(at, (counts.get(at) ?? 0) + n);
      const expected = new Map<string, number>();
      interpretBatch(stack, readRecordStream(records, 'le')).forEach((value, i) => void tally(expected, key(i, value), 1));
      const counted = new Map<string, number>();
      const compiled = compile(stack);
      compiled.decideCounting(records, (i, value) => {
        tally(counted, key(i, value), 1);
        return true; // settle the row on this value: its later records of the value are counted in wasm
      });
      for (const [arch, nr, value, n] of compiled.takeCounts()) tally(counted, `${arch >>> 0} ${nr} ${value >>> 0}`, n);
      expect(counted).toEqual(expected);
    }
  });

  it('gives the same values through decide, decideBatch and the zero-copy slots', () => {
    const compiled = compile(sample('docker-tree'));
    const records = generateRecords(100, 'random', 3);
    const batch = compiled.decideBatch(records);
    const single = Array.from({ length: 100 }, (_, i) => compiled.decide(records.subarray(i * 64, i * 64 + 64)));
    const slots = compiled.recordSlots(100);
    slots.set(records);
    expect([...batch]).toEqual(single);
    expect([...compiled.decideSlots(100)]).toEqual(single);
    expect([...compiled.decideBatch(slots)]).toEqual(single); // records already in the slots: decided where they lie
  });

  it.each([10, 5000])('decides one record without touching the %i records in the slots', (count) => {
    const compiled = compile(sample('docker-tree'));
    const records = generateRecords(count, 'random', 5);
    const expected = [...compiled.decideBatch(records)];
    const slots = compiled.recordSlots(count);
    slots.set(records);
    const other = generateRecords(1, 'realistic', 6);
    const value = interpret(sample('docker-tree'), other, 'le');
    expect([compiled.decide(other), compiled.decideFilter(0, other)]).toEqual([value, value]);
    expect([...compiled.decideSlots(count)]).toEqual(expected); // the slots still hold their records, and are still the slots
  });

  it('decides more records than its capacity where they lie, in memory grown for them', () => {
    const compiled = compile(sample('docker-tree'));
    const count = 3 * compiled.capacity + 5;
    const records = generateRecords(count, 'random', 4);
    const expected = [...compiled.decideBatch(records)]; // copied in, a chunk at a time
    const slots = compiled.recordSlots(count);
    slots.set(records);
    expect([...compiled.decideSlots(count)]).toEqual(expected);
    expect([...compiled.decideBatch(slots)]).toEqual(expected); // where they lie
    expect(() => compiled.decideSlots(count + 1)).toThrow(expect.objectContaining({ name: 'InputError', code: 'slot-count' }));
    const few = compiled.recordSlots(10); // back at the start of memory
    few.set(records.subarray(0, 10 * 64));
    expect([...compiled.decideSlots(10)]).toEqual(expected.slice(0, 10));
    expect([...compiled.decideBatch(slots)]).toEqual(expected); // no longer the slots: copied, with the same values
    // decide() looks up and copies through views of memory, made again when memory grew
    expect(Array.from({ length: count }, (_, i) => compiled.decide(records.subarray(64 * i, 64 * i + 64)))).toEqual(expected);
  });

  it('grows no memory to be made, nor to decide a batch within its capacity or one record at a time', () => {
    // Growing memory detaches its old buffer, and from then on V8 checks every typed array access of the process for that.
    const stacks = [...SAMPLE_FILTERS.map((s) => [sample(s.name)]), [argumentHeavyFilter()], [largeFilter()], [sample('multiarch'), sample('docker-tree')]];
    const records = generateRecords(1000, 'realistic', 6);
    const batch = { bytes: records, count: 1000, bigEndian: new Uint8Array(1000) };
    const compiled = stacks.map((filters) => compile(filters)); // built before the spy: making instances is what it watches
    const grow = vi.spyOn(WebAssembly.Memory.prototype, 'grow');
    try {
      stacks.forEach((filters, i) => {
        const jit = new CompiledFilter(compiled[i]!.wasm, compiled[i]!.module, 'le', filters.length);
        jit.decideBatch(records);
        jit.decide(records.subarray(0, 64));
        tableEngine(filters).decide(batch);
      });
      expect(grow).not.toHaveBeenCalled();
      new CompiledFilter(compiled[0]!.wasm, compiled[0]!.module, 'le', 1).recordSlots(RECORD_CAPACITY + 1);
      expect(grow).toHaveBeenCalledOnce(); // room past the capacity, as recordSlots says
    } finally {
      grow.mockRestore();
    }
  });

  it('compiles the same stack once', () => {
    const filter = sample('allowlist-small');
    expect(compile(filter)).toBe(compile(verify(decodeRaw(readFileSync(SAMPLE_FILTERS[0]!.path)))));
    expect(compile(filter, { byteOrder: 'be' })).not.toBe(compile(filter));
  });

  it('lays out 4,000 distinct jump targets', () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `jeq #${i}, ${2 * i + 2}, ${2 * i + 3}\nret #${i + 1}`);
    lines[1999] = 'jeq #1999, 3999, 3999\nret #2000';
    const filter = verify(assemble([...lines, 'ret #0'].join('\n')));
    const compiled = compile(filter);
    for (const a of [0, 1, 7, 1998, 5000]) {
      const record = encodeSeccompData({ nr: 0, arch: 0xc000003e, instructionPointer: 0n, args: [] });
      new DataView(record.buffer).setUint32(0, a, true);
      expect(compiled.decide(record)).toBe(interpret(filter, record, 'le'));
    }
  });

  /**
   * Syscalls 1 to `last` on x86_64 and on i386, each allowed for one value of
   * args[0]: a resume point each, in adjacent rows of two arches.
   */
  const adjacentResumePoints = (last: number): VerifiedProgram => {
    const lines = [
      'ld [4]',
      'jeq #0xc000003e, go_x86, not_x86',
      'go_x86: ja x86',
      'not_x86: jeq #0x40000003, go_i386, deny',
      'go_i386: ja i386',
      'deny: ret #0x50001',
    ];
    for (const [arch, base] of [
      ['x86', 100],
      ['i386', 200],
    ] as const) {
      lines.push(`${arch}: ld [0]`);
      for (let nr = 1; nr <= last; nr++)
        lines.push(
          `${arch}_nr${nr}: jeq #${nr}, ${arch}_args${nr}, ${arch}_nr${nr + 1}`,
          `${arch}_args${nr}: ld [16]`,
          `jeq #${base + nr}, ${arch}_allow${nr}, ${arch}_deny${nr}`,
          `${arch}_allow${nr}: ret #0x7fff0000`,
          `${arch}_deny${nr}: ret #0x50001`,
        );
      lines.push(`${arch}_nr${last + 1}: ret #0x7fff0000`);
    }
    return verify(assemble(lines.join('\n')));
  };

  it.each([
    ['twelve adjacent resume points on two arches (reached by the table row)', () => adjacentResumePoints(6)],
    ['120 adjacent resume points on two arches (constant rows through the same jump)', () => adjacentResumePoints(60)],
    ['multiarch (seven resume points on two arches, reached by the table row)', () => sample('multiarch')],
    ['docker-linear (three resume points, reached by the entry number in the row)', () => sample('docker-linear')],
  ])('reaches the resume points of %s on every arch, in either byte order, as the interpreter decides', (_, make) => {
    const filter = make();
    const data = biasedRecords(filter.instructions, seededRandom(19), 5000, 'any');
    for (const byteOrder of ['le', 'be'] as const) {
      const records = new Uint8Array(data.flatMap((d) => [...encodeSeccompData(d, byteOrder)]));
      const decided = compile(filter, { byteOrder }).decideBatch(records);
      const expected = data.map((_, i) => interpret(filter, records.subarray(i * 64, i * 64 + 64), byteOrder));
      expect([...decided]).toEqual(expected);
    }
  });

  it('makes one decide() per instance, however it is first read: a detached one is the same function', () => {
    const { binary } = buildModule([sample('docker-linear')], 'le');
    const instance = new CompiledFilter(binary, new WebAssembly.Module(binary), 'le', 1);
    const decide = instance.decide; // read before any call, as `const { decide } = filter` or a callback would
    const records = generateRecords(10, 'realistic', 4);
    const values = Array.from({ length: 10 }, (_, i) => decide(records.subarray(i * 64, i * 64 + 64)));
    expect(instance.decide).toBe(decide);
    expect(values).toEqual([...instance.decideBatch(records)]);
  });

  it('reads big-endian records when compiled for them', () => {
    const filter = verify(assemble('ld [20]\ntax\nld [0]\nadd x\nret a')); // [20] is args[0].lo on big-endian arches
    const record = encodeSeccompData({ nr: 5, arch: 0x80000016, instructionPointer: 0n, args: [0x1234n] });
    expect(compile(filter, { byteOrder: 'be' }).decide(record)).toBe(interpret(filter, record, 'be'));
    expect(interpret(filter, record, 'be')).toBe(0x1239);
  });

  it('matches the interpreter on generated programs, stacks of them, and records aimed at their constants, in batches and one at a time', () => {
    const random = seededRandom(17);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), (depth) => {
        const filters = Array.from({ length: depth }, () => verify(generateProgram(random)));
        const batch = packRecords(
          biasedRecords(
            filters.flatMap((f) => [...f.instructions]),
            random,
            30,
            'any',
          ),
        );
        const expected = [...interpretBatch(filters, batch)];
        expect([...decideRecords(filters, batch)]).toEqual(expected);
        // decide() one record at a time, each after the one before went through the same scratch record
        const oneByOne = Array.from({ length: batch.count }, (_, i) =>
          compile(filters, { byteOrder: batch.bigEndian[i] ? 'be' : 'le' }).decide(batch.bytes.subarray(64 * i, 64 * i + 64)),
        );
        expect(oneByOne).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('runs each record of a batch from its own state, whatever the record before it left in a one-filter stack inline', () => {
    const x86_64 = 0xc000003e;
    const call = (arch: number, nr: number, arg0: bigint) => ({ arch, nr, instructionPointer: 0n, args: [arg0, 0n, 0n, 0n, 0n, 0n] });
    const cases = [
      // Entry 0 (an arch the table does not hold; little-endian, so the batch is one pass) must start with X = 0, after a run that set X.
      [
        'ld [4]',
        'jeq #0xc000003e, x86, other',
        'x86: ld [0]',
        'jeq #1, args, allow',
        'args: ld [16]',
        'tax',
        'jeq #0, allow, deny',
        'allow: ret ALLOW',
        'deny: ret ERRNO(1)',
        'other: txa',
        'ret a',
      ],
      // With no arch checked there is no table: every record runs from pc 0, which reads A before writing it.
      ['jeq #0, start, stale', 'start: ld [0]', 'ret a', 'stale: ret #77'],
      // A resume point (nr 1: its argument decides) where M[0] was stored 0 must not see the M[0] a run stored after it.
      [
        'ld [4]',
        'jeq #0xc000003e, ok, kill',
        'ok: ld #0',
        'st M[0]',
        'ld [0]',
        'jeq #1, args, allow',
        'args: ld [16]',
        'jeq #0, zero, other',
        'other: ld [16]',
        'st M[0]',
        'ret ALLOW(1)',
        'zero: ld M[0]',
        'ret a',
        'allow: ret ALLOW',
        'kill: ret KILL_PROCESS',
      ],
      // A stack of one filter that returns ALLOW with data bits (A = 0x7fff0001) decides plain ALLOW.
      ['ld [16]', 'ret a'],
    ];
    const calls = [
      call(x86_64, 1, 7n),
      call(0x4000abcd, 1, 0n),
      call(x86_64, 1, 5n),
      call(x86_64, 1, 0n),
      call(x86_64, 2, 0n),
      call(0x4000abcd, 0, 9n),
      call(x86_64, 3, 0x7fff0001n),
    ];
    for (const lines of cases) {
      const filter = verify(assemble(lines.join('\n')));
      const batch = packRecords(calls);
      expect([...decideRecords([filter], batch)], lines.join('; ')).toEqual([...interpretBatch([filter], batch)]);
    }
  });

  it('exposes each filter of a stack before precedence', () => {
    const compiled = compile([verify(assemble('ret ALLOW(5)')), verify(assemble('ret ERRNO(3)'))]);
    const record = new Uint8Array(64);
    expect([compiled.decideFilter(0, record), compiled.decideFilter(1, record), compiled.decide(record)]).toEqual([0x7fff0005, 0x50003, 0x50003]);
  });

  it('exposes a lone filter before precedence too, by constant or by A', () => {
    const record = encodeSeccompData({ arch: 0xc000003e, nr: 0, instructionPointer: 0n, args: [0x7fff0001n, 0n, 0n, 0n, 0n, 0n] }, 'le');
    const constant = compile(verify(assemble('ld [4]\njeq #0xc000003e, x86, kill\nx86: ret ALLOW(5)\nkill: ret KILL_PROCESS')));
    const fromA = compile(verify(assemble('ld [16]\nret a')));
    expect([constant.decideFilter(0, record), constant.decide(record), ...constant.decideBatch(record)]).toEqual([0x7fff0005, 0x7fff0000, 0x7fff0000]);
    expect([fromA.decideFilter(0, record), fromA.decide(record), ...fromA.decideBatch(record)]).toEqual([0x7fff0001, 0x7fff0000, 0x7fff0000]);
  });

  it('can emit the module as text', () => {
    expect(buildModule([sample('allowlist-small')], 'le', { text: true }).text).toContain('(export "decide_batch"');
  });
});
