/** `cbpf fuzz`: the differential fuzzer and the malformed-input fuzzer, with progress, a summary, replay and --save. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MakeEngine } from '../engine.js';
import type { FuzzBudget } from '../fuzz/differential.js';
import { oracleUnavailableReason } from '../kernel/helper.js';
import { i386BypassReason } from '../kernel/oracle.js';
import { type Command, FUZZ_TARGETS, type FuzzTargetName } from './args.js';
import type { InputFailure } from './fuzz-inputs.js';
import { CommandFailure, type Io } from './io.js';

type FuzzCommand = Extract<Command, { kind: 'fuzz' }>;

/** The width of the report's first column: the longest target name. */
const TARGET_WIDTH = Math.max(...FUZZ_TARGETS.map((name) => name.length));

export async function runFuzz(command: FuzzCommand, io: Io): Promise<void> {
  const unavailable = command.targets.some((t) => t === 'kernel' || t === 'verifier') ? oracleUnavailableReason() : undefined;
  const explicit = command.targets.length === 1;
  if (unavailable && explicit) throw new CommandFailure(unavailable);
  const chosen = command.targets.filter((t) => !(unavailable && (t === 'kernel' || t === 'verifier')));
  const seed = command.seed ?? Math.floor(Math.random() * 0x100000000);
  const budget = 'runs' in command.budget ? `${command.budget.runs} iterations` : `${command.budget.seconds} s`;
  io.stderr(`cbpf fuzz: seed ${seed}, targets ${chosen.join(', ')}, ${budget}\n`);
  if (unavailable) io.stderr(`cbpf fuzz: skipping the kernel and verifier targets: ${unavailable}\n`);
  // Targets share a time budget by their number; a run budget is each target's.
  const share = (targets: number): FuzzBudget => ('runs' in command.budget ? command.budget : { seconds: (command.budget.seconds * targets) / chosen.length });
  const differential = chosen.filter((t) => t !== 'inputs');
  if (differential.length > 0) await runDifferential(command, io, differential, seed, share(differential.length));
  if (chosen.includes('inputs')) await runInputs(command, io, seed, share(1));
}

