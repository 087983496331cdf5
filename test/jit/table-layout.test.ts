import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { TABLE_OFFSET } from '../../jit/layout-abi.js';
import { ARCH_ENTRY_BYTES, HEADER_BYTES, layoutTables, RESUME_POINT_BYTES, TABLE_HEADER } from '../../jit/table-layout.js';
import { assemble } from '../../src/codecs/asm.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { decisionTable, NOT_CONSTANT } from '../../src/decision-table.js';
import { verify } from '../../src/verifier.js';

const sample = (name: string) => verify(decodeRaw(readFileSync(SAMPLE_FILTERS.find((s) => s.name === name)!.path)));

describe('layoutTables', () => {
  it("writes a header, the arches, then one row per syscall number: the value, an entry number per filter, a lone filter's chain, a counter", () => {
    const filters = [sample('docker-linear')];
    const table = decisionTable(filters);
    const layout = layoutTables(table, filters);
    const values = table.arches[0]!.values;
    const view = new DataView(layout.bytes.buffer);
    const word = (at: number) => view.getUint32(at, true);
    expect(layout).toMatchObject({ stride: 32, counterAt: 16, chains: { fromRow: 8 } });
    expect([TABLE_HEADER.archCount, TABLE_HEADER.filterCount, TABLE_HEADER.stride, TABLE_HEADER.counterAt, TABLE_HEADER.chainFromRow].map(word)).toEqual([
      1, 1, 32, 16, 8,
    ]);
    const rowsAt = layout.offsets[0]! - TABLE_OFFSET;
    expect([0, 4, 8, 12].map((i) => word(HEADER_BYTES + i))).toEqual([table.arches[0]!.auditArch, table.arches[0]!.firstNr, values.length, layout.offsets[0]]);
    const missed = [...values.keys()].filter((i) => values[i] === NOT_CONSTANT);
    expect(missed.map((i) => word(rowsAt + i * 32))).toEqual(missed.map(() => NOT_CONSTANT));
    expect(missed.map((i) => word(rowsAt + i * 32 + 4))).toEqual([1, 2, 3]); // socket, clone, personality: one entry each
    expect(missed.map((i) => word(rowsAt + i * 32 + 8) !== 0)).toEqual([true, false, true]); // clone's checks are no chain
    expect(layout.entries[0]!.map((entry) => entry.a)).toEqual(missed); // A holds nr there
    expect([...values.keys()].every((i) => [16, 20, 24, 28].every((c) => word(rowsAt + i * 32 + c) === 0))).toBe(true); // counters start unsettled, at 0
    // The program follows the rows, an instruction in 8 bytes; then its resume points, 19 words each.
    const instructionsAt = word(HEADER_BYTES + ARCH_ENTRY_BYTES) - TABLE_OFFSET;
    const first = filters[0]!.instructions[0]!;
    expect([view.getUint16(instructionsAt, true), word(instructionsAt + 4)]).toEqual([first.code, first.k]);
    const resumeAt = word(HEADER_BYTES + ARCH_ENTRY_BYTES + 4) - TABLE_OFFSET;
    expect([0, 1, 2].map((i) => word(resumeAt + i * RESUME_POINT_BYTES))).toEqual(layout.entries[0]!.map((entry) => entry.pc));
  });

  it("lists each filter's entry numbers by row across the arches, as the rows hold them", () => {
    const filters = [sample('multiarch')];
    const table = decisionTable(filters);
    const layout = layoutTables(table, filters);
    const view = new DataView(layout.bytes.buffer);
    expect(table.arches).toHaveLength(2);
    expect(layout.firstRows).toEqual([0, table.arches[0]!.values.length]);
    const held = table.arches.flatMap((arch, a) =>
      Array.from(arch.values, (_, slot) => view.getUint32(layout.offsets[a]! - TABLE_OFFSET + slot * layout.stride + 4, true)),
    );
    expect(layout.entriesByRow[0]).toEqual(held);
    expect(new Set(held).size).toBe(layout.entries[0]!.length + 1); // every entry, and 0 for the constant rows
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
