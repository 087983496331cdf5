/**
 * `cbpf explain`: what a filter or stack decides for every syscall, exactly
 * (src/analysis/explain.ts): the syscalls grouped by an unconditional
 * decision, then each that depends on its arguments, with the conditions.
 */
import { AnalysisLimit } from '../analysis/bdd.js';
import { type Case, explainStack } from '../analysis/explain.js';
import { describeReturnValue } from '../seccomp/actions.js';
import type { Command } from './args.js';
import { CommandFailure, type Io } from './io.js';
import { loadFilters } from './load.js';

type ExplainCommand = Extract<Command, { kind: 'explain' }>;

const decision = (c: Case): string => (c.value === undefined ? 'a value read from the record (ret a)' : describeReturnValue(c.value));

/** A syscall's cases in one line: `A if ...; B if ...; else C`. */
function casesText(cases: readonly Case[]): string {
  if (cases.length === 1) return decision(cases[0]!);
  // The cases cover the syscall and are disjoint: one whose records tie words together reads as the rest.
  const told = cases.filter((c) => c.conditions !== undefined);
  const rest = cases.filter((c) => c.conditions === undefined);
  if (rest.length === 0) rest.push(told.pop()!); // the last case is what the others leave
  const parts = told.map((c) => `${decision(c)} if ${c.conditions!.join(' and ')}`);
  if (rest.length === 1) parts.push(`else ${decision(rest[0]!)}`);
  else for (const c of rest) parts.push(`${decision(c)} where several words together decide`);
  return parts.join('; ');
}

export async function runExplain(command: ExplainCommand, io: Io): Promise<void> {
  const filters = await loadFilters(io, command.inputs, command);
  let explanation: ReturnType<typeof explainStack>;
  try {
    explanation = explainStack(filters, command.allArches ? undefined : [command.arch]);
  } catch (error) {
    if (error instanceof AnalysisLimit) throw new CommandFailure(`explain: ${error.message}; no answer rather than a wrong one`);
    throw error;
  }
  const wanted = (name: string): boolean => command.syscall === undefined || name === command.syscall || name === `x32 ${command.syscall}`;
  if (command.json) {
    const cases = (list: readonly Case[]) => list.map(({ value, conditions }) => ({ value: value ?? null, conditions: conditions ?? null }));
    const report = {
      arches: explanation.arches.map((arch) => ({
        arch: arch.arch,
        syscalls: arch.syscalls.filter((s) => wanted(s.name)).map((s) => ({ name: s.name, nr: s.nr, cases: cases(s.cases) })),
        otherNumbers: cases(arch.others),
      })),
      otherArches: cases(explanation.otherArches),
    };
    io.stdout(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines: string[] = [];
  for (const arch of explanation.arches) {
    lines.push(`${arch.arch}:`);
    const syscalls = arch.syscalls.filter((s) => wanted(s.name));
    const unconditional = new Map<string, string[]>();
    for (const s of syscalls.filter((s) => s.cases.length === 1)) {
      const text = decision(s.cases[0]!);
      unconditional.set(text, [...(unconditional.get(text) ?? []), s.name]);
    }
    for (const [text, names] of [...unconditional].sort((a, b) => b[1].length - a[1].length)) lines.push(`  ${text} (${names.length}): ${names.join(', ')}`);
    for (const s of syscalls.filter((s) => s.cases.length > 1)) lines.push(`  ${s.name}: ${casesText(s.cases)}`);
    if (command.syscall === undefined && arch.others.length > 0) lines.push(`  numbers no table names: ${casesText(arch.others)}`);
  }
  if (command.syscall === undefined && explanation.otherArches.length > 0) lines.push(`other arches: ${casesText(explanation.otherArches)}`);
  io.stdout(`${lines.join('\n')}\n`);
}
