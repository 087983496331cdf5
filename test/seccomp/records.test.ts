import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { archByName } from '../../src/seccomp/arches.js';
import { checkRecordBatch } from '../../src/seccomp/data.js';
import { formatRecordJson, parseRecordJson, parseRecordLines } from '../../src/seccomp/record-json.js';
import { batchByteOrder, decodeSeccompData, encodeSeccompData, packRecords, readRecordStream, type SeccompData } from '../../src/seccomp/records.js';

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const arbitraryRecord: fc.Arbitrary<SeccompData> = fc.record({
  nr: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  arch: fc.oneof(fc.constantFrom(0xc000003e, 0x40000003, 0x80000016, 0xc00000b7), fc.integer({ min: 0, max: 0xffffffff })),
  instructionPointer: u64,
  args: fc.array(u64, { minLength: 6, maxLength: 6 }),
});

describe('seccomp_data records', () => {
  it.each(['le', 'be'] as const)('decode(encode(r)) == r in %s', (order) => {
    fc.assert(
      fc.property(arbitraryRecord, (r) => {
        expect(decodeSeccompData(encodeSeccompData(r, order), order)).toEqual(r);
      }),
      { numRuns: 2000 },
    );
  });

  it('puts the high half of a u64 first on big-endian arches', () => {
    const bytes = encodeSeccompData({ nr: 1, arch: 0x80000016, instructionPointer: 0n, args: [0x1122334455667788n] });
    expect([...bytes.subarray(16, 24)]).toEqual([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    expect([...bytes.subarray(0, 8)]).toEqual([0, 0, 0, 1, 0x80, 0, 0, 0x16]);
  });

  it('JSON lines round-trip through formatRecordJson', () => {
    fc.assert(
      fc.property(arbitraryRecord, (r) => {
        expect(parseRecordJson(formatRecordJson(r), 1)).toEqual(r);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes an x32 number as a number, so that it reads back as itself and not as the x86_64 syscall of that name', () => {
    const x32Read = { nr: 0x40000000, arch: 0xc000003e, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] };
    expect(JSON.parse(formatRecordJson(x32Read)).nr).toBe(0x40000000);
    expect(parseRecordJson(formatRecordJson(x32Read), 1)).toEqual(x32Read);
  });

  it('reads a value the same in every way JSON lines may write it', () => {
    // Any u64 (small ones often: most take the way without BigInt), and a way to write it.
    const value = fc.oneof(u64, fc.bigInt({ min: 0n, max: 2n ** 53n + 5n }), fc.bigInt({ min: 0n, max: 0xffffn }));
    const ways: ((v: bigint) => unknown)[] = [
      (v) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()),
      (v) => `0x${v.toString(16)}`,
      (v) => `0X${v.toString(16).toUpperCase()}`,
      (v) => `0x000${v.toString(16)}`,
      (v) => ` ${v} `,
      (v) => `${v}`,
    ];
    const written = fc.tuple(value, fc.nat(ways.length - 1)).map(([v, way]) => ({ v, text: ways[way]!(v) }));
    fc.assert(
      fc.property(fc.array(written, { minLength: 7, maxLength: 7 }), fc.constantFrom('x86_64', 's390x', 'i386'), ([ip, ...args], arch) => {
        const record = parseRecordJson(JSON.stringify({ arch, nr: 3, ip: ip!.text, args: args.map((a) => a.text) }), 1);
        expect([record.instructionPointer, ...record.args]).toEqual([ip!.v, ...args.map((a) => a.v)]);
      }),
      { numRuns: 2000 },
    );
    // Out of range, however written: the same message.
    for (const ip of ['18446744073709551616', '0x10000000000000000', '-1', '-0x1']) {
      expect(() => parseRecordJson(`{"ip":${JSON.stringify(ip)}}`, 1)).toThrow(`ip ${ip} does not fit (0..18446744073709551615)`);
    }
    expect(() => parseRecordJson('{"ip":-1}', 1)).toThrow('ip -1 does not fit (0..18446744073709551615)');
    expect(() => parseRecordJson('{"nr":4294967296}', 1)).toThrow('nr 4294967296 does not fit (-2147483648..4294967295)');
    expect(() => parseRecordJson('{"arch":-1}', 1)).toThrow('arch -1 does not fit (0..4294967295)');
  });

  it('reads names, strings, numbers and defaults', () => {
    expect(parseRecordJson('{"arch":"x86_64","nr":"openat","ip":"0x7f00","args":[3,"0x10"]}', 1)).toEqual({
      nr: 257,
      arch: 0xc000003e,
      instructionPointer: 0x7f00n,
      args: [3n, 16n, 0n, 0n, 0n, 0n],
    });
    expect(parseRecordJson('{"arch":"0x40000003","nr":"4294967295"}', 1)).toMatchObject({ arch: 0x40000003, nr: -1 });
    expect(parseRecordJson('{}', 1)).toEqual({ nr: 0, arch: 0xc000003e, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] });
  });

  it.each([
    { what: "a name without an arch: the default arch's (x86_64)", line: '{"nr":"read"}', arch: undefined, record: { arch: 0xc000003e, nr: 0 } },
    { what: 'a name without an arch: the arch given (cbpf eval --arch)', line: '{"nr":"read"}', arch: 'i386', record: { arch: 0x40000003, nr: 3 } },
    { what: 'a number without an arch: the arch given', line: '{"nr":5}', arch: 's390x', record: { arch: 0x80000016, nr: 5 } },
    {
      what: "an x32 name without an arch: x86_64's audit value, the x32 bit in nr",
      line: '{"nr":"read"}',
      arch: 'x32',
      record: { arch: 0xc000003e, nr: 0x40000000 },
    },
    { what: "the record's own arch, whatever is given", line: '{"arch":"aarch64","nr":"read"}', arch: 'i386', record: { arch: 0xc00000b7, nr: 63 } },
    { what: 'an arch of 0 written out', line: '{"arch":0,"nr":7}', arch: 'i386', record: { arch: 0, nr: 7 } },
  ])('takes a record without an arch as one of the arch given: $what', ({ line, arch, record }) => {
    const given = arch === undefined ? [] : ([archByName(arch)!] as const);
    expect(parseRecordJson(line, 1, ...given)).toMatchObject(record);
    expect(parseRecordLines(line, ...given)).toEqual([parseRecordJson(line, 1, ...given)]);
  });

  it.each([
    ['{"arch":"x86_64","nr":"nosuch"}', 'unknown syscall "nosuch" for arch x86_64'],
    ['{"arch":"vax"}', 'unknown arch "vax"'],
    ['{"arch":"x86_64","args":[1.5]}', 'args[0] must be an integer'],
    ['{"arch":"x86_64","args":["0x10000000000000000"]}', 'args[0] 0x10000000000000000 does not fit'],
    ['{"arch":"x86_64","args":[1,2,3,4,5,6,7]}', 'args must be an array of at most 6 values'],
    ['{"arch":"x86_64","pid":1}', 'unknown field "pid"'],
    ['{"arch":"x86_64",', 'not valid JSON'],
    ['[1]', 'a record must be a JSON object'],
  ])('rejects %j', (line, message) => {
    expect(() => parseRecordLines(`{"arch":"x86_64"}\n\n${line}`)).toThrow(expect.objectContaining({ code: 'bad-record', line: 3 }));
    expect(() => parseRecordLines(line)).toThrow(message);
  });

  it.each([
    { what: 'a syntax error, at its column', line: '  {"arch":"x86_64","nr":1,}', column: 27, detail: 'not valid JSON: a property must follow ",", not "}"' },
    { what: 'text after the record', line: '{"nr":1} {"nr":2}', column: 10, detail: 'not valid JSON: unexpected "{" after the JSON value' },
    {
      what: 'a field nested 10,000 deep (JSON.stringify overflowed making the message)',
      line: `{"nr":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      column: 0,
      detail: 'nr must be an integer (a JSON number up to 2^53, or a decimal or 0x string), got an array',
    },
    {
      what: 'an argument that is an object',
      line: '{"args":[{"a":1}]}',
      column: 0,
      detail: 'args[0] must be an integer (a JSON number up to 2^53, or a decimal or 0x string), got an object',
    },
    {
      what: 'a 10 MB string, quoted short',
      line: `{"ip":"${'x'.repeat(10_000_000)}"}`,
      column: 0,
      detail: `ip must be an integer (a JSON number up to 2^53, or a decimal or 0x string), got "${'x'.repeat(40)}…"`,
    },
    {
      what: 'a 10 MB number string, quoted short',
      line: `{"ip":"${'9'.repeat(10_000_000)}"}`,
      column: 0,
      detail: `ip ${'9'.repeat(40)}… does not fit (0..18446744073709551615)`,
    },
    {
      what: 'a long unknown field, quoted short',
      line: `{"${'k'.repeat(100)}":1}`,
      column: 0,
      detail: `unknown field "${'k'.repeat(40)}…" (expected arch, nr, ip, args)`,
    },
    { what: 'a line break in an unknown field, escaped', line: '{"a\\nb":1}', column: 0, detail: 'unknown field "a\\nb" (expected arch, nr, ip, args)' },
    {
      what: 'a name for an arch cbpf does not know',
      line: '{"arch":"0x1234","nr":"read"}',
      column: 0,
      detail: 'syscall "read" is named for arch 0x1234, which cbpf has no syscall table for: give nr as a number',
    },
    {
      what: 'a comment line hiding a record behind a \\r',
      line: '  # c\r{"nr":1}',
      column: 6,
      detail: 'a carriage return (\\r) inside a comment would hide the text after it (lines end with \\n or \\r\\n)',
    },
  ])('rejects $what with one line', ({ line, column, detail }) => {
    expect(() => parseRecordLines(`{}\n${line}\n`)).toThrow(expect.objectContaining({ code: 'bad-record', line: 2, column, detail }));
  });

  it('reads binary streams of whole records only', () => {
    expect(readRecordStream(new Uint8Array(128), 'be')).toMatchObject({ count: 2, bigEndian: new Uint8Array([1, 1]), byteOrder: 'be' });
    expect(() => readRecordStream(new Uint8Array(130), 'le')).toThrow('record stream is 130 bytes: 2 whole records and a truncated last one of 2 bytes');
  });

  it("takes a batch's byteOrder as its records', rejecting one its first record disagrees with", () => {
    const batch = readRecordStream(new Uint8Array(128), 'le');
    expect(batchByteOrder(batch)).toBe('le');
    expect(batchByteOrder({ ...batch, byteOrder: undefined, bigEndian: new Uint8Array([0, 1]) })).toBeUndefined();
    expect(() => checkRecordBatch({ ...batch, byteOrder: 'be' })).toThrow(expect.objectContaining({ code: 'byte-order' }));
  });

  it('packs each record in its own arch byte order', () => {
    const batch = packRecords([
      { nr: 1, arch: 0xc000003e, instructionPointer: 0n, args: [] },
      { nr: 1, arch: 0x80000016, instructionPointer: 0n, args: [] },
    ]);
    expect([...batch.bigEndian]).toEqual([0, 1]);
    expect(batch.bytes[0]).toBe(1);
    expect(batch.bytes[64 + 3]).toBe(1);
  });
});
