/** `cbpf audit`: findings about a filter or stack (src/analysis/audit.ts), most severe first; exit 1 at --fail-on or above. */

import { auditStack, SEVERITIES } from '../analysis/audit.js';
import { AnalysisLimit } from '../analysis/bdd.js';
import { formatRecordJson } from '../seccomp/record-json.js';
import type { Command } from './args.js';
import { CommandFailure, type Io } from './io.js';
import { loadFilters } from './load.js';

export async function runAudit(command: Extract<Command, { kind: 'audit' }>, io: Io): Promise<void> {
  const filters = await loadFilters(io, command.inputs, command);
  let findings: ReturnType<typeof auditStack>;
  try {
    findings = auditStack(filters);
  } catch (error) {
    if (error instanceof AnalysisLimit) throw new CommandFailure(`audit: ${error.message}; no answer rather than a wrong one`);
    throw error;
  }
  if (command.json) {
    for (const f of findings)
      io.stdout(
        `${JSON.stringify({ severity: f.severity, kind: f.kind, message: f.message, ...(f.record ? { record: JSON.parse(formatRecordJson(f.record)) } : {}) })}\n`,
      );
  } else {
    const lines = findings.flatMap((f) => [`${f.severity.padEnd(7)} ${f.message}`, ...(f.record ? [`        e.g. ${formatRecordJson(f.record)}`] : [])]);
    const counts = [...SEVERITIES]
      .reverse()
      .map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`);
    lines.push(findings.length === 0 ? 'no findings' : `${findings.length} finding${findings.length === 1 ? '' : 's'}: ${counts.join(', ')}`);
    io.stdout(`${lines.join('\n')}\n`);
  }
  const failing = findings.filter((f) => SEVERITIES.indexOf(f.severity) >= SEVERITIES.indexOf(command.failOn));
  if (failing.length > 0) throw new CommandFailure(`${failing.length} finding${failing.length === 1 ? '' : 's'} of severity ${command.failOn} or above`);
}
