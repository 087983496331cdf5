/**
 * libseccomp 2.5.4 as the oracle of the profile compiler: for the bundled
 * profiles in every context that matters, and for generated profiles, the
 * compiled filter (run by the interpreter), the reference evaluator and the
 * filter the runtime loads (libseccomp's, behind runc's stub) decide every
 * record alike, and libseccomp refuses exactly the profiles cbpf refuses.
 * Two faults of libseccomp 2.5.4's code generation, which cbpf does not
 * model, are named below and expected where they show.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { interpreterEngine } from '../../interp/engines.js';
import { iterationRandom } from '../../src/fuzz/differential.js';
import { checkCase, checkResolved, generateProfileCase, type ProfileCheck, profileRecords } from '../../src/fuzz/profiles.js';
import { seededRandom } from '../../src/fuzz/random.js';
import {
  compileProfileText,
  contextOf,
  decideProfile,
  knownSyscall,
  type ProfileContextOptions,
  parseProfile,
  resolveProfile,
} from '../../src/profile/index.js';
import { ambiguousJumps, archesWithoutSyscallLoad, libseccompProgram } from '../../src/profile/oracle.js';
import { archNamed } from '../../src/seccomp/arches.js';
import { packRecords, type SeccompData } from '../../src/seccomp/records.js';
import { syscallNumber } from '../../src/seccomp/syscalls.js';
import { verify } from '../../src/verifier.js';
import { itWhenAvailable, libseccompMissing } from '../system-deps.js';

const PROFILES = join(import.meta.dirname, '../../profiles');
const DOCKER = readFileSync(join(PROFILES, 'docker-20.10.24.json'), 'utf8');
const COMMON = readFileSync(join(PROFILES, 'containers-common-0.50.1.json'), 'utf8');
const CHECK = { engine: interpreterEngine, libseccomp: true } as const;

const X86_64 = archNamed('x86_64');
const TRACE_1 = 0x7ff00001;
const LOG = 0x7ffc0000;
const KILL_PROCESS = 0x80000000;

/** The contexts of the bundled profiles: each engine's caps (and docker's with CAP_SYS_ADMIN), three hosts, both runtimes. */
function contexts(engine: 'docker' | 'podman'): ProfileContextOptions[] {
  const caps: ProfileContextOptions[] =
    engine === 'docker' ? [{ caps: 'docker' }, { caps: 'podman' }, { caps: 'none' }, { caps: 'docker', capAdd: ['CAP_SYS_ADMIN'] }] : [{ caps: 'podman' }];
  return caps.flatMap((c) =>
    ['x86_64', 'aarch64', 's390x'].flatMap((hostArch) => ['runc', 'crun'].map((runtime) => ({ ...c, engine, hostArch, runtime, kernel: '6.18' }))),
  );
}

/** What libseccomp's filter (no stub) decides `records`. */
function libseccompDecides(text: string, options: ProfileContextOptions, records: readonly SeccompData[]): number[] {
  const outcome = libseccompProgram(resolveProfile(parseProfile(text), contextOf(options), knownSyscall));
  if (!('program' in outcome)) throw new Error(`libseccomp refused the profile: ${JSON.stringify(outcome.refused)}`);
  return [...interpreterEngine([verify(outcome.program)]).decide(packRecords(records))];
}

/** The program libseccomp builds for `text` in `options`. */
function libseccompFilter(text: string, options: ProfileContextOptions) {
  const outcome = libseccompProgram(resolveProfile(parseProfile(text), contextOf(options), knownSyscall));
  if (!('program' in outcome)) throw new Error(`libseccomp refused the profile: ${JSON.stringify(outcome.refused)}`);
  return outcome.program;
}

const record = (nr: number, args: readonly bigint[] = []): SeccompData => ({
  nr,
  arch: X86_64.auditArch,
  instructionPointer: 0n,
  args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
});

