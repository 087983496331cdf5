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
 * not in the log: records have 0. Lines end with "\n" or "\r\n"; a "\r",
 * U+2028 or U+2029 inside a line is refused (see codecs/text.ts). A bad line's
 * error gives its line and column.
 */
import { excerpt, hiddenLineBreak, hiddenLineBreakDetail, quoted } from '../codecs/text.js';
import { ParseError } from '../errors.js';
import { type Arch, archByName, X32_SYSCALL_BIT } from './arches.js';
import { SECCOMP_DATA_ARGS } from './data.js';
import type { LeftLine, LineReader } from './record-json.js';
import type { RecordBatchBuilder } from './records.js';
import { syscallNumber } from './syscalls.js';

/** `__AUDIT_ARCH_64BIT`: set in the audit value of 64-bit arches. */
const AUDIT_ARCH_64BIT = 0x80000000;

/** `12345 ` (pid, with -f) and `12:34:56.789 ` or `1700000000.123 ` (time stamps), in front of a line. */
const PREFIX = /^(?:(\d+)\s+)?(?:\d+(?::\d\d:\d\d)?(?:\.\d+)?\s+)?/;
const CALL = /^([a-z_][a-z0-9_]*)\(([\s\S]*)$/;
const RESUMED = /^<\.\.\. ([a-z_][a-z0-9_]*) resumed>([\s\S]*)$/;
/** How an unfinished call's line ends (lines are trimmed first). */
const UNFINISHED = '<unfinished ...>';
/** `) = 0x3`, `) = -1 ENOENT (...)`, `) = ?`: where a complete call's arguments end. */
const CALL_END = /\)\s+=\s+(?:-?\d|0x|\?)/;
const PERSONALITY = /^\[ Process PID=(\d+) runs in (64 bit|32 bit|x32) mode\. \]$/;
const UNKNOWN_SYSCALL = /^syscall_(0x[0-9a-f]+|\d+)$/;

/** The characters of a number's digits, and the 32-bit halves of a 64-bit value. */
const ZERO = 0x30;
const NINE = 0x39;
const TWO_32 = 2 ** 32;
/** Decimal digits a double holds exactly, and more: read with BigInt. */
const EXACT_DECIMAL_DIGITS = 15;
/** Significant digits of the largest u64: 16 in hex, 20 in decimal. */
const U64_HEX_DIGITS = 16;
const U64_DECIMAL_DIGITS = 20;
const U64_MAX = 0xffffffffffffffffn;
/** What readNumber found: a number (in the halves), no number, or one of more than 64 bits. */
const NUMBER = 0;
const NOT_A_NUMBER = 1;
const TOO_WIDE = 2;

/** A line's pid ('' without -f), the rest after its pid and time stamp, trimmed at its end, and where the rest starts. */
function splitLine(text: string): [string, string, number] {
  const prefix = PREFIX.exec(text)!;
  return [prefix[1] ?? '', text.slice(prefix[0].length).trimEnd(), prefix[0].length];
}

/**
 * Where a call's argument text lies, for errors: from `column` of line
 * `line`; for a call joined from an unfinished and a resumed line, the text
 * from index `from` on is the resumed line's, from its column `column`.
 */
interface ArgsAt {
  readonly line: number;
  readonly column: number;
  readonly resumed?: { readonly from: number; readonly line: number; readonly column: number };
}

/** The position of a call read alone (its errors are dropped: the whole log's reader reads it again). */
const NOWHERE: ArgsAt = { line: 0, column: 0 };

/** The ParseError for index `offset` of a call's argument text at `at`. */
function errorInArgs(at: ArgsAt, offset: number, detail: string): ParseError {
  const { resumed } = at;
  if (resumed && offset >= resumed.from) return new ParseError('bad-record', detail, resumed.line, resumed.column + offset - resumed.from);
  return new ParseError('bad-record', detail, at.line, at.column + offset);
}

