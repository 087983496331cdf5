/**
 * The profile target finds real compiler bugs: each fault planted in a
 * test-only wrapper of compileProfile is found within an iteration budget
 * and shrunk to a one-entry, one-name profile. Compiler against evaluator
 * only, so these run without libseccomp; the budget counts iterations, not
 * seconds.
 */
import { describe, expect, it } from 'vitest';
import { interpreterEngine } from '../../interp/engines.js';
import { runFuzz } from '../../src/fuzz/differential.js';
import { profileTarget } from '../../src/fuzz/profiles.js';
import type { Instruction } from '../../src/instruction.js';
import { BPF_ABS, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W } from '../../src/opcodes.js';
import { compileProfile, type ProfileFilter } from '../../src/profile/index.js';
import { SECCOMP_DATA_ARGS } from '../../src/seccomp/data.js';

const LOG = 0x7ffc0000;
const ALLOW = 0x7fff0000;

/** Compilers with one bug each. */
const FAULTS: Record<string, (filter: ProfileFilter) => Instruction[]> = {
  // The first `ret LOG` returns ALLOW.
  'one ret flipped': (filter) => {
    const program = compileProfile(filter);
    const at = program.findIndex((insn) => insn.code === (BPF_RET | BPF_K) && insn.k === LOG);
    return program.map((insn, pc) => (pc === at ? { ...insn, k: ALLOW } : insn));
  },
  // Argument words compared with `>=` use `>`: wrong only at the compared value itself.
  'argument >= compiled as >': (filter) => {
    const program = compileProfile(filter);
    let word = false;
    return program.map((insn) => {
      if (insn.code === (BPF_LD | BPF_W | BPF_ABS)) word = insn.k >= SECCOMP_DATA_ARGS;
      return word && insn.code === (BPF_JMP | BPF_JGE | BPF_K) ? { ...insn, code: BPF_JMP | BPF_JGT | BPF_K } : insn;
    });
  },
};

/** Iterations each fault gets. */
const BUDGET = 2000;

describe('the profile target, against planted compiler faults', () => {
  it.each(Object.keys(FAULTS))(`finds "%s" within ${BUDGET} iterations and shrinks it to one entry with one name`, (fault) => {
    const target = profileTarget({ engine: interpreterEngine, libseccomp: false, compile: FAULTS[fault]!, shrinkBudget: 2000 });
    const report = runFuzz([target], 1, { runs: BUDGET });
    expect(report.failure, `${fault} not found in ${report.iterations} iterations`).toBeDefined();
    const text = report.failure!.report;
    console.info(`${fault}: found at iteration ${report.failure!.iteration}\n${text}`);
    expect(report.failure!.summary).toMatch(/^compiled 0x[0-9a-f]{8}, evaluator 0x[0-9a-f]{8}$/);
    const profile = JSON.parse(/^profile:\n([\s\S]*?)\ncontext: /m.exec(text)![1]!) as { syscalls: { names: string[] }[] };
    expect(profile.syscalls).toHaveLength(1);
    expect(profile.syscalls[0]!.names).toHaveLength(1);
    expect(text).toMatch(/^context: \{.*"hostArch"/m);
    expect(text).toMatch(/^record: [0-9a-f]{128}\n {8}\{"arch":/m);
  });

  it('replays a run exactly from its seed', () => {
    const target = () => profileTarget({ engine: interpreterEngine, libseccomp: false });
    const a = runFuzz([target()], 9, { runs: 60 });
    const b = runFuzz([target()], 9, { runs: 60 });
    expect(b.stats).toEqual(a.stats);
    expect(a.stats.profile!.records).toBeGreaterThan(1000);
  });
});
