import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { interpret } from '../../interp/interpret.js';
import { cachedModules, compileInWorker } from '../../jit/background.js';
import { moduleEngine } from '../../jit/instance.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { verify } from '../../src/verifier.js';

const saved = process.env.CBPF_CACHE_DIR;
const folders: string[] = [];
afterEach(() => {
  if (saved === undefined) delete process.env.CBPF_CACHE_DIR;
  else process.env.CBPF_CACHE_DIR = saved;
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('compileInWorker and cachedModules', () => {
  it('compiles in a worker and keeps the modules in the on-disk cache, from where they decide alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-cache-'));
    folders.push(dir);
    process.env.CBPF_CACHE_DIR = dir;
    const filter = verify([
      { code: 0x20, jt: 0, jf: 0, k: 0 },
      { code: 0x15, jt: 0, jf: 1, k: 2 },
      { code: 0x06, jt: 0, jf: 0, k: 0x50001 },
      { code: 0x16, jt: 0, jf: 0, k: 0 },
    ]);
    expect(cachedModules([filter], ['le', 'be'])).toBeUndefined();
    const compiled = await compileInWorker([filter], ['le', 'be']);
    expect(readdirSync(dir)).toHaveLength(2);
    const cached = cachedModules([filter], ['le', 'be'])!;
    expect(Object.keys(cached).sort()).toEqual(['be', 'le']);
    const records = generateRecords(500, 'realistic', 2);
    const batch = { bytes: records, count: 500, bigEndian: new Uint8Array(500) };
    const expected = Array.from({ length: 500 }, (_, i) => interpret(filter, records.subarray(i * 64, i * 64 + 64), 'le'));
    expect(Array.from(moduleEngine(cached, 1).decide(batch))).toEqual(expected);
    expect(Array.from(moduleEngine(compiled, 1).decide(batch))).toEqual(expected);
  }, 60_000);

  it('decides a batch in its record slots where it lies, and any other batch into an array of its own', async () => {
    process.env.CBPF_CACHE_DIR = 'off';
    const filter = verify([
      { code: 0x20, jt: 0, jf: 0, k: 0 },
      { code: 0x15, jt: 0, jf: 1, k: 2 },
      { code: 0x06, jt: 0, jf: 0, k: 0x50001 },
      { code: 0x16, jt: 0, jf: 0, k: 0 },
    ]);
    const decider = moduleEngine(await compileInWorker([filter], ['le', 'be']), 1);
    const records = generateRecords(500, 'realistic', 3);
    const expected = Array.from({ length: 500 }, (_, i) => interpret(filter, records.subarray(i * 64, i * 64 + 64), 'le'));
    const slots = decider.recordSlots('le', 500);
    slots.set(records);
    const inPlace = decider.decide({ bytes: slots, count: 500, bigEndian: new Uint8Array(500) });
    expect(inPlace.buffer).toBe(slots.buffer);
    expect(Array.from(inPlace)).toEqual(expected);
    const elsewhere = decider.decide({ bytes: records, count: 500, bigEndian: new Uint8Array(500) });
    expect(elsewhere.buffer).not.toBe(slots.buffer);
    expect(Array.from(elsewhere)).toEqual(expected);
    // Records in the slots said to be in both byte orders: each is decided in its own.
    const mixed = new Uint8Array(500);
    mixed[7] = 1;
    decider.recordSlots('le', 500).set(records);
    const asMixed = expected.map((value, i) => (i === 7 ? interpret(filter, records.subarray(7 * 64, 8 * 64), 'be') : value));
    expect(asMixed[7]).not.toBe(expected[7]);
    expect(Array.from(decider.decide({ bytes: decider.recordSlots('le', 500), count: 500, bigEndian: mixed }))).toEqual(asMixed);
  }, 60_000);

  it('keeps nothing when the cache is off', async () => {
    process.env.CBPF_CACHE_DIR = 'off';
    const filter = verify([{ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }]);
    expect(Object.keys(await compileInWorker([filter], ['le']))).toEqual(['le']);
    expect(cachedModules([filter], ['le'])).toBeUndefined();
  }, 60_000);
});
