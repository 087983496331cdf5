/** `cbpf info`: what a filter checks, what it can return, and which syscalls the kernel lets skip it. */
import type { ArchCache, MissedSyscall } from '../action-cache.js';
import { formatInstruction } from '../disasm.js';
import type { Instruction } from '../instruction.js';
import { DROP_REASONS, type ResolutionReport, resolutionReport } from '../profile/index.js';
import type { DropReason } from '../profile/resolve.js';
import { summarizeProgram } from '../summary.js';
import type { Command } from './args.js';
import { displayName, type Io } from './io.js';
import { loadPrograms } from './load.js';

/** Words wrapped to lines of at most 100 characters, indented by two spaces. */
function wrap(words: string[]): string {
  const lines: string[] = [];
  for (const word of words) {
    if (lines.length > 0 && lines.at(-1)!.length + word.length < 100) lines[lines.length - 1] += ` ${word}`;
    else lines.push(`  ${word}`);
  }
  return lines.join('\n');
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * The kernel's cache as lines: per arch, how many syscalls skip the filter,
 * then those the filter always allows but that miss the cache, grouped by
 * where the kernel's emulation ended.
 */
function cacheLines(caches: readonly ArchCache[] | undefined, program: readonly Instruction[]): string[] {
  if (!caches) return ['kernel action cache: none (the kernel would reject this filter; see cbpf verify)'];
  const lines = ['kernel action cache (Linux 5.11+; cached syscalls skip the filter):'];
  for (const cache of caches) {
    lines.push(`  ${cache.arch}: ${cache.cached.length} of ${count(cache.syscalls, 'syscall')} cached`);
    const byEnd = new Map<string, MissedSyscall[]>();
    for (const missed of cache.missed) {
      const end = `${missed.why} ${missed.pc}`;
      byEnd.set(end, [...(byEnd.get(end) ?? []), missed]);
    }
    for (const missed of byEnd.values()) {
      const { pc, why } = missed[0]!;
      const at = `pc ${pc} (${formatInstruction(program[pc]!, pc)})`;
      const reason = why === 'returns' ? `${at} returns ALLOW with data, not exactly ALLOW` : `the kernel's emulation stops at ${at}`;
      lines.push(`  ${cache.arch}: ${count(missed.length, 'syscall')} always allowed but not cached: ${reason}`, wrap(missed.map((m) => m.name)));
    }
  }
  return lines;
}

/** A profile's resolution report as lines: the context, then what was dropped, skipped, split and added. */
function resolutionLines(file: string, r: ResolutionReport): string[] {
  const names = (list: readonly string[]): string => (list.length > 8 ? `${list.slice(0, 8).join(', ')} and ${list.length - 8} more` : list.join(', '));
  const lines = [
    r.engine === 'none'
      ? `${file}: a profile, taken by ${r.runtime} as it is (no engine), host ${r.hostArch}`
      : `${file}: a profile, resolved by ${r.engine} for ${r.runtime}, host ${r.hostArch}, kernel ${r.kernel}, ${r.caps.length} ${r.caps.length === 1 ? 'capability' : 'capabilities'}`,
    `  arches: ${r.arches.join(', ')}; default ${r.defaultAction}; other arches ${r.badArchAction}`,
    `  entries: ${r.entries.kept} of ${r.entries.total} kept, giving ${count(r.rules, 'rule')} for libseccomp`,
  ];
  for (const d of r.dropped) lines.push(`  dropped ${d.source} (${names(d.names)}): ${DROP_REASONS[d.reason]}`);
  const skipped = new Map<string, string[]>();
  for (const s of r.skipped) skipped.set(s.reason, [...(skipped.get(s.reason) ?? []), s.name]);
  for (const [reason, list] of skipped) lines.push(`  skipped ${count(list.length, 'name')}, ${DROP_REASONS[reason as DropReason]}: ${names(list)}`);
  for (const s of r.split) lines.push(`  ${s.source} (${names(s.names)}): conditions on one argument became ${s.rules} separate ORed rules per name`);
  const companions = new Map<string, string[]>();
  for (const c of r.companions) companions.set(`${c.arch} ${c.multiplexer}`, [...(companions.get(`${c.arch} ${c.multiplexer}`) ?? []), c.name]);
  for (const [where, list] of companions)
    lines.push(`  ${where}: companion rules for ${names([...new Set(list)])} (the argument-0 condition becomes the call number)`);
  for (const n of r.notOnArch) lines.push(`  not on ${n.arch}: ${names(n.names)}`);
  if (r.stub)
    lines.push(
      `  runc's ENOSYS stub: ${r.stub.map((s) => `${s.arch} nr > ${s.arch === 'x32' ? `0x${s.largest.toString(16)}` : s.largest}`).join(', ') || 'no arch listed, so it does nothing'}`,
    );
  if (r.ignoredFields.length > 0) lines.push(`  ignored fields: ${names(r.ignoredFields)}`);
  return lines;
}

/**
 * `cbpf info FILE`: a filter's summary; for a stack file, each filter's in
 * turn, oldest first (with --json, one object per filter).
 */
export async function runInfo(command: Extract<Command, { kind: 'info' }>, io: Io): Promise<void> {
  const { programs, format, profile } = await loadPrograms(io, command.inputs[0]!, command);
  const file = displayName(command.inputs[0]!);
  const resolution = profile ? resolutionReport(profile.filter) : undefined;
  programs.forEach((program, i) => {
    const summary = summarizeProgram(program, command.arch);
    const name = programs.length === 1 ? file : `${file} filter ${i + 1} of ${programs.length}`;
    if (command.json) {
      io.stdout(
        `${JSON.stringify({ file, ...(programs.length === 1 ? {} : { filter: i + 1 }), format, ...(resolution ? { resolution } : {}), ...summary })}\n`,
      );
      return;
    }
    if (resolution) io.stdout(`${resolutionLines(file, resolution).join('\n')}\n\n`);
    const lines = [
      `${name}: ${format}, ${count(summary.instructions, 'instruction')} (${summary.reachable} reachable)`,
      `arches checked: ${summary.arches.join(', ') || 'none'}`,
      ...Object.entries(summary.syscalls).map(([arch, names]) => `${arch}: ${count(names.length, 'syscall')} compared:\n${wrap(names)}`),
      `returns: ${Object.entries(summary.returns)
        .map(([value, n]) => `${value} x${n}`)
        .join(', ')}${summary.returnsA ? `, ret a x${summary.returnsA}` : ''}`,
      ...cacheLines(summary.kernelCache, program),
    ];
    io.stdout(`${i > 0 ? '\n' : ''}${lines.join('\n')}\n`);
  });
}
