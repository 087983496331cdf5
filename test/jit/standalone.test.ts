import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { interpretStack } from '../../interp/stack.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { verify } from '../../src/verifier.js';
import { runCli } from '../helpers.js';

/** A program that knows only the ABI in docs/design.md: plain WebAssembly, nothing from cbpf. */
const STANDALONE = `
const { readFileSync } = require('node:fs');
const [wasmPath, recordsPath] = process.argv.slice(1);
WebAssembly.instantiate(readFileSync(wasmPath), {}).then(({ instance }) => {
  const { memory, heap_base, decide, decide_batch } = instance.exports;
  const records = readFileSync(recordsPath);
  const count = records.length / 64;
  const at = heap_base.value;
  const out = at + count * 64;
  const needed = out + count * 4 - memory.buffer.byteLength;
  if (needed > 0) memory.grow(Math.ceil(needed / 65536));
  new Uint8Array(memory.buffer, at, records.length).set(records);
  decide_batch(at, count, out);
  const batch = Array.from(new Uint32Array(memory.buffer, out, count));
  const single = Array.from({ length: count }, (_, i) => decide(at + i * 64) >>> 0);
  process.stdout.write(JSON.stringify({ batch, single }));
});
`;

describe('a standalone .wasm from cbpf compile', () => {
  it('is loaded with plain WebAssembly.instantiate in another process and decides as the interpreter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-wasm-'));
    const paths = SAMPLE_FILTERS.filter((s) => s.name !== 'allowlist-small').map((s) => s.path); // a stack of three
    const run = await runCli(['compile', ...paths, '-o', 'filter.wasm']);
    expect(run.code).toBe(0);
    writeFileSync(join(dir, 'filter.wasm'), run.files.get('filter.wasm')!);
    const records = generateRecords(10_000, 'realistic', 9);
    writeFileSync(join(dir, 'records.bin'), records);
    const result = JSON.parse(
      execFileSync('node', ['-e', STANDALONE, join(dir, 'filter.wasm'), join(dir, 'records.bin')], { cwd: dir, maxBuffer: 1 << 26 }).toString(),
    ) as { batch: number[]; single: number[] };
    const filters = paths.map((p) => verify(decodeRaw(readFileSync(p))));
    const expected = Array.from({ length: 10_000 }, (_, i) => interpretStack(filters, records.subarray(i * 64, i * 64 + 64), 'le').value);
    expect(result.batch).toEqual(expected);
    expect(result.single).toEqual(expected);
  });

  it('--wat writes the module as text', async () => {
    const run = await runCli(['compile', SAMPLE_FILTERS[0]!.path, '--wat']);
    expect(run.stdout).toMatch(/^\(module\n/);
    expect(run.stdout).toContain('(export "decide" (func $decide))');
  });

  it('refuses to compile a filter the kernel would refuse', async () => {
    const run = await runCli(['compile', 'bad.s', '-o', 'x.wasm'], { files: { 'bad.s': 'ld M[0]\nret a' } });
    expect(run).toMatchObject({ code: 1, stderr: 'cbpf: bad.s: pc 0: M[0] may be read before it is written [EINVAL]\n' });
  });
});
