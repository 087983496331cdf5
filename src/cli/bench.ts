/**
 * `cbpf bench`: the benchmark suite (bench/suite.ts), its report, and the
 * regression gate (bench/gate.ts). The package ships the bench/ code this
 * imports and the files it reads (the samples, the native harness and the
 * end-to-end C program).
 */
import { type Baseline, baselineOf, confirmedFailures, gateFailures, lowerBaseline, parseBaseline } from '../../bench/gate.js';
import { type Command, UsageError } from './args.js';
import { CommandFailure, describeInputError, type Io, writeResult } from './io.js';

/**
 * How many times a figure is measured before it fails the gate: on this shared
 * machine one round can run several times slower than those around it (a CI run
 * failed so, docs/benchmarks.md); a regression in the code holds in every one.
 */
const GATE_MEASUREMENTS = 3;
/** A baseline is a few dozen ratios; a file past this is not one. */
const MAX_BASELINE_BYTES = 1 << 20;

export async function runBench(command: Extract<Command, { kind: 'bench' }>, io: Io): Promise<void> {
  // Read the baselines first: a bad path should not cost a whole run.
  const baseline = command.gate === undefined ? undefined : await readBaseline(io, command.gate);
  if (command.gate !== undefined && !baseline) throw new CommandFailure(`${command.gate}: no such file`);
  const previous = command.updateBaseline === undefined ? undefined : await readBaseline(io, command.updateBaseline);
  // The suite needs the JIT, and so binaryen: load it only for this command (every other one starts faster).
  const { BENCH_FILTER_NAMES, formatReport, runBench: runSuite } = await import('../../bench/suite.js');
  const unknown = command.filters.filter((name) => !BENCH_FILTER_NAMES.includes(name));
  if (unknown.length > 0) throw new UsageError(`--filter: unknown filter ${unknown.join(', ')} (one of ${BENCH_FILTER_NAMES.join(', ')})`, 'bench');
  const measure = async (filters: readonly string[]) => {
    const report = await runSuite({ quick: command.quick, filters, progress: (line) => io.stderrIsTTY && io.stderr(`\r\x1b[K${line}`) });
    if (io.stderrIsTTY) io.stderr('\r\x1b[K');
    return report;
  };
  const report = await measure(command.filters);
  io.stdout(command.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  if (command.updateBaseline !== undefined) {
    const next = previous ? lowerBaseline(previous, baselineOf(report)) : baselineOf(report);
    await writeResult(io, command.updateBaseline, `${JSON.stringify(next, null, 2)}\n`);
    io.stderr(`cbpf bench: ${previous ? 'lowered the baseline in' : 'wrote the baseline to'} ${command.updateBaseline}\n`);
  }
  if (!baseline) return;
  let failures = gateFailures(report, baseline);
  for (let measurement = 2; failures.length > 0 && measurement <= GATE_MEASUREMENTS; measurement++) {
    for (const failure of failures) io.stderr(`cbpf bench: below the baseline: ${failure.message}\n`);
    const filters = [...new Set(failures.map((f) => f.filter))];
    io.stderr(
      `cbpf bench: measuring ${filters.join(', ')} again (measurement ${measurement} of ${GATE_MEASUREMENTS}): a figure fails the gate only if it stays below\n`,
    );
    failures = confirmedFailures(failures, gateFailures(await measure(filters), baseline));
  }
  for (const failure of failures) io.stderr(`cbpf bench: regression: ${failure.message} (below in ${GATE_MEASUREMENTS} measurements)\n`);
  if (failures.length > 0)
    throw new CommandFailure(`bench gate failed: ${failures.length} figure${failures.length === 1 ? '' : 's'} regressed against ${command.gate}`);
  io.stderr(`cbpf bench: gate passed: every ratio within ${Math.round(baseline.tolerance * 100)}% of ${command.gate}\n`);
}

/** The baseline in `path`, or undefined when there is no such file (yet). */
async function readBaseline(io: Io, path: string): Promise<Baseline | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await io.readFile(path, MAX_BASELINE_BYTES);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw describeInputError(path, error);
  }
  if (bytes.length > MAX_BASELINE_BYTES) throw new CommandFailure(`${path}: larger than 1 MiB: not a cbpf bench baseline`);
  const text = new TextDecoder().decode(bytes);
  try {
    return parseBaseline(text);
  } catch (error) {
    throw new CommandFailure(`${path}: ${(error as Error).message}`);
  }
}