/** The differential targets, taking turns in this thread. */
async function runDifferential(command: FuzzCommand, io: Io, targets: readonly FuzzTargetName[], seed: number, budget: FuzzBudget): Promise<void> {
  // The fuzzer needs the JIT, and so binaryen: load it only for this command.
  const { codecTarget, engineTarget, failureAsCase, kernelTarget, profileTarget, runFuzz: run, verifierTarget } = await import('../fuzz/differential.js');
  const { loadEngine } = await import('../../eval/engines.js');
  const interpreter = await loadEngine('interp');
  /** An engine against the interpreter, reported as `name`. */
  const against = (name: string, engine: MakeEngine) =>
    engineTarget(name, interpreter, engine, { maxStack: 8, records: 40, anyArch: true, shrinkBudget: 5000 });
  const make: Record<Exclude<FuzzTargetName, 'inputs'>, () => Promise<ReturnType<typeof codecTarget>>> = {
    jit: async () => against('jit', await loadEngine('jit')),
    decide: async () => against('decide', (await import('../../jit/compiled.js')).decideEngine),
    table: async () => against('table', await loadEngine('table')),
    standalone: async () => against('standalone', await loadEngine('standalone')),
    kernel: async () => {
      const bypass = i386BypassReason();
      if (bypass) io.stderr(`cbpf fuzz: the kernel target sends x86_64 records only: ${bypass}\n`);
      return kernelTarget(interpreter);
    },
    verifier: async () => verifierTarget(),
    codec: async () => codecTarget(),
    profile: async () => {
      // The compiler against the evaluator always; against libseccomp too where its helper builds.
      const { libseccompUnavailableReason } = await import('../profile/oracle.js');
      const missing = libseccompUnavailableReason();
      if (missing) io.stderr(`cbpf fuzz: the profile target compares the compiler with the evaluator only: libseccomp unavailable: ${missing}\n`);
      return profileTarget({ engine: interpreter, libseccomp: missing === undefined, shrinkBudget: 2000 });
    },
  };
  const progress = io.stderrIsTTY
    ? (report: { stats: Record<string, { programs: number; records: number }> }, elapsed: number) => {
        const parts = Object.entries(report.stats).map(
          ([name, s]) => `${name} ${Math.round(s.programs / elapsed)} prog/s ${Math.round(s.records / elapsed)} rec/s`,
        );
        io.stderr(`\r${elapsed.toFixed(0)} s  ${parts.join(' | ')}  mismatches 0   `);
      }
    : undefined;
  const report = run(await Promise.all(targets.map((t) => make[t as Exclude<FuzzTargetName, 'inputs'>]())), seed, budget, progress);
  if (progress) io.stderr('\n');
  for (const [name, s] of Object.entries(report.stats)) {
    io.stdout(
      `${name.padEnd(TARGET_WIDTH)} ${String(s.programs).padStart(9)} programs  ${String(s.records).padStart(10)} records  ${report.failure?.target === name ? 1 : 0} mismatches\n`,
    );
  }
  const failure = report.failure;
  if (!failure) return;
  const shrunk = failure.case ? `, shrunk from ${failure.originalSize} to ${failure.case.filters.reduce((n, f) => n + f.length, 0)} instructions` : '';
  io.stdout(`\nMISMATCH in ${failure.target} (seed ${failure.seed}, iteration ${failure.iteration})${shrunk}: ${failure.summary}\n${failure.report}`);
  io.stdout(`replay: cbpf fuzz --seed ${failure.seed} --target ${failure.target} --runs ${failure.iteration + 1}\n`);
  const asCase = failureAsCase(failure);
  if (command.save && asCase) {
    mkdirSync(command.save, { recursive: true });
    const file = join(command.save, `fuzz-${failure.target}-${failure.seed}-${failure.iteration}.cases`);
    writeFileSync(file, asCase);
    io.stdout(`saved: ${file}\n`);
  }
  throw new CommandFailure(`${failure.target}: ${failure.summary}`);
}

/** The malformed-input target, on a worker thread per core. */
async function runInputs(command: FuzzCommand, io: Io, seed: number, budget: FuzzBudget): Promise<void> {
  const { runInputFuzz } = await import('./fuzz-inputs.js');
  const progress = io.stderrIsTTY
    ? (cases: number, elapsed: number) => io.stderr(`\r${elapsed.toFixed(0)} s  inputs ${cases} cases (${Math.round(cases / elapsed)}/s)  failures 0   `)
    : undefined;
  const report = await runInputFuzz(seed, budget, availableParallelism(), progress);
  if (progress) io.stderr('\n');
  io.stdout(
    `${'inputs'.padEnd(TARGET_WIDTH)} ${String(report.cases).padStart(9)} cases     ${String(report.rejected).padStart(10)} rejected  ${report.failure ? 1 : 0} failures\n`,
  );
  const failure = report.failure;
  if (!failure) return;
  io.stdout(`\nFAILURE in inputs (seed ${failure.seed}, case ${failure.index}): ${failure.problem}\n`);
  if (failure.case) {
    const folder = saveInputCase(failure, command.save);
    io.stdout(`case: ${failure.case.description}\nrun: cd ${folder} && cbpf ${failure.case.argv.join(' ')}\n`);
  }
  io.stdout(`replay: cbpf fuzz --seed ${failure.seed} --target inputs --runs ${failure.index + 1}\n`);
  throw new CommandFailure(`inputs: case ${failure.index}: ${failure.problem}`);
}

/** Writes a failing case's files to a folder of their own, in `save` or else a temporary one, so the real command can be run on them. */
function saveInputCase(failure: InputFailure, save: string | undefined): string {
  const name = `fuzz-inputs-${failure.seed}-${failure.index}`;
  const folder = save === undefined ? mkdtempSync(join(tmpdir(), `${name}-`)) : join(save, name);
  mkdirSync(folder, { recursive: true });
  for (const [path, bytes] of Object.entries(failure.case!.files)) writeFileSync(join(folder, path), bytes);
  return folder;
}
