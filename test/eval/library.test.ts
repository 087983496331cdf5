/**
 * The short library API (`cbpf/eval`): loadStack() from paths, bytes, text and
 * lists; Stack.decide() on records written as people write them; evaluate()
 * and decideTrace() over files and streams, all agreeing with the reference
 * interpreter.
 */

import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../eval/evaluate.js';
import type { EvalOptions } from '../../eval/options.js';
import { type FilterSource, loadStack, type Stack } from '../../eval/stack.js';
import { actionOf, Summary } from '../../eval/summary.js';
import { interpretBatch } from '../../interp/stack.js';
import { MAX_FILTER_BYTES } from '../../src/codecs/formats.js';
import { InputError } from '../../src/errors.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { parseRecordLines, type RecordFields, recordFromFields } from '../../src/seccomp/record-json.js';
import { encodeSeccompData, packRecords, readRecordStream } from '../../src/seccomp/records.js';
import { thrownBy } from '../helpers.js';

const SAMPLES = join(import.meta.dirname, '../../bench/samples');
const DOCKER = join(SAMPLES, 'docker-linear.bpf');
const ALLOWLIST = join(SAMPLES, 'allowlist-small.bpf');
const MULTIARCH = join(SAMPLES, 'multiarch.bpf');
/** ERRNO(1) for open, ALLOW for anything else. */
const DENY_OPEN = 'ld [nr]\njeq #open, deny, allow\ndeny: ret ERRNO(1)\nallow: ret ALLOW';
/** Each record's args[0] low half as its value: shows which record decide() made. */
const RET_ARG0 = 'ld [args[0].lo]\nret a';

/** JSON lines of records every sample has an opinion on: syscalls allowed and denied, another arch, a bogus number. */
const JSON_TRACE = ['{"nr":"read"}', '{"nr":"ptrace","args":[1,"0x10"]}', '{"arch":"i386","nr":"read"}', '{"nr":"open"}', '{"nr":999}', ''].join('\n');
const REALISTIC = generateRecords(50_000, 'realistic', 1);

let dir: string;
let traceFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cbpf-library-'));
  traceFile = join(dir, 'trace.bin');
  writeFileSync(traceFile, REALISTIC);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error `promise` rejects with (undefined when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** `bytes` as an async iterable of chunks of `size` bytes (the last shorter). */
async function* chunked(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** A sink collecting what is written, and the collected bytes as u32 values or as text. */
function collector(): { sink: { write(bytes: Uint8Array): void }; values(): Uint32Array; text(): string } {
  const parts: Buffer[] = [];
  const all = (): Buffer => Buffer.concat(parts);
  return {
    sink: { write: (bytes) => void parts.push(Buffer.from(bytes)) },
    values: () => new Uint32Array(new Uint8Array(all()).buffer),
    text: () => all().toString('utf8'),
  };
}

/** The reference interpreter's values of `stack` on the JSON lines of `text`. */
const interpretedLines = (stack: Stack, text: string): Uint32Array => interpretBatch(stack.filters, packRecords(parseRecordLines(text)));

describe('loadStack', () => {
  const sources: { name: string; source: () => FilterSource | FilterSource[] }[] = [
    { name: 'a path', source: () => DOCKER },
    { name: 'raw bytes', source: () => readFileSync(DOCKER) },
    { name: 'bpf_asm text', source: () => ({ text: DENY_OPEN }) },
    { name: 'a list of a path, bytes and text', source: () => [ALLOWLIST, readFileSync(DOCKER), { text: DENY_OPEN }] },
  ];

  it.each(sources)('loads $name whose decisions are the interpreter’s', async ({ source }) => {
    const stack = await loadStack(source());
    const expected = interpretedLines(stack, JSON_TRACE);
    const decided = JSON_TRACE.split('\n')
      .filter((line) => line !== '')
      .map((line) => stack.decide(JSON.parse(line) as RecordFields).value);
    expect(decided).toEqual([...expected]);
  });

  it('applies the kernel’s precedence across a stack: ERRNO beats ALLOW whichever filter came first', async () => {
    const allowAll = { text: 'ret ALLOW' };
    for (const list of [
      [allowAll, { text: DENY_OPEN }],
      [{ text: DENY_OPEN }, allowAll],
    ]) {
      const stack = await loadStack(list);
      expect(stack.decide({ nr: 'open' })).toEqual({ value: 0x50001, action: 'ERRNO(1)' });
      expect(stack.decide({ nr: 'read' }).action).toBe('ALLOW');
    }
  });

  it('refuses an empty list (empty-stack), an unknown arch (unknown-name) and a file over MAX_FILTER_BYTES (filter-size)', async () => {
    const huge = join(dir, 'huge.bpf');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_FILTER_BYTES + 1); // sparse: no disk used
    const cases: [Promise<unknown>, string][] = [
      [loadStack([]), 'empty-stack'],
      [loadStack(DOCKER, { arch: 'nope' }), 'unknown-name'],
      [loadStack(huge), 'filter-size'],
    ];
    for (const [promise, code] of cases) {
      const error = await rejection(promise);
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ code });
    }
  });
});

