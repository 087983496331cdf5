import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSummary, Summary } from '../../eval/summary.js';
import { EXAMPLES_PER_DECISION } from '../../eval/summary-counts.js';
import { ACTIONS } from '../../src/seccomp/actions.js';
import { packRecords, type RecordBatch, type SeccompData } from '../../src/seccomp/records.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const S390X = 0x80000016; // big-endian: a batch with it and x86_64 holds both byte orders
const record = (arch: number, nr: number, arg0 = 0n): SeccompData => ({ arch, nr, instructionPointer: 0n, args: [arg0, 0n, 0n, 0n, 0n, 0n] });

/** 10 records: reads allowed, ptrace denied (EPERM) on x86_64; i386 killed; a bogus x86_64 number. */
const records = [
  ...Array.from({ length: 5 }, (_, i) => record(X86_64, 0, BigInt(i))),
  ...Array.from({ length: 4 }, (_, i) => record(X86_64, 101, BigInt(i))),
  record(I386, 3),
];
const decisions = Uint32Array.from(records, (r) => (r.arch === I386 ? ACTIONS.KILL_PROCESS : r.nr === 101 ? ACTIONS.ERRNO | 1 : ACTIONS.ALLOW));

/** Counts every record of `batch` as uncounted by an engine, as the interpreter's are. */
function countAll(summary: Summary, values: Uint32Array, batch: RecordBatch, first: number): void {
  values.forEach((value, i) => void summary.countOne(batch, i, value, first));
}

/** The summary of `values` for `calls`, the first being record `first`. */
function summaryOf(values: Uint32Array, calls: readonly SeccompData[], first = 0): Summary {
  const summary = new Summary();
  countAll(summary, values, packRecords(calls), first);
  return summary;
}

/** The summaries of the records before `at` and from `at` on, merged the later first. */
function mergedAt(at: number, values: Uint32Array, calls: readonly SeccompData[]): Summary {
  const merged = new Summary();
  merged.merge(summaryOf(values.subarray(at), calls.slice(at), at).partial());
  merged.merge(summaryOf(values.subarray(0, at), calls.slice(0, at)).partial());
  return merged;
}

