/**
 * Syscalls from strace logs, as seccomp would have seen them. The log must be
 * recorded with raw arguments, `strace -f -e raw=all -o trace.txt CMD`, so
 * that every argument is the number the kernel got:
 *
 *   28936 openat(0xffffff9c, 0x7f11, 0x80000, 0) = 0x3
 *   28936 read(0x3, 0x7ffc, 0x340 <unfinished ...>
 *   28937 futex(0x196b, 0x189, 0, 0, 0, 0xffffffff) = 0
 *   28936 <... read resumed>) = 0x340
 *   [ Process PID=28938 runs in 32 bit mode. ]
 *   28936 +++ exited with 0 +++
 *
 * The pid prefix (`-f`) and a time stamp (`-t`, `-tt`, `-ttt`) are optional.
 * A call split into `<unfinished ...>` and `resumed` is joined and becomes a
 * record when its line completes. Lines that are no syscall (signals, exits,
 * strace's own messages) are counted, never fatal. The instruction pointer is
 * not in the log: records have 0.
 */
import { ParseError } from '../errors.js';
import { archByName, X32_SYSCALL_BIT, type Arch } from './arches.js';
import type { SeccompData } from './records.js';
import { syscallNumber } from './syscalls.js';

const U64_MASK = (1n << 64n) - 1n;
/** `__AUDIT_ARCH_64BIT`: set in the audit value of 64-bit arches. */
const AUDIT_ARCH_64BIT = 0x80000000;

/** `12345 ` (pid, with -f) and `12:34:56.789 ` or `1700000000.123 ` (time stamps), in front of a line. */
const PREFIX = /^(?:(\d+)\s+)?(?:\d+(?::\d\d:\d\d)?(?:\.\d+)?\s+)?/;
const CALL = /^([a-z_][a-z0-9_]*)\((.*)$/;
const RESUMED = /^<\.\.\. ([a-z_][a-z0-9_]*) resumed>(.*)$/;
/** How an unfinished call's line ends (lines are trimmed first). */
const UNFINISHED = '<unfinished ...>';
/** `) = 0x3`, `) = -1 ENOENT (...)`, `) = ?`: where a complete call's arguments end. */
const CALL_END = /\)\s+=\s+(?:-?\d|0x|\?).*$/;
const PERSONALITY = /^\[ Process PID=(\d+) runs in (64 bit|32 bit|x32) mode\. \]$/;
const UNKNOWN_SYSCALL = /^syscall_(0x[0-9a-f]+|\d+)$/;
/** An argument recorded raw: decimal or 0x. */
const NUMBER = /^(0x[0-9a-f]+|\d+)$/i;

/** Reads strace lines one at a time; `line` returns the syscalls a line completes. */
export class StraceReader {
  /** Lines that were not syscalls (signals, exits, strace's messages). */
  notSyscalls = 0;
  /** Calls begun (`<unfinished ...>`) and not yet resumed, by pid. */
  private readonly unfinished = new Map<string, { name: string; args: string; line: number }>();
  /** The arch of each process that changed personality; others are `arch`. */
  private readonly arches = new Map<string, Arch>();

  constructor(private readonly arch: Arch) {}

  /** The syscall that line `number` completes, if any; throws ParseError for a syscall line it cannot read. */
  line(text: string, number: number): SeccompData | undefined {
    const prefix = PREFIX.exec(text)!;
    const pid = prefix[1] ?? '';
    const rest = text.slice(prefix[0].length).trimEnd();
    const call = CALL.exec(rest);
    if (call) {
      const [, name, tail] = call as unknown as [string, string, string];
      if (tail.endsWith(UNFINISHED)) {
        this.unfinished.set(pid, { name, args: tail.slice(0, -UNFINISHED.length), line: number });
        return undefined;
      }
      return this.record(pid, name, this.argsOf(tail, number), number);
    }
    const resumed = RESUMED.exec(rest);
    if (resumed) {
      const [, name, tail] = resumed as unknown as [string, string, string];
      const begun = this.unfinished.get(pid);
      if (!begun || begun.name !== name) throw new ParseError('bad-record', `"${name} resumed" with no unfinished ${name} call of process ${pid || '(no pid)'} before it`, number, 0);
      this.unfinished.delete(pid);
      return this.record(pid, name, this.argsOf(begun.args + tail, number), begun.line);
    }
    const personality = PERSONALITY.exec(rest);
    if (personality) {
      const [, processId, mode] = personality as unknown as [string, string, string];
      this.arches.set(processId, archByName(mode === '32 bit' ? 'i386' : mode === 'x32' ? 'x32' : 'x86_64')!);
    }
    if (rest !== '') this.notSyscalls++;
    return undefined;
  }

  /** Calls still unfinished at the end of the log (their process died in them): the kernel saw them all the same. */
  end(): SeccompData[] {
    const records = [...this.unfinished].map(([pid, { name, args, line }]) => this.record(pid, name, this.argsOf(args, line), line));
    this.unfinished.clear();
    return records;
  }

  /**
   * The arguments in the text of a call up to its closing parenthesis (a
   * complete call) or its end (an unfinished one), as the six a record has.
   */
  private argsOf(text: string, line: number): bigint[] {
    const inside = text.replace(CALL_END, '').trim();
    const args: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
    if (inside === '') return args;
    const given = inside.split(',');
    if (given.length > 6) throw new ParseError('bad-record', `${given.length} arguments; a syscall has at most 6`, line, 0);
    for (let i = 0; i < given.length; i++) {
      const arg = given[i]!.trim();
      if (!NUMBER.test(arg)) throw new ParseError('bad-record', `argument "${arg}" is not a number: record the log with strace -e raw=all`, line, 0);
      args[i] = BigInt(arg) & U64_MASK;
    }
    return args;
  }

  /** The record of a call to `name` by process `pid`, with `args` (all six) as argsOf reads them. */
  private record(pid: string, name: string, args: bigint[], line: number): SeccompData {
    const arch = this.arches.get(pid) ?? this.arch;
    const unknown = name.startsWith('syscall_') ? UNKNOWN_SYSCALL.exec(name) : null;
    let nr = unknown ? Number(unknown[1]) : syscallNumber(arch, name);
    if (nr === undefined) throw new ParseError('bad-record', `unknown syscall "${name}" for arch ${arch.name}`, line, 0);
    if (unknown && arch.name === 'x32') nr |= X32_SYSCALL_BIT;
    if (!(arch.auditArch & AUDIT_ARCH_64BIT)) for (let i = 0; i < args.length; i++) args[i]! &= 0xffffffffn; // a 32-bit arch's registers
    return { nr: nr | 0, arch: arch.auditArch, instructionPointer: 0n, args };
  }
}

/** Whether `line`, the first non-blank line of a trace, looks like strace output (rather than a JSON record). */
export function looksLikeStrace(line: string): boolean {
  const rest = line.slice(PREFIX.exec(line)![0].length);
  return CALL.test(rest) || RESUMED.test(rest) || rest.startsWith('+++') || rest.startsWith('---') || rest.startsWith('[ Process');
}