/** The value of hex digit `code`, or -1. */
function hexDigit(code: number): number {
  if (code >= ZERO && code <= NINE) return code - ZERO;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** What a reader of part of a log needs from the lines before it: the arch, and the processes that changed personality (by pid, their arch's name). */
export interface StraceContext {
  readonly arch: string;
  readonly personalities: readonly (readonly [string, string])[];
}

/**
 * Reads strace lines: `line` adds the syscall a line completes to a batch,
 * with all the lines before it; `readAlone` reads a piece of a log (on a
 * worker thread) and leaves it the lines it cannot.
 */
export class StraceReader implements LineReader {
  /** Lines that were not syscalls (signals, exits, strace's messages). */
  notSyscalls = 0;
  /** Lines that changed a process's personality: a piece of the log read alone before one no longer holds. */
  personalityLines = 0;
  /** Calls begun (`<unfinished ...>`) and not yet resumed, by pid, with where their arguments start. */
  private readonly unfinished = new Map<string, { name: string; args: string; at: ArgsAt }>();
  /** The arch of each process that changed personality; others are `arch`. */
  private readonly arches: Map<string, Arch>;
  /** The arguments of the call being read, as 32-bit halves: low, high, low, high, ... */
  private readonly halves = new Float64Array(12);

  constructor(
    private readonly arch: Arch,
    personalities: Iterable<readonly [string, Arch]> = [],
  ) {
    this.arches = new Map(personalities);
  }

  /** A reader of the lines after those `context` was taken from (see context()). */
  static after(context: StraceContext): StraceReader {
    return new StraceReader(
      archByName(context.arch)!,
      context.personalities.map(([pid, name]) => [pid, archByName(name)!] as const),
    );
  }

  /** What the lines read so far tell a reader of the lines after them. */
  context(): StraceContext {
    return { arch: this.arch.name, personalities: [...this.arches].map(([pid, arch]) => [pid, arch.name] as const) };
  }

  /**
   * Adds to `into` the syscall that line `number` completes, if any; throws
   * ParseError for a syscall line it cannot read (nothing added then).
   */
  line(text: string, number: number, into: RecordBatchBuilder): void {
    const [pid, rest, restAt] = splitLine(text);
    const hidden = hiddenLineBreak(rest);
    if (hidden !== -1) throw new ParseError('bad-record', hiddenLineBreakDetail(rest[hidden]!, 'line'), number, restAt + hidden + 1);
    const call = CALL.exec(rest);
    if (call) {
      const [, name, tail] = call as unknown as [string, string, string];
      const at = { line: number, column: restAt + name.length + 2 };
      if (tail.endsWith(UNFINISHED)) this.unfinished.set(pid, { name, args: tail.slice(0, -UNFINISHED.length), at });
      else this.record(pid, name, tail, at, into);
      return;
    }
    const resumed = RESUMED.exec(rest);
    if (resumed) {
      const [whole, name, tail] = resumed as unknown as [string, string, string];
      const begun = this.unfinished.get(pid);
      if (!begun || begun.name !== name) {
        throw new ParseError(
          'bad-record',
          `${quoted(`${name} resumed`)} with no unfinished ${excerpt(name)} call of process ${excerpt(pid) || '(no pid)'} before it`,
          number,
          restAt + 1,
        );
      }
      this.unfinished.delete(pid);
      const from = begun.args.length;
      this.record(pid, name, begun.args + tail, { ...begun.at, resumed: { from, line: number, column: restAt + whole.length - tail.length + 1 } }, into);
      return;
    }
    this.personality(rest);
    if (rest !== '') this.notSyscalls++;
  }

  /**
   * Reads a piece of the log alone (see LineReader.readAlone), with the
   * personalities of its context. It leaves the changes of personality
   * (applied here all the same), the lines it cannot read, and the parts of
   * a call whose process the whole log's reader may hold an unfinished call
   * of: until a call of that process is resumed there, and from one left
   * unresumed. Its other calls are joined here, so that the main thread reads
   * again a small fraction of a log's lines, not every unfinished and resumed
   * one (docs/benchmarks.md).
   */
  readAlone(lines: readonly string[], into: RecordBatchBuilder): LeftLine[] {
    const left: LeftLine[] = [];
    /** Calls of the piece not yet resumed, by pid, and how each is left if it is. */
    const begun = new Map<string, { name: string; args: string; left: LeftLine }>();
    /** Processes of which the whole log's reader holds no unfinished call once it has read the lines left so far. */
    const settled = new Set<string>();
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!;
      const [pid, rest] = splitLine(text);
      if (hiddenLineBreak(rest) !== -1) {
        left.push({ index: i, text, before: into.count }); // line() refuses it, changing nothing
        continue;
      }
      const call = CALL.exec(rest);
      if (call) {
        const [, name, tail] = call as unknown as [string, string, string];
        if (tail.endsWith(UNFINISHED)) {
          const overwritten = begun.get(pid);
          if (overwritten) {
            left.push(overwritten.left); // the whole log's reader holds it, until this call replaces it
            settled.delete(pid);
          }
          begun.set(pid, { name, args: tail.slice(0, -UNFINISHED.length), left: { index: i, text, before: into.count } });
        } else if (!this.recordAlone(pid, name, tail, into)) {
          left.push({ index: i, text, before: into.count });
        }
        continue;
      }
      const resumed = RESUMED.exec(rest);
      if (resumed) {
        const [, name, tail] = resumed as unknown as [string, string, string];
        const call = begun.get(pid);
        begun.delete(pid);
        const matches = call?.name === name;
        if (matches && settled.has(pid) && this.recordAlone(pid, name, call!.args + tail, into)) continue;
        if (call) left.push(call.left);
        left.push({ index: i, text, before: into.count });
        // The whole log's reader resumes its call (holding none of the process's after) or throws (holding the call still).
        if (matches) settled.add(pid);
        else settled.delete(pid);
        continue;
      }
      if (this.personality(rest)) left.push({ index: i, text, before: into.count });
      else if (rest !== '') this.notSyscalls++;
    }
    for (const call of begun.values()) left.push(call.left);
    return left.sort((a, b) => a.index - b.index);
  }

  /** Adds the record of a call as record() does; false, with nothing added, where record() would throw. */
  private recordAlone(pid: string, name: string, args: string, into: RecordBatchBuilder): boolean {
    try {
      this.record(pid, name, args, NOWHERE, into);
      return true;
    } catch (error) {
      if (error instanceof ParseError) return false;
      throw error;
    }
  }

  /** Applies `rest` if it is a change of personality; whether it was. */
  private personality(rest: string): boolean {
    const personality = PERSONALITY.exec(rest);
    if (!personality) return false;
    const [, pid, mode] = personality as unknown as [string, string, string];
    this.arches.set(pid, archByName(mode === '32 bit' ? 'i386' : mode === 'x32' ? 'x32' : 'x86_64')!);
    this.personalityLines++;
    return true;
  }

  /**
   * Adds to `into` the first call still unfinished at the end of the log, if
   * any (its process died in it: the kernel saw the call all the same), and
   * forgets it; false once none is left. Throws ParseError for a call it
   * cannot read, forgotten all the same, so that the next call goes on.
   */
  endNext(into: RecordBatchBuilder): boolean {
    const next = this.unfinished.entries().next();
    if (next.done) return false;
    const [pid, { name, args, at }] = next.value;
    this.unfinished.delete(pid);
    this.record(pid, name, args, at, into);
    return true;
  }

  /**
   * Adds the record of a call to `name` by process `pid`; `args` is the text
   * after its opening parenthesis: to the end of the line (a complete call,
   * whose arguments end at `) = `) or of the arguments (an unfinished one).
   * `at` says where `args` is, for errors.
   */
  private record(pid: string, name: string, args: string, at: ArgsAt, into: RecordBatchBuilder): void {
    const arch = this.arches.get(pid) ?? this.arch;
    const unknown = name.startsWith('syscall_') ? UNKNOWN_SYSCALL.exec(name) : null;
    let nr = unknown ? Number(unknown[1]) : syscallNumber(arch, name);
    if (nr === undefined)
      throw new ParseError('bad-record', `unknown syscall ${quoted(name)} for arch ${arch.name}`, at.line, Math.max(at.column - 1 - name.length, 0));
    if (unknown && arch.name === 'x32') nr |= X32_SYSCALL_BIT;
    const count = this.readArgs(args, at, (arch.auditArch & AUDIT_ARCH_64BIT) !== 0);
    into.start(arch.auditArch, nr | 0);
    for (let i = 0; i < count; i++) into.setHalves(SECCOMP_DATA_ARGS + 8 * i, this.halves[2 * i]!, this.halves[2 * i + 1]!);
  }

  /**
   * Reads the arguments in `text` (see record) into `halves`: u64 values,
   * cut to 32 bits for a 32-bit arch (not `wide`), as its registers hold
   * them; more than 64 bits is an error, as in JSON lines. Returns how many.
   * Scanned a character at a time: split, trimmed, tested and made BigInts,
   * they took most of a line's reading time (docs/benchmarks.md).
   */
  private readArgs(text: string, at: ArgsAt, wide: boolean): number {
    const found = text.search(CALL_END);
    const end = found === -1 ? text.length : found;
    let from = 0;
    while (from < end && text.charCodeAt(from) <= 0x20) from++;
    if (from === end) return 0;
    let count = 1;
    let seventh = -1;
    for (let i = from; i < end; i++) {
      if (text.charCodeAt(i) === 0x2c && ++count === 7) seventh = i + 1;
    }
    if (count > 6) {
      while (seventh < end && text.charCodeAt(seventh) <= 0x20) seventh++;
      throw errorInArgs(at, seventh, `${count} arguments; a syscall has at most 6`);
    }
    for (let i = 0; i < count; i++) {
      let stop = text.indexOf(',', from);
      if (stop === -1 || stop > end) stop = end;
      let first = from;
      let last = stop;
      while (first < last && text.charCodeAt(first) <= 0x20) first++;
      while (last > first && text.charCodeAt(last - 1) <= 0x20) last--;
      const found = this.readNumber(text, first, last, i);
      if (found === NOT_A_NUMBER) {
        throw errorInArgs(at, first, `argument ${quoted(text.slice(first, last))} is not a number: record the log with strace -e raw=all`);
      }
      if (found === TOO_WIDE) throw errorInArgs(at, first, `args[${i}] ${excerpt(text.slice(first, last))} does not fit (0..${U64_MAX})`);
      if (!wide) this.halves[2 * i + 1] = 0;
      from = stop + 1;
    }
    return count;
  }

  /** Reads the decimal or 0x number in text[first, last) into argument `i`'s halves: NUMBER, NOT_A_NUMBER, or TOO_WIDE past 64 bits. */
  private readNumber(text: string, first: number, last: number, i: number): number {
    if (last - first > 2 && text.charCodeAt(first) === ZERO && (text.charCodeAt(first + 1) | 0x20) === 0x78) {
      // Hex: the last 8 digits are the low half, the 8 before them the high one; a significant digit before those is too wide.
      let low = 0;
      let high = 0;
      let significant = 0;
      for (let at = first + 2; at < last; at++) {
        const digit = hexDigit(text.charCodeAt(at));
        if (digit < 0) return NOT_A_NUMBER;
        if (digit !== 0 || significant > 0) significant++;
        if (at >= last - 8) low = low * 16 + digit;
        else if (at >= last - 16) high = high * 16 + digit;
      }
      if (significant > U64_HEX_DIGITS) return TOO_WIDE;
      this.halves[2 * i] = low;
      this.halves[2 * i + 1] = high;
      return NUMBER;
    }
    if (first === last) return NOT_A_NUMBER;
    let value = 0;
    let leadingZeros = 0;
    for (let at = first; at < last; at++) {
      const code = text.charCodeAt(at);
      if (code < ZERO || code > NINE) return NOT_A_NUMBER;
      if (value === 0 && code === ZERO) leadingZeros++;
      value = value * 10 + (code - ZERO);
    }
    if (last - first > EXACT_DECIMAL_DIGITS) {
      // No BigInt made of a huge number: past 20 significant digits it is more than 64 bits.
      if (last - first - leadingZeros > U64_DECIMAL_DIGITS) return TOO_WIDE;
      const exact = BigInt(text.slice(first, last));
      if (exact > U64_MAX) return TOO_WIDE;
      this.halves[2 * i] = Number(exact & 0xffffffffn);
      this.halves[2 * i + 1] = Number(exact >> 32n);
    } else {
      this.halves[2 * i] = value % TWO_32;
      this.halves[2 * i + 1] = Math.floor(value / TWO_32);
    }
    return NUMBER;
  }
}

/** Whether `line`, the first non-blank line of a trace, looks like strace output (rather than a JSON record). */
export function looksLikeStrace(line: string): boolean {
  const rest = splitLine(line)[1];
  return CALL.test(rest) || RESUMED.test(rest) || rest.startsWith('+++') || rest.startsWith('---') || rest.startsWith('[ Process');
}