describe('Summary', () => {
  it('counts per action, per arch and per syscall, and keeps the first records of each decision other than ALLOW', () => {
    const summary = new Summary();
    countAll(summary, decisions, packRecords(records), 0);
    const result = summary.result();
    expect(result.records).toBe(10);
    expect(result.actions).toEqual({ ALLOW: 5, 'ERRNO(1)': 4, KILL_PROCESS: 1 });
    expect(result.arches).toEqual([
      { arch: 'x86_64', count: 9, actions: { ALLOW: 5, 'ERRNO(1)': 4 } },
      { arch: 'i386', count: 1, actions: { KILL_PROCESS: 1 } },
    ]);
    expect(result.syscalls.map((s) => `${s.arch} ${s.nr} ${s.count}`)).toEqual(['x86_64 read 5', 'x86_64 ptrace 4', 'i386 read 1']);
    expect(result.examples.map((e) => `${e.action} ${e.record} ${e.nr} ${e.args[0]}`)).toEqual([
      'ERRNO(1) 5 ptrace 0x0',
      'ERRNO(1) 6 ptrace 0x1',
      'ERRNO(1) 7 ptrace 0x2',
      'KILL_PROCESS 9 read 0x0',
    ]);
  });

  it('merges partial summaries, in any order, into the summary of the whole', () => {
    const whole = summaryOf(decisions, records);
    const merged = mergedAt(6, decisions, records);
    expect(merged.result()).toEqual(whole.result());
    expect(formatSummary(merged.result())).toBe(formatSummary(whole.result()));
  });

  it('counts syscall numbers outside the usual range (x32, bogus) too', () => {
    const summary = new Summary();
    const odd = [record(X86_64, 0x40000001), record(X86_64, -1), record(X86_64, 5000)];
    countAll(summary, new Uint32Array(3).fill(ACTIONS.ALLOW), packRecords(odd), 0);
    expect(
      summary
        .result()
        .syscalls.map((s) => s.nr)
        .sort(),
    ).toEqual(['-1', '5000', 'write'].sort());
  });

  it('counts records not in the host byte order under their own syscall numbers', () => {
    // 256 and 65536 are each other's bytes swapped.
    const calls = [record(S390X, 256), record(S390X, 65536), record(S390X, 256)];
    const summary = summaryOf(new Uint32Array(3).fill(ACTIONS.ALLOW), calls);
    expect(summary.partial().syscalls.map(([, nr, records]) => [nr, records])).toEqual([
      [256, 2],
      [65536, 1],
    ]);
  });

  it('counts a syscall decided several ways (by its arguments) under each decision, and merges them', () => {
    const calls = [
      record(X86_64, 41, 1n),
      record(X86_64, 41, 2n),
      record(X86_64, 41, 1n),
      record(X86_64, 41, 3n),
      record(X86_64, 5000, 1n),
      record(X86_64, 5000, 2n),
    ];
    const values = Uint32Array.from(calls, (r) => (r.args[0] === 1n ? ACTIONS.ALLOW : r.args[0] === 2n ? ACTIONS.ERRNO | 97 : ACTIONS.KILL_PROCESS));
    const expected = [
      { arch: 'x86_64', nr: 'socket', count: 4, actions: { ALLOW: 2, 'ERRNO(97)': 1, KILL_PROCESS: 1 } },
      { arch: 'x86_64', nr: '5000', count: 2, actions: { ALLOW: 1, 'ERRNO(97)': 1 } },
    ];
    const whole = summaryOf(values, calls);
    expect(whole.result().syscalls).toEqual(expected);
    expect(mergedAt(1, values, calls).result()).toEqual(whole.result());
  });

  it('counts every record and keeps the first examples of each decision, whatever the arches, numbers, byte orders and batches (aligned or not)', () => {
    const call = fc.record({
      arch: fc.constantFrom(X86_64, I386, S390X),
      // 256 and 65536 are each other's bytes swapped: the other byte order's records must not count as one another.
      nr: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(-1, 256, 1023, 1024, 65536, 0x40000001)),
      value: fc.constantFrom(ACTIONS.ALLOW, ACTIONS.ERRNO | 1, ACTIONS.KILL_PROCESS, ACTIONS.LOG),
    });
    fc.assert(
      // `oneArch`: every record of that arch, so that whole batches are in one byte order, either.
      fc.property(
        fc.array(call, { maxLength: 60 }),
        fc.array(fc.nat(60), { maxLength: 3 }),
        fc.nat(3),
        fc.option(fc.constantFrom(X86_64, S390X)),
        (generated, cuts, misalign, oneArch) => {
          const calls = oneArch === null ? generated : generated.map((c) => ({ ...c, arch: oneArch }));
          const records = calls.map(({ arch, nr }, i) => record(arch, nr, BigInt(i)));
          const values = Uint32Array.from(calls, (c) => c.value);
          // The reference: counts per arch, syscall and value, and the first records of each value other than ALLOW.
          const counts = new Map<string, number>();
          const examples = new Map<number, number[]>();
          calls.forEach(({ arch, nr, value }, i) => {
            const key = `${arch} ${nr} ${value}`;
            counts.set(key, (counts.get(key) ?? 0) + 1);
            const kept = examples.get(value) ?? [];
            if (value !== ACTIONS.ALLOW && kept.length < EXAMPLES_PER_DECISION) examples.set(value, [...kept, i]);
          });
          // The summary, fed in batches cut at `cuts`, their bytes `misalign` bytes into a buffer.
          const summary = new Summary();
          const bounds = [0, ...cuts.filter((c) => c < calls.length).sort((a, b) => a - b), calls.length];
          for (let b = 0; b + 1 < bounds.length; b++) {
            const [from, to] = [bounds[b]!, bounds[b + 1]!];
            const batch = packRecords(records.slice(from, to));
            const bytes = new Uint8Array(misalign + batch.bytes.length).subarray(misalign);
            bytes.set(batch.bytes);
            countAll(summary, values.subarray(from, to), { ...batch, bytes }, from);
          }
          const seen = new Map<string, number>();
          for (const [arch, nr, , byValue] of summary.partial().syscalls) for (const [value, n] of byValue) seen.set(`${arch} ${nr} ${value}`, n);
          expect(seen).toEqual(counts);
          expect(new Map(summary.partial().examples.map(([value, list]) => [value, list.map((e) => e.record)]))).toEqual(examples);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('lets an engine count a syscall once its value needs nothing else, and adds what the engine counted', () => {
    const summary = new Summary();
    const batch = packRecords([record(X86_64, 0), ...Array.from({ length: EXAMPLES_PER_DECISION }, () => record(X86_64, 101))]);
    expect(summary.countOne(batch, 0, ACTIONS.ALLOW, 0)).toBe(true); // ALLOW: never an example
    const ptrace = Array.from({ length: EXAMPLES_PER_DECISION }, (_, i) => summary.countOne(batch, 1 + i, ACTIONS.ERRNO | 1, 0));
    expect(ptrace).toEqual([...Array<boolean>(EXAMPLES_PER_DECISION - 1).fill(false), true]); // once its examples are all kept
    summary.addCounts([
      [X86_64, 0, ACTIONS.ALLOW, 1000],
      [X86_64, 101, ACTIONS.ERRNO | 1, 7],
    ]);
    const result = summary.result();
    expect(result.actions).toEqual({ ALLOW: 1001, 'ERRNO(1)': 7 + EXAMPLES_PER_DECISION });
    expect(result.examples.map((e) => e.record)).toEqual([1, 2, 3]);
  });
});