describe('the bundled profiles, compiled vs the evaluator vs libseccomp', () => {
  const cases = [
    ...contexts('docker').map((options) => ({ name: 'docker-20.10.24', text: DOCKER, options })),
    ...contexts('docker').map((options) => ({ name: 'containers-common-0.50.1', text: COMMON, options })),
    ...contexts('podman').map((options) => ({ name: 'containers-common-0.50.1', text: COMMON, options })),
    // libseccomp's binary tree (optimize 2, as runc 1.2 asks for it) decides the same.
    ...['x86_64', 's390x'].map((hostArch) => ({
      name: 'docker-20.10.24',
      text: DOCKER,
      options: { engine: 'docker', runtime: 'runc', hostArch, kernel: '6.18', optimize: 2 },
    })),
  ];
  itWhenAvailable(
    libseccompMissing,
    `decide every record alike in ${cases.length} contexts`,
    () => {
      const started = performance.now();
      let records = 0;
      const found: string[] = [];
      for (const { name, text, options } of cases) {
        const resolved = resolveProfile(parseProfile(text), contextOf(options), knownSyscall);
        const check = checkResolved(resolved, (filter) => profileRecords(filter, seededRandom(1), true), CHECK);
        const label = `${name} ${JSON.stringify(options)}`;
        if (check.mismatch || check.refused || check.lostLoad || check.staleAccumulator) found.push(`${label}: ${JSON.stringify(check, bigints)}`);
        records += check.records;
      }
      console.info(`${cases.length} contexts, ${records} records, ${found.length} disagreements, ${((performance.now() - started) / 1000).toFixed(1)} s`);
      expect(found).toEqual([]);
      expect(records).toBeGreaterThan(cases.length * 1000);
    },
    120_000,
  );
});

