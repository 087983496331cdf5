/** `cbpf fuzz`: the differential fuzzer, with progress, a summary, replay and --save. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { oracleUnavailableReason } from '../kernel/helper.js';
import type { Command, FuzzTargetName } from './args.js';
import { CommandFailure, type Io } from './io.js';

export async function runFuzz(command: Extract<Command, { kind: 'fuzz' }>, io: Io): Promise<void> {
  // The fuzzer needs the JIT, and so binaryen: load it only for this command.
  const { codecTarget, engineTarget, failureAsCase, kernelTarget, runFuzz: run, verifierTarget } = await import('../fuzz/differential.js');
  const { interpreterEngine, jitEngine, tableEngine } = await import('../fuzz/engines.js');
  const unavailable = command.targets.some((t) => t === 'kernel' || t === 'verifier') ? oracleUnavailableReason() : undefined;
  const explicit = command.targets.length === 1;
  if (unavailable && explicit) throw new CommandFailure(unavailable);
  const make: Record<FuzzTargetName, () => ReturnType<typeof codecTarget>> = {
    jit: () => engineTarget('jit', interpreterEngine, jitEngine, { maxStack: 8, records: 40, anyArch: true, shrinkBudget: 5000 }),
    table: () => engineTarget('table', interpreterEngine, tableEngine, { maxStack: 8, records: 40, anyArch: true, shrinkBudget: 5000 }),
    kernel: () => kernelTarget(),
    verifier: () => verifierTarget(),
    codec: () => codecTarget(),
  };
  const chosen = command.targets.filter((t) => !(unavailable && (t === 'kernel' || t === 'verifier')));
  const seed = command.seed ?? Math.floor(Math.random() * 0x100000000);
  const budget = 'runs' in command.budget ? `${command.budget.runs} iterations` : `${command.budget.seconds} s`;
  io.stderr(`cbpf fuzz: seed ${seed}, targets ${chosen.join(', ')}, ${budget}\n`);
  if (unavailable) io.stderr(`cbpf fuzz: skipping the kernel and verifier targets: ${unavailable}\n`);
  const progress = io.stderrIsTTY
    ? (report: { stats: Record<string, { programs: number; records: number }> }, elapsed: number) => {
        const parts = Object.entries(report.stats).map(([name, s]) => `${name} ${Math.round(s.programs / elapsed)} prog/s ${Math.round(s.records / elapsed)} rec/s`);
        io.stderr(`\r${elapsed.toFixed(0)} s  ${parts.join(' | ')}  mismatches 0   `);
      }
    : undefined;
  const report = run(chosen.map((t) => make[t]()), seed, command.budget, progress);
  if (progress) io.stderr('\n');
  for (const [name, s] of Object.entries(report.stats)) {
    io.stdout(`${name.padEnd(9)} ${String(s.programs).padStart(9)} programs  ${String(s.records).padStart(10)} records  ${report.failure?.target === name ? 1 : 0} mismatches\n`);
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
