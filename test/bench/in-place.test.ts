import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { InPlaceThread } from '../../bench/in-place.js';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { interpretBatch } from '../../interp/stack.js';
import { compile } from '../../jit/compiled.js';
import { RECORD_CAPACITY } from '../../jit/module.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { verify } from '../../src/verifier.js';

describe('the in-place competitor (bench/in-place.ts)', () => {
  it('decides its records where they lie in a thread of its own, growing no memory of this one, and times rounds there', async () => {
    const filter = verify(decodeRaw(readFileSync(SAMPLE_FILTERS.find((s) => s.name === 'docker-tree')!.path)));
    const count = 3 * RECORD_CAPACITY + 5; // past the capacity: the thread's instance grows its memory to hold them
    const records = generateRecords(count, 'realistic', 8);
    const { module } = compile(filter);
    const grow = vi.spyOn(WebAssembly.Memory.prototype, 'grow');
    const thread = await InPlaceThread.start({ module, records });
    try {
      expect([...thread.decisions]).toEqual([...interpretBatch([filter], { bytes: records, count, bigEndian: new Uint8Array(count) })]);
      const ns = await thread.time({ passes: 3, warmUpMs: 0 });
      expect(ns).toHaveLength(3);
      expect(ns.every((n) => n > 0)).toBe(true);
      expect(grow).not.toHaveBeenCalled();
    } finally {
      grow.mockRestore();
      await thread.stop();
    }
  });
});
