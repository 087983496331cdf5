import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvalPool } from '../../src/cli/eval-pool.js';
import { generateRecords } from '../../src/fuzz/traces.js';

const allowAll = [[{ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }]];

/** A pool of one worker that reads its ranges from a file of `count` records, deciding with the interpreter. */
function poolOverFile(count: number): EvalPool {
  const file = join(mkdtempSync(join(tmpdir(), 'cbpf-pool-')), 'r.bin');
  writeFileSync(file, generateRecords(count, 'realistic', 3));
  const pool = new EvalPool(1, { filters: allowAll, recordFile: { path: file, byteOrder: 'le' }, format: undefined, binary: true, summary: false });
  pool.use({ engine: 'interp' });
  return pool;
}

describe('EvalPool', () => {
  it('joins consecutive ranges into one task and answers with a decision for each of their records', async () => {
    const pool = poolOverFile(300);
    expect(await pool.submit({ first: 0, count: 100, range: { first: 0, offset: 0, count: 100 } })).toEqual([]);
    expect(await pool.submit({ first: 100, count: 200, range: { first: 100, offset: 6400, count: 200 } })).toEqual([]);
    const results = await pool.drain();
    expect(results.map((r) => r.count)).toEqual([0, 300]); // the engine message, then the two ranges joined
    expect(results[1]!.binary).toHaveLength(300 * 4);
    expect(new Set(new Uint32Array(results[1]!.binary!.slice().buffer))).toEqual(new Set([0x7fff0000]));
  });

  it('fails the run when a worker decides other than the records it was sent', async () => {
    const pool = poolOverFile(100);
    // A piece that says 100 records but whose range holds 60: every decision after it would be shifted.
    await pool.submit({ first: 0, count: 100, range: { first: 0, offset: 0, count: 60 } });
    await expect(pool.drain()).rejects.toThrow('a worker thread decided 60 records of a piece of 100');
  });
});
