/**
 * Findings about a filter or stack that its exact explanation shows: holes a
 * policy author did not mean, each with a record that demonstrates it where
 * one applies.
 */
import { ACTIONS, actionName } from '../seccomp/actions.js';
import { archByName } from '../seccomp/arches.js';
import { byteOrderOfAuditArch, type SeccompData } from '../seccomp/records.js';
import { summarizeProgram } from '../summary.js';
import type { VerifiedProgram } from '../verifier.js';
import { type Bdd, type BddManager, FALSE } from './bdd.js';
import { constant, equals, word } from './bitvec.js';
import { recordOfWords } from './describe.js';
import { type Case, type Explanation, explainStack, type SyscallDecision } from './explain.js';
import { SEVERITIES, type Severity } from './severity.js';

export { SEVERITIES, type Severity } from './severity.js';

export interface Finding {
  readonly severity: Severity;
  /** What kind of finding: a stable name for scripts. */
  readonly kind: string;
  /** One line for people. */
  readonly message: string;
  /** A record that shows it, where one does. */
  readonly record?: SeccompData;
}

/** Syscalls that open a door out of a sandbox when allowed whatever their arguments. */
const DANGEROUS = [
  'ptrace',
  'process_vm_writev',
  'process_vm_readv',
  'bpf',
  'io_uring_setup',
  'kexec_load',
  'kexec_file_load',
  'init_module',
  'finit_module',
  'delete_module',
  'perf_event_open',
  'userfaultfd',
  'open_by_handle_at',
  'add_key',
  'keyctl',
  'request_key',
];

/** Pairs where denying the first and allowing the second leaves the same door open. */
const EQUIVALENTS: readonly (readonly [string, string])[] = [
  ['open', 'openat'],
  ['open', 'openat2'],
  ['openat', 'openat2'],
  ['execve', 'execveat'],
  ['clone', 'clone3'],
  ['socket', 'socketcall'],
];

const isAllow = (c: Case): boolean => c.value !== undefined && actionName(c.value) === 'ALLOW';
const allows = (s: SyscallDecision | undefined): boolean => s?.cases.some(isAllow) === true;
const alwaysAllows = (s: SyscallDecision | undefined): boolean => s !== undefined && s.cases.length === 1 && isAllow(s.cases[0]!);
const neverAllows = (s: SyscallDecision | undefined): boolean => s !== undefined && !s.cases.some(isAllow);

/** socketcall's call number for socket(2) (linux/net.h). */
const SYS_SOCKET = 1;

/** The records of `region` (of an arch of byte order `order`) whose first argument, socketcall's call number, is `call`. */
function socketcallOf(m: BddManager, region: Bdd, call: number, order: 'le' | 'be'): Bdd {
  const low = order === 'le' ? 4 : 5; // args[0]'s low half
  return m.and(region, equals(m, word(m, low), constant(call)));
}

/** A record of `region`, in its arch's byte order. */
function recordIn(explanation: Explanation, region: Bdd): SeccompData | undefined {
  if (region === FALSE) return undefined;
  return recordOfWords(explanation.manager.pick(region)).record;
}

/** The region of a syscall's cases that allow. */
function allowRegion(explanation: Explanation, cases: readonly Case[]): Bdd {
  return cases.filter(isAllow).reduce((r, c) => explanation.manager.or(r, c.region), FALSE as Bdd);
}

/**
 * The findings about stack `filters` (oldest first), most severe first.
 * @throws AnalysisLimit when a set grows past the node budget.
 */
