/**
 * `cbpf diff A B`: whether two filters or stacks decide every record alike
 * (src/analysis/diff.ts proves it), and if not, each arch and syscall where
 * they differ with a record that shows it, re-checked with the interpreter.
 */
import { interpretStack } from '../../interp/stack.js';
import { AnalysisLimit } from '../analysis/bdd.js';
import type { Difference, DiffResult } from '../analysis/diff.js';
import { diffWithSolverFallback } from '../analysis/solver.js';
import { describeReturnValue, hexValue } from '../seccomp/actions.js';
import { formatRecordJson } from '../seccomp/record-json.js';
import { byteOrderOfAuditArch } from '../seccomp/records.js';
import type { VerifiedProgram } from '../verifier.js';
import type { Command } from './args.js';
import { CommandFailure, displayName, type Io } from './io.js';
import { loadFilters } from './load.js';

type DiffCommand = Extract<Command, { kind: 'diff' }>;

/** A syscall number as people read it: small ones and -1 in decimal, the rest (x32's, 0x80000000) in hex. */
const numberText = (nr: number): string => (nr > -4096 && nr < 0x10000 ? String(nr) : `0x${(nr >>> 0).toString(16)}`);

/** A difference's arch (x32's for its numbers) and syscall, as people say them. */
const named = (d: Difference): { arch: string; syscall: string } => ({ arch: d.abi, syscall: d.syscall ?? `#${numberText(d.nr)}` });

/** Each difference's record decided by the interpreter, as the analysis says: a difference it cannot show is a bug, reported as one. */
function recheck(a: readonly VerifiedProgram[], b: readonly VerifiedProgram[], difference: Difference): void {
  const order = byteOrderOfAuditArch(difference.arch);
  const [va, vb] = [interpretStack(a, difference.bytes, order).value, interpretStack(b, difference.bytes, order).value];
  if (va !== difference.a || vb !== difference.b || va === vb)
    throw new Error(`diff's record ${formatRecordJson(difference.record)} is decided ${hexValue(va)} and ${hexValue(vb)}, not as the analysis said`);
}

export async function runDiff(command: DiffCommand, io: Io): Promise<void> {
  const [a, b] = [await loadFilters(io, command.a, command), await loadFilters(io, command.b, command)];
  const [nameA, nameB] = [command.a, command.b].map((files) => files.map(displayName).join(' + ')) as [string, string];
  let result: DiffResult;
  try {
    result = await diffWithSolverFallback(a, b, { max: command.max });
  } catch (error) {
    if (error instanceof AnalysisLimit) throw new CommandFailure(`diff: ${error.message}; no answer rather than a wrong one`);
    throw error;
  }
  for (const difference of result.differences) recheck(a, b, difference);
  if (command.json) {
    const differences = result.differences.map((d) => ({
      ...named(d),
      nr: d.nr,
      region: d.region,
      record: JSON.parse(formatRecordJson(d.record)) as unknown,
      a: d.a,
      b: d.b,
    }));
    io.stdout(`${JSON.stringify({ equivalent: result.equivalent, differences, truncated: result.truncated })}\n`);
  } else if (result.equivalent) {
    const how = result.by === 'solver' ? 'proved by the solver, the record words being mixed by arithmetic' : `${result.paths} regions compared`;
    io.stdout(`${nameA} and ${nameB} are equivalent: they decide every record alike (${how})\n`);
  } else {
    const lines = [`${nameA} and ${nameB} differ:`];
    for (const d of result.differences) {
      const { arch, syscall } = named(d);
      lines.push(`  ${arch} ${syscall} (nr ${numberText(d.nr)}): ${nameA} ${describeReturnValue(d.a)}, ${nameB} ${describeReturnValue(d.b)}`);
      if (result.by === 'solver') lines.push('    found by the solver (it gives records, not regions)');
      else if (d.region === undefined) lines.push('    where several words of the record together decide (the record is one)');
      else for (const condition of d.region) lines.push(`    where ${condition}`);
      lines.push(`    e.g. ${formatRecordJson(d.record)}`);
    }
    if (result.truncated) lines.push(`  ... and more (--max ${command.max} shown)`);
    io.stdout(`${lines.join('\n')}\n`);
  }
  if (!result.equivalent) throw new CommandFailure(`${nameA} and ${nameB} differ`);
}
