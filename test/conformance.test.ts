/**
 * Runs every case of the conformance corpus on every engine of the one list
 * (eval/engines.ts), and on the JIT's one-record API besides.
 */
import { describe, expect, it } from 'vitest';
import { ENGINES } from '../eval/engines.js';
import { decideEngine } from '../jit/compiled.js';
import { formatAsm } from '../src/disasm.js';
import type { MakeEngine } from '../src/engine.js';
import { packRecords } from '../src/seccomp/records.js';
import { type VerifiedProgram, VerifyError, verify, verifyStack } from '../src/verifier.js';
import { loadCorpus } from './conformance/corpus.js';

const ENGINE_MAKERS: readonly { name: string; make: MakeEngine }[] = [
  ...(await Promise.all(ENGINES.map(async (engine) => ({ name: engine.name, make: await engine.load() })))),
  { name: 'jit decide', make: decideEngine },
];

const corpus = loadCorpus();
const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

function verifyAll(programs: readonly (readonly import('../src/instruction.js').Instruction[])[]): VerifiedProgram[] {
  const filters = programs.map((p) => verify(p));
  verifyStack(filters);
  return filters;
}

describe('the conformance corpus', () => {
  it('has at least 200 cases with unique names', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
  });

  it('exercises every verifier rule but permission (an option, tested in verifier.test.ts)', () => {
    const rules = new Set(corpus.flatMap((c) => (c.rejected ? [c.rejected.rule] : [])));
    expect([...rules].sort()).toEqual([
      'branch-out-of-range',
      'data-offset',
      'division-by-zero',
      'jump-out-of-range',
      'length',
      'no-final-return',
      'not-allowed-in-seccomp',
      'scratch-index',
      'shift-too-far',
      'stack-too-long',
      'uninitialized-scratch',
      'unknown-ancillary',
      'unknown-opcode',
    ]);
  });
});

describe.each(corpus.filter((c) => c.rejected))('verifier: $name ($where)', (c) => {
  it(`rejects with ${c.rejected!.rule} at pc ${c.rejected!.pc ?? '-'} [${c.rejected!.errno}]`, () => {
    let error: unknown;
    try {
      verifyAll(c.programs);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VerifyError);
    expect({ code: (error as VerifyError).code, pc: (error as VerifyError).pc, errno: (error as VerifyError).errno }).toEqual({
      code: c.rejected!.rule,
      pc: c.rejected!.pc,
      errno: c.rejected!.errno,
    });
  });
});

describe.each(ENGINE_MAKERS)('engine $name', (engine) => {
  it.each(corpus.filter((c) => !c.rejected))('$name ($where)', (c) => {
    const filters = verifyAll(c.programs);
    const got = engine.make(filters).decide(packRecords(c.records));
    const mismatches = c.expected.flatMap((want, i) => (got[i] === want ? [] : [`record ${i}: got ${hex(got[i]!)}, want ${hex(want)}`]));
    const listing = c.programs.map((p, i) => `filter ${i + 1}:\n${formatAsm(p)}`).join('');
    expect(mismatches, `${c.where}\n${listing}`).toEqual([]);
  });
});