export function auditStack(filters: readonly VerifiedProgram[]): Finding[] {
  const explanation = explainStack(filters);
  const findings: Finding[] = [];
  const add = (severity: Severity, kind: string, message: string, region?: Bdd): void => {
    const record = region === undefined ? undefined : recordIn(explanation, region);
    findings.push({ severity, kind, message, ...(record ? { record } : {}) });
  };

  const foreign = allowRegion(explanation, explanation.otherArches);
  if (foreign !== FALSE)
    add('high', 'arch-unchecked', 'records of an arch the filter does not check are allowed: a process can switch arch to escape it', foreign);
  if (explanation.arches.length === 0) add('high', 'arch-unchecked', "the filter checks no arch: it reads every arch's syscall numbers as one table");

  for (const arch of explanation.arches) {
    const byName = new Map(arch.syscalls.map((s) => [s.name, s]));
    const known = archByName(arch.arch);
    const bits64 = known !== undefined && (known.auditArch & 0x80000000) !== 0;

    if (arch.arch === 'x86_64') {
      for (const s of arch.syscalls.filter((s) => s.name.startsWith('x32 '))) {
        const native = byName.get(s.name.slice(4));
        if (allows(s) && neverAllows(native))
          add('high', 'x32-bypass', `${s.name} is allowed where x86_64 ${native!.name} is not: x32 numbers reach it`, allowRegion(explanation, s.cases));
      }
    }
    // A syscall denied on purpose: not allowed, and decided otherwise than most syscalls of the arch are (the policy's default).
    const counts = new Map<number | undefined, number>();
    for (const s of arch.syscalls) if (s.cases.length === 1) counts.set(s.cases[0]!.value, (counts.get(s.cases[0]!.value) ?? 0) + 1);
    const defaultValue = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    const deniedOnPurpose = (s: SyscallDecision | undefined): boolean => neverAllows(s) && !(s!.cases.length === 1 && s!.cases[0]!.value === defaultValue);
    for (const [denied, other] of EQUIVALENTS) {
      const [a, b] = [byName.get(denied), byName.get(other)];
      if (deniedOnPurpose(a) && allows(b))
        add(
          'medium',
          'equivalent-syscall',
          `${arch.arch}: ${denied} is denied but ${other}, which does the same, is allowed`,
          allowRegion(explanation, b!.cases),
        );
    }
    // socketcall(SYS_SOCKET, ...) takes socket's arguments from memory, which no filter can read: socket's checks do not reach it.
    const [socket, socketcall] = [byName.get('socket'), byName.get('socketcall')];
    if (socket && socketcall && !alwaysAllows(socket)) {
      const order = byteOrderOfAuditArch(arch.auditArch);
      const viaSocketcall = socketcall.cases
        .filter(isAllow)
        .map((c) => socketcallOf(explanation.manager, c.region, SYS_SOCKET, order))
        .filter((r) => r !== FALSE);
      if (viaSocketcall.length > 0) {
        const region = viaSocketcall[0]!;
        add(
          'medium',
          'socketcall-bypass',
          `${arch.arch}: socket is checked, but socketcall(SYS_SOCKET) is allowed, whose arguments the filter cannot read`,
          region,
        );
      }
    }
    for (const name of DANGEROUS) {
      const s = byName.get(name);
      if (alwaysAllows(s)) add('medium', 'dangerous-allowed', `${arch.arch}: ${name} is allowed whatever its arguments`, s!.cases[0]!.region);
    }
    if (bits64) {
      for (const s of arch.syscalls) {
        // A value compared (==, !=, a range) on the low half alone; a mask that covers only low bits needs no high half.
        const compared = /(?:^|[^&(] ?)args\[(\d)\]\.lo (?:==|!=|<=)|<= args\[(\d)\]\.lo/g;
        const halves = new Set(s.cases.flatMap((c) => (c.conditions ?? []).flatMap((text) => [...text.matchAll(compared)].map((x) => x[1] ?? x[2]!))));
        for (const index of halves) {
          // The record shows it: a high half of 1, decided as the value without it.
          const record = recordIn(explanation, s.cases[0]!.region)!;
          const args = record.args.map((a, i) => (i === Number(index) ? a | (1n << 32n) : a));
          // libseccomp compares x32's arguments on their low half by design; the kernel reads an int argument as 32 bits
          // there anyway, so only a 64-bit one (a pointer, a long, clone's flags) is at risk: worth a look, not an alarm.
          const x32 = s.name.startsWith('x32 ');
          findings.push({
            severity: x32 ? 'medium' : 'high',
            kind: 'low-half-only',
            message: `${arch.arch} ${s.name}: args[${index}] is compared on its low 32 bits only, so its high half goes unchecked${x32 ? ' (x32: it matters where the kernel reads the argument as 64 bits)' : ''}`,
            record: { ...record, args },
          });
        }
      }
    }
    const allowCount = arch.syscalls.filter(alwaysAllows).length;
    if (allowCount > arch.syscalls.length / 2 && arch.others.some(isAllow))
      add('low', 'default-allow', `${arch.arch}: the default is ALLOW (a denylist): a syscall the filter does not name, or a new one, is allowed`);
    const unnamed = arch.others.find((c) => c.value === ACTIONS.KILL_THREAD);
    if (unnamed && !arch.others.some((c) => c.value === ACTIONS.KILL_PROCESS))
      add(
        'low',
        'kill-thread-default',
        `${arch.arch}: syscall numbers the filter does not name kill only the calling thread (KILL_THREAD), and the rest of the process runs on (KILL_PROCESS is likely meant)`,
        unnamed.region,
      );
  }

  filters.forEach((filter, i) => {
    const summary = summarizeProgram(filter.instructions, archByName('x86_64')!);
    const unreachable = summary.instructions - summary.reachable;
    if (unreachable > 0) add('low', 'unreachable', `filter ${i + 1}: ${unreachable} instruction${unreachable === 1 ? '' : 's'} no path reaches`);
  });
  return findings.sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity));
}