describe('Stack.decide', () => {
  it('reads syscall names and numbers, arch names and numbers, and number, bigint or 0x string args alike', async () => {
    const stack = await loadStack({ text: RET_ARG0 });
    const same: RecordFields[] = [
      { arch: 'x86_64', nr: 'ptrace', ip: 0x1000, args: [0x1234, 2n ** 40n] },
      { arch: 0xc000003e, nr: 101, ip: 4096n, args: [0x1234n, '0x10000000000'] },
      { arch: 'x86_64', nr: 'ptrace', ip: '0x1000', args: ['0x1234', 1099511627776] },
      { nr: 101, ip: '4096', args: ['4660', '1099511627776', 0] },
    ];
    const expected = encodeSeccompData(recordFromFields(same[0]!));
    for (const fields of same) {
      expect(encodeSeccompData(recordFromFields(fields))).toEqual(expected);
      expect(stack.decide(fields).value).toBe(0x1234);
    }
  });

  it('defaults missing fields to x86_64 and 0', async () => {
    const stack = await loadStack(DOCKER);
    expect(recordFromFields({})).toEqual({ arch: 0xc000003e, nr: 0, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] });
    expect(stack.decide({})).toEqual(stack.decide({ arch: 'x86_64', nr: 'read', ip: 0, args: [0, 0, 0, 0, 0, 0] }));
    expect(stack.decide({ arch: 'i386', nr: 'read' })).toEqual(stack.decide({ arch: 0x40000003, nr: 3 }));
  });

  const bad: { name: string; fields: RecordFields }[] = [
    { name: 'an unknown arch name', fields: { arch: 'nope', nr: 0 } },
    { name: 'an unknown syscall name', fields: { nr: 'nope' } },
    { name: 'seven args', fields: { args: [1, 2, 3, 4, 5, 6, 7] } },
    { name: 'a negative arg', fields: { args: [-1] } },
    { name: 'an unknown key', fields: { nr: 0, flags: 1 } as RecordFields },
  ];

  it.each(bad)('refuses $name with record-fields', async ({ fields }) => {
    const stack = await loadStack(DOCKER);
    const error = thrownBy(() => stack.decide(fields));
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'record-fields' });
  });
});

