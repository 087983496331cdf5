/** `cbpf bench`: the benchmark suite (bench/suite.ts), its report, and the regression gate (bench/gate.ts). */
import { baselineOf, gateFailures, parseBaseline } from '../../bench/gate.js';
import { formatReport, runBench as runSuite } from '../../bench/suite.js';
import type { Command } from './args.js';
import { CommandFailure, type Io } from './io.js';

export async function runBench(command: Extract<Command, { kind: 'bench' }>, io: Io): Promise<void> {
  // Read the baseline first: a bad path should not cost a whole run.
  let baseline;
  if (command.gate !== undefined) {
    try {
      baseline = parseBaseline(new TextDecoder().decode(await io.readFile(command.gate)));
    } catch (error) {
      throw new CommandFailure(`${command.gate}: ${(error as Error).message}`);
    }
  }
  const report = await runSuite({
    quick: command.quick,
    filters: command.filters,
    progress: (line) => io.stderrIsTTY && io.stderr(`\r\x1b[K${line}`),
  });
  if (io.stderrIsTTY) io.stderr('\r\x1b[K');
  io.stdout(command.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  if (command.updateBaseline !== undefined) {
    await io.writeFile(command.updateBaseline, `${JSON.stringify(baselineOf(report), null, 2)}\n`);
    io.stderr(`cbpf bench: wrote the baseline to ${command.updateBaseline}\n`);
  }
  if (!baseline) return;
  const failures = gateFailures(report, baseline);
  for (const failure of failures) io.stderr(`cbpf bench: regression: ${failure}\n`);
  if (failures.length > 0) throw new CommandFailure(`bench gate failed: ${failures.length} figure${failures.length === 1 ? '' : 's'} regressed against ${command.gate}`);
  io.stderr(`cbpf bench: gate passed: every ratio within ${Math.round(baseline.tolerance * 100)}% of ${command.gate}\n`);
}
