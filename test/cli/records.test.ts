import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/memory-io.js';
import { CHUNK_RECORDS, chunkSeed } from '../../src/cli/records.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { parseRecordLines } from '../../src/seccomp/record-json.js';
import { decodeSeccompData } from '../../src/seccomp/records.js';
import { runCli } from '../helpers.js';

const decodeAll = (bytes: Uint8Array) => Array.from({ length: bytes.length / 64 }, (_, i) => decodeSeccompData(bytes, 'le', i * 64));
/** Whether two byte arrays are equal: toEqual compares megabytes element by element, for minutes. */
const sameBytes = (actual: Uint8Array | undefined, expected: Uint8Array): boolean => actual !== undefined && Buffer.compare(actual, expected) === 0;

describe('cbpf records', () => {
  it.each([
    ['realistic records from the default seed', ['--generate', '1000'], 1000, 'realistic', 1],
    ['random records from seed 7', ['--generate', '1000', '--mix', 'random', '--seed', '7'], 1000, 'random', 7],
    ['no records', ['--generate', '0'], 0, 'realistic', 1],
  ] as const)('writes %s as the tests and benchmarks generate them', async (_, options, count, mix, seed) => {
    const run = await runCli(['records', ...options, '-o', 't.bin']);
    expect(run.code).toBe(0);
    expect(sameBytes(run.files.get('t.bin'), generateRecords(count, mix, seed))).toBe(true);
  });

  it('writes the same records as JSON lines that eval reads back', async () => {
    const binary = await runCli(['records', '--generate', '500', '--mix', 'random']);
    const lines = await runCli(['records', '--generate', '500', '--mix', 'random', '--format', 'jsonl']);
    expect(lines.stdout.split('\n')).toHaveLength(501);
    expect(parseRecordLines(lines.stdout)).toEqual(decodeAll(binary.stdoutBytes));
  });

  it('goes on past a chunk with a seed of its own, bounding memory', async () => {
    const run = await runCli(['records', '--generate', String(CHUNK_RECORDS + 10), '--seed', '3']);
    expect(run.code).toBe(0);
    expect(sameBytes(run.stdoutBytes.subarray(0, CHUNK_RECORDS * 64), generateRecords(CHUNK_RECORDS, 'realistic', 3))).toBe(true);
    expect(sameBytes(run.stdoutBytes.subarray(CHUNK_RECORDS * 64), generateRecords(10, 'realistic', chunkSeed(3, 1)))).toBe(true);
    expect(chunkSeed(3, 1)).not.toBe(3);
  });

  it.each([
    ['refuses binary records', ['--generate', '3'], 1, /^cbpf: refusing to write binary output to a terminal: use -o FILE, a pipe, or --format jsonl\n$/],
    ['writes JSON lines', ['--generate', '3', '--format', 'jsonl'], 0, /^$/],
  ])('%s to a terminal', async (_, options, code, stderr) => {
    const { io, output } = memoryIo();
    expect(await main(['records', ...options], { ...io, stdoutIsTTY: true })).toBe(code);
    expect(output().stderr).toMatch(stderr);
  });
});