describe('evaluate and decideTrace', () => {
  const expected = (stack: Stack): Uint32Array => interpretBatch(stack.filters, readRecordStream(REALISTIC, 'le'));

  it('decides a binary trace file as the interpreter does, with its summary', async () => {
    const stack = await loadStack(DOCKER);
    const values = collector();
    const report = await stack.evaluate(traceFile, { summary: true, values: values.sink });
    expect(values.values()).toEqual(expected(stack));
    expect(report.records).toBe(50_000);
    expect(report.summary?.records).toBe(50_000);
    expect(report.skipped).toEqual({ count: 0 });
  });

  it.each([
    { engine: 'jit', workers: 1 },
    { engine: 'jit', workers: 2 },
    { engine: 'auto', workers: 1 },
    { engine: 'auto', workers: 2 },
    { engine: 'interp', workers: 1 },
  ] as const)('summarizes as the interpreter decides, counting inside the engine ($engine, $workers workers)', async (options) => {
    // Several arches, x32 numbers and numbers past the tables, values that depend on the arguments.
    const records = new Uint8Array([...generateRecords(30_000, 'realistic', 3), ...generateRecords(30_000, 'random', 4)]);
    const view = new DataView(records.buffer);
    for (let i = 0; i < records.length / 64; i++) {
      if (i % 7 === 0) view.setUint32(i * 64 + 4, 0x40000003, true); // i386
      if (i % 11 === 0) view.setUint32(i * 64, 0x40000000 + (i % 600), true); // x32
      if (i % 13 === 0) view.setUint32(i * 64, 5000 + (i % 3), true);
    }
    const file = join(dir, 'summary-trace.bin');
    writeFileSync(file, records);
    for (const filters of [[MULTIARCH], [ALLOWLIST, DOCKER]]) {
      const stack = await loadStack(filters);
      const batch = readRecordStream(records, 'le');
      const reference = new Summary();
      interpretBatch(stack.filters, batch).forEach((value, i) => void reference.countOne(batch, i, value, 0));
      const report = await stack.evaluate(file, { summary: true, ...options });
      expect(report.summary).toEqual(reference.result());
      expect(report.timing.workerThreads).toBe(options.workers - 1);
    }
  });

  it('interprets a trace known to be a batch at most, and decides a longer one with the tables from its first record', async () => {
    const stack = await loadStack(DOCKER);
    const cache = process.env.CBPF_CACHE_DIR;
    process.env.CBPF_CACHE_DIR = 'off'; // no JIT from an earlier test's cache
    try {
      for (const [count, tier] of [
        [100, 'interpreted'],
        [20_000, 'tabled'],
      ] as const) {
        const file = join(dir, `tiers-${count}.bin`);
        writeFileSync(file, REALISTIC.subarray(0, count * 64));
        const report = await stack.evaluate(file, { workers: 1 });
        expect(report.timing).toMatchObject({ interpreted: tier === 'interpreted' ? count : 0, tabled: tier === 'tabled' ? count : 0, jitted: 0 });
      }
    } finally {
      process.env.CBPF_CACHE_DIR = cache;
    }
  });

  const variants: { name: string; source: () => string | AsyncIterable<Uint8Array>; options: EvalOptions }[] = [
    { name: 'as a stream of odd-sized chunks', source: () => chunked(REALISTIC, 4099), options: {} },
    { name: 'with the interpreter alone', source: () => traceFile, options: { engine: 'interp' } },
    { name: 'with no worker threads', source: () => traceFile, options: { workers: 0 } },
  ];

  it.each(variants)('gives the same values $name', async ({ source, options }) => {
    const stack = await loadStack([ALLOWLIST, DOCKER]);
    const values = collector();
    const report = await evaluate(stack.filters, source(), { ...options, values: values.sink });
    expect(report.records).toBe(50_000);
    expect(values.values()).toEqual(expected(stack));
  });

  it('writes a line per record of a JSON lines stream in the action format', async () => {
    const stack = await loadStack(DOCKER);
    const lines = collector();
    const report = await stack.evaluate(chunked(new TextEncoder().encode(JSON_TRACE), 7), { lines: { format: 'action', sink: lines.sink } });
    expect(report.records).toBe(5);
    expect(lines.text()).toBe([...interpretedLines(stack, JSON_TRACE)].map((value) => `${actionOf(value)}\n`).join(''));
  });

  it('stops at a bad JSON line, saying where, and with skipBad counts it and decides the others', async () => {
    const stack = await loadStack(DOCKER);
    const text = '{"nr":"read"}\n{"nr":\n{"nr":"ptrace"}\n';
    const error = await rejection(stack.evaluate(chunked(new TextEncoder().encode(text), 64)));
    expect(error).toMatchObject({ code: 'bad-record', line: 2 });
    const values = collector();
    const report = await stack.evaluate(chunked(new TextEncoder().encode(text), 64), { skipBad: true, values: values.sink });
    expect(report.records).toBe(2);
    expect(report.skipped.count).toBe(1);
    expect(values.values()).toEqual(interpretedLines(stack, '{"nr":"read"}\n{"nr":"ptrace"}'));
  });

  it('decideTrace gives the values evaluate() writes', async () => {
    const stack = await loadStack(DOCKER);
    const values = collector();
    await stack.evaluate(traceFile, { values: values.sink });
    expect(await stack.decideTrace(traceFile)).toEqual(values.values());
    expect(await stack.decideTrace(chunked(REALISTIC, 1000))).toEqual(values.values());
  });
});
