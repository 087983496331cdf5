import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { TABLE_OFFSET } from '../../jit/layout-abi.js';
import { layoutTables } from '../../jit/table-layout.js';
import { assemble } from '../../src/codecs/asm.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { decisionTable, NOT_CONSTANT } from '../../src/decision-table.js';
import { verify } from '../../src/verifier.js';

const sample = (name: string) => verify(decodeRaw(readFileSync(SAMPLE_FILTERS.find((s) => s.name === name)!.path)));

describe('layoutTables', () => {
  it('writes one row per syscall number: the value, then an entry number per filter', () => {
    const filters = [sample('docker-linear')];
    const table = decisionTable(filters);
    const layout = layoutTables(table, filters);
    const values = table.arches[0]!.values;
    expect(layout).toMatchObject({ stride: 8, offsets: [TABLE_OFFSET] });
    expect(layout.bytes.length).toBe(values.length * 8);
    const view = new DataView(layout.bytes.buffer);
    const missed = [...values.keys()].filter((i) => values[i] === NOT_CONSTANT);
    expect(missed.map((i) => view.getUint32(i * 8, true))).toEqual(missed.map(() => NOT_CONSTANT));
    expect(missed.map((i) => view.getUint32(i * 8 + 4, true))).toEqual([1, 2, 3]); // socket, clone, personality: one entry each
    expect(layout.entries[0]!.map((entry) => entry.a)).toEqual(missed); // A holds nr there
  });

  it('gives resume points at the same `ret #k` one entry, whatever the state', () => {
    const needsArgs = 'ld [4]\njeq #AUDIT_ARCH_X86_64, native, allow\nnative: ld [16]\nret a\nallow: ret ALLOW';
    const fixed = 'ld [4]\njeq #AUDIT_ARCH_X86_64, native, allow\nnative: ld [0]\nret ERRNO(1)\nallow: ret ALLOW';
    const filters = [verify(assemble(fixed)), verify(assemble(needsArgs))];
    const layout = layoutTables(decisionTable(filters), filters);
    expect(layout.entries[0]).toHaveLength(1); // every nr reaches `ret ERRNO(1)` with its own A
    expect(layout.entries[0]![0]!.pc).toBe(3);
  });
});