describe('generated profiles, compiled vs the evaluator vs libseccomp', () => {
  /** The fuzz target's own iterations: a failure replays with `cbpf fuzz --target profile --seed 2026 --runs I+1`. */
  const SEED = 2026;
  const RUNS = 1200;
  itWhenAvailable(
    libseccompMissing,
    `agree on at least 1,000 profiles (seed ${SEED}, ${RUNS} iterations)`,
    () => {
      const started = performance.now();
      const totals = { profiles: 0, refused: 0, records: 0, lostLoad: 0, staleAccumulator: 0, mismatches: 0 };
      const failures: string[] = [];
      for (let i = 0; i < RUNS; i++) {
        const random = iterationRandom(SEED, i);
        const c = generateProfileCase(random);
        const check: ProfileCheck | undefined = checkCase(c, (filter) => profileRecords(filter, random, false), CHECK);
        if (!check) continue;
        totals.profiles++;
        totals.records += check.records;
        totals.lostLoad += check.lostLoad ?? 0;
        totals.staleAccumulator += check.staleAccumulator ?? 0;
        if (check.refused) totals.refused++;
        if (check.mismatch) {
          totals.mismatches++;
          failures.push(`iteration ${i}: ${check.mismatch.summary} (replay: cbpf fuzz --target profile --seed ${SEED} --runs ${i + 1})`);
        }
      }
      console.info(`${JSON.stringify(totals)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      expect(failures).toEqual([]);
      expect(totals.profiles).toBeGreaterThanOrEqual(1000);
      // Both sides refuse some (EEXIST, EINVAL, EDOM) and build the rest.
      expect(totals.refused).toBeGreaterThan(50);
      expect(totals.records).toBeGreaterThan(100_000);
    },
    120_000,
  );
});

describe('libseccomp 2.5.4 faults that cbpf does not model, expected where they show', () => {
  // libseccomp emits the syscall-number load with the block of its top-priority syscall (fewest tree nodes;
  // ties: lowest number). A rule for a name the arch lacks stays in its database as a pseudo-syscall (a
  // negative number, so last among ties) and gets no code: when it has strictly fewer nodes than every real
  // syscall of a block that loads its own number (x86_64 with x32, aarch64, arm, ...), the load is lost and
  // every syscall check compares the audit arch instead.
  const lostLoad = JSON.stringify({
    defaultAction: 'SCMP_ACT_LOG',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X32'] }],
    syscalls: [
      { names: ['s390_runtime_instr'], action: 'SCMP_ACT_ALLOW' },
      { names: ['shmctl'], action: 'SCMP_ACT_TRACE', args: [{ index: 1, op: 'SCMP_CMP_GE', value: 26 }] },
    ],
  });
  const crun: ProfileContextOptions = { engine: 'docker', runtime: 'crun', hostArch: 'x86_64', kernel: '6.18' };
  const shmctl = record(syscallNumber(X86_64, 'shmctl')!, [0n, 26n]);

  itWhenAvailable(libseccompMissing, 'drops the syscall-number load when the top-priority syscall is a pseudo-syscall (x86_64 with x32)', () => {
    const { program, filter } = compileProfileText(lostLoad, contextOf(crun));
    expect(decideProfile(filter, shmctl)).toBe(TRACE_1);
    expect(interpreterEngine([verify(program)]).decide(packRecords([shmctl]))[0]).toBe(TRACE_1);
    expect(archesWithoutSyscallLoad(libseccompFilter(lostLoad, crun))).toEqual(new Set([X86_64.auditArch]));
    // Every x86_64 and x32 syscall gets the default action.
    expect(libseccompDecides(lostLoad, crun, [shmctl, record(0x4000001f, [0n, 26n])])).toEqual([LOG, LOG]);
    // x86_64 alone loads the number itself (its x32 check), and the shmctl rule holds.
    const alone = lostLoad.replace(',"subArchitectures":["SCMP_ARCH_X32"]', ',"subArchitectures":[]');
    expect(archesWithoutSyscallLoad(libseccompFilter(alone, crun))).toEqual(new Set());
    expect(libseccompDecides(alone, crun, [shmctl])).toEqual([TRACE_1]);
    // A condition on the pseudo-syscall (two nodes on x86_64, one on x32) puts x32's shmctl (one node, a
    // lower number) first: the load is kept.
    const conditional = lostLoad.replace('"action":"SCMP_ACT_ALLOW"}', '"action":"SCMP_ACT_ALLOW","args":[{"index":0,"op":"SCMP_CMP_EQ","value":1}]}');
    expect(libseccompDecides(conditional, crun, [shmctl])).toEqual([TRACE_1]);
    // aarch64 blocks always load their own number: there a rule for open (which aarch64 lacks) is enough.
    const aarch64 = JSON.stringify({
      defaultAction: 'SCMP_ACT_LOG',
      syscalls: [
        { names: ['open'], action: 'SCMP_ACT_ALLOW' },
        { names: ['shmctl'], action: 'SCMP_ACT_TRACE', args: [{ index: 1, op: 'SCMP_CMP_GE', value: 26 }] },
      ],
    });
    const arm64: ProfileContextOptions = { ...crun, hostArch: 'aarch64' };
    const shmctlArm64: SeccompData = { ...shmctl, nr: syscallNumber(archNamed('aarch64'), 'shmctl')!, arch: archNamed('aarch64').auditArch };
    expect(decideProfile(compileProfileText(aarch64, contextOf(arm64)).filter, shmctlArm64)).toBe(TRACE_1);
    expect(libseccompDecides(aarch64, arm64, [shmctlArm64])).toEqual([LOG]);
  });

  // Two ORed rules on one argument (runc and crun split repeated conditions): `> 0x100000001` and `<= 18`.
  // libseccomp tracks what the accumulator holds per block and reloads a word only where a block is first
  // placed; the `> 0x100000001` node's upper-word test is reached again from the `<= 18` chain's lower-word
  // test and compares the lower word: 0xffffffff passes `hi > 1`.
  const stale = JSON.stringify({
    defaultAction: 'SCMP_ACT_KILL_PROCESS',
    syscalls: [
      {
        names: ['prctl'],
        action: 'SCMP_ACT_TRACE',
        args: [
          { index: 1, op: 'SCMP_CMP_GT', value: 4294967297 },
          { index: 1, op: 'SCMP_CMP_LE', value: 18 },
        ],
      },
    ],
  });
  const options: ProfileContextOptions = { engine: 'none', runtime: 'crun', hostArch: 'x86_64', kernel: '6.18' };
  const prctl = (arg: bigint) => record(syscallNumber(X86_64, 'prctl')!, [0n, arg]);

  itWhenAvailable(libseccompMissing, 'compares a stale accumulator where a sibling node is entered from a lower-word test', () => {
    const { program, filter } = compileProfileText(stale, contextOf(options));
    const records = [prctl(0xffffffffn), prctl(18n), prctl(0x100000002n), prctl(19n)];
    const intended = [KILL_PROCESS, TRACE_1, TRACE_1, KILL_PROCESS];
    expect(records.map((r) => decideProfile(filter, r))).toEqual(intended);
    expect([...interpreterEngine([verify(program)]).decide(packRecords(records))]).toEqual(intended);
    expect(ambiguousJumps(libseccompFilter(stale, options)).size).toBeGreaterThan(0);
    // 19 and 0xffffffff fail both rules, but libseccomp's filter compares their lower word with the upper bound's.
    expect(libseccompDecides(stale, options, records)).toEqual([TRACE_1, TRACE_1, TRACE_1, TRACE_1]);
  });
});

/** JSON.stringify's replacer for the bigints of a record. */
function bigints(_: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value;
}
