/**
 * `seccomp_data` records as JSON lines
 * (`{"arch":"x86_64","nr":"openat","ip":"0x7f00","args":[3,"0x10",0,0,0,0]}`),
 * whose lines end with "\n" or "\r\n" (see codecs/text.ts).
 */
import { jsonSyntaxError } from '../codecs/json-syntax.js';
import { checkCommentLine, excerpt, positionOf, quoted } from '../codecs/text.js';
import { InputError, ParseError } from '../errors.js';
import { type Arch, archByAuditArch, archByName } from './arches.js';
import { SECCOMP_DATA_ARGS, SECCOMP_DATA_IP, SECCOMP_DATA_SIZE } from './data.js';
import { decodeSeccompData, RecordBatchBuilder, recordByteOrder, type SeccompData } from './records.js';
import { syscallName, syscallNumber } from './syscalls.js';

const U64_MAX = 0xffffffffffffffffn;
const INTEGER_TEXT = /^-?(0x[0-9a-f]+|[0-9]+)$/i;
/** Significant digits past which a decimal or 0x string is beyond every field's range: refused without a BigInt made of it. */
const MAX_SIGNIFICANT_DIGITS = 40;
/** A 0x string of at most 52 bits: Number() reads it exactly. */
const SHORT_HEX_TEXT = /^0x[0-9a-f]{1,13}$/i;
const TWO_TO_32 = 2 ** 32;
const ARG_NAMES = ['args[0]', 'args[1]', 'args[2]', 'args[3]', 'args[4]', 'args[5]'];

/**
 * A JSON value as a message shows it: a number or a short excerpt of a
 * string, else its type; never the whole value (a value nested 10,000 deep
 * overflows JSON.stringify's stack, and a long one would fill the message).
 */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return quoted(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

/** A JSON value that is a number up to 2^53 or a decimal/0x string, as an integer in [min, max]; `what` names it in errors. */
function integer(value: unknown, what: string, min: bigint, max: bigint, line: number): bigint {
  let n: bigint | undefined;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) n = BigInt(value);
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (INTEGER_TEXT.test(text)) {
      const digits = text.replace(/^-?(0x)?0*/i, '');
      if (digits.length > MAX_SIGNIFICANT_DIGITS) throw new ParseError('bad-record', `${what} ${excerpt(value)} does not fit (${min}..${max})`, line, 0);
      n = text.startsWith('-') ? -BigInt(text.slice(1)) : BigInt(text);
    }
  }
  if (n === undefined)
    throw new ParseError(
      'bad-record',
      `${what} must be an integer (a JSON number up to 2^53, or a decimal or 0x string), got ${describeValue(value)}`,
      line,
      0,
    );
  if (n < min || n > max) throw new ParseError('bad-record', `${what} ${excerpt(String(value))} does not fit (${min}..${max})`, line, 0);
  return n;
}

/** integer() for a 32-bit field, with no BigInt for a JSON number in range (most records). */
function integer32(value: unknown, what: string, min: number, max: number, line: number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  return Number(integer(value, what, BigInt(min), BigInt(max), line));
}

/**
 * integer() for a u64 field, as its 32-bit halves at `halves[i]` (low) and
 * `halves[i + 1]` (high): with no BigInt for a JSON number or a 0x string up
 * to 2^52 (most records).
 */
function u64Halves(value: unknown, what: string, line: number, halves: Float64Array, i: number): void {
  let n: number | undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) n = value;
  else if (typeof value === 'string' && SHORT_HEX_TEXT.test(value)) n = Number(value);
  if (n !== undefined) {
    halves[i] = n >>> 0;
    halves[i + 1] = Math.floor(n / TWO_TO_32);
  } else {
    const wide = integer(value, what, 0n, U64_MAX, line);
    halves[i] = Number(wide & 0xffffffffn);
    halves[i + 1] = Number(wide >> 32n);
  }
}

/** The ip's and the arguments' halves of the JSON line being read (see u64Halves). */
const jsonHalves = new Float64Array(14);

/** The arch of a JSON line without one, unless the reader is told another (`cbpf eval --arch`). */
const DEFAULT_ARCH = archByName('x86_64')!;

/** The ParseError for JSON.parse's refusal of `text`, line `line` from column `column`: where the syntax breaks, and why. */
function jsonError(text: string, line: number, column: number): ParseError {
  const error = jsonSyntaxError(text);
  if (!error) return new ParseError('bad-record', 'not valid JSON', line, column);
  const at = positionOf(text, error.offset);
  return new ParseError('bad-record', `not valid JSON: ${error.reason}`, line + at.line - 1, at.line === 1 ? column + at.column - 1 : at.column);
}

/**
 * Adds the record of one JSON line (SPEC section 8) to `into`: `arch` a cbpf
 * arch name or a number, `nr` a number or a syscall name of that arch, `ip`
 * and `args` u64 values. A missing arch is `defaultArch` (the one `cbpf eval
 * --arch` names, as for strace logs; x86_64 by default); other missing fields
 * are 0. `line`, and the `column` where `text` starts, are for error messages
 * (ParseError, and nothing added). On the hot path of `cbpf eval` with JSON
 * lines: no work per record beyond what a field needs.
 */
export function readRecordJson(text: string, line: number, into: RecordBatchBuilder, defaultArch: Arch = DEFAULT_ARCH, column = 1): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw jsonError(text, line, column);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ParseError('bad-record', 'a record must be a JSON object', line, 0);
  const fields = value as Record<string, unknown>;
  for (const key in fields) {
    if (key !== 'arch' && key !== 'nr' && key !== 'ip' && key !== 'args')
      throw new ParseError('bad-record', `unknown field ${quoted(key)} (expected arch, nr, ip, args)`, line, 0);
  }
  let arch: number;
  const named = fields.arch === undefined ? defaultArch : typeof fields.arch === 'string' ? archByName(fields.arch) : undefined;
  if (named) arch = named.auditArch;
  else {
    if (typeof fields.arch === 'string' && !/^(0x)?[0-9a-f]+$/i.test(fields.arch))
      throw new ParseError('bad-record', `unknown arch ${quoted(fields.arch)}`, line, 0);
    arch = integer32(fields.arch, 'arch', 0, 0xffffffff, line);
  }
  let nr = 0;
  if (typeof fields.nr === 'string' && /^[a-z_]\w*$/i.test(fields.nr)) {
    nr = syscallByName(fields.nr, named ?? archByAuditArch(arch), arch, line);
  } else if (fields.nr !== undefined) {
    nr = integer32(fields.nr, 'nr', -0x80000000, 0xffffffff, line) | 0;
  }
  const halves = jsonHalves.fill(0);
  if (fields.ip !== undefined) u64Halves(fields.ip, 'ip', line, halves, 0);
  const given = fields.args ?? [];
  if (!Array.isArray(given) || given.length > 6) throw new ParseError('bad-record', 'args must be an array of at most 6 values', line, 0);
  for (let i = 0; i < given.length; i++) u64Halves(given[i], ARG_NAMES[i]!, line, halves, 2 + 2 * i);
  // Every field read: only now does the record start.
  into.start(arch, nr);
  into.setHalves(SECCOMP_DATA_IP, halves[0]!, halves[1]!);
  for (let i = 0; i < given.length; i++) into.setHalves(SECCOMP_DATA_ARGS + 8 * i, halves[2 + 2 * i]!, halves[3 + 2 * i]!);
}

/** The number of syscall `name` on `known`, the arch whose audit value is `arch` (undefined when cbpf knows none by it). */
function syscallByName(name: string, known: Arch | undefined, arch: number, line: number): number {
  const number = known ? syscallNumber(known, name) : undefined;
  if (number !== undefined) return number;
  const noTable = (archName: string): ParseError =>
    new ParseError('bad-record', `syscall ${quoted(name)} is named for arch ${archName}, which cbpf has no syscall table for: give nr as a number`, line, 0);
  if (!known) throw noTable(`0x${arch.toString(16)}`);
  if (known.table === undefined) throw noTable(known.name);
  throw new ParseError('bad-record', `unknown syscall ${quoted(name)} for arch ${known.name}`, line, 0);
}

/** A record as people write one, with JSON lines' fields and defaults (see readRecordJson); bigints too. */
export interface RecordFields {
  /** An arch name (`x86_64`) or its audit number; default x86_64. */
  readonly arch?: string | number;
  /** A syscall name of that arch, or a number; default 0. */
  readonly nr?: string | number;
  /** The instruction pointer, a u64; default 0. */
  readonly ip?: number | bigint | string;
  /** Up to six u64 arguments; missing ones are 0. */
  readonly args?: readonly (number | bigint | string)[];
}

/**
 * The record `fields` describe, read exactly as a JSON line with those
 * fields is (bigints as decimal strings).
 * @throws InputError `record-fields` for fields that make no record, saying why.
 */
export function recordFromFields(fields: RecordFields): SeccompData {
  const text = JSON.stringify(fields, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  try {
    return parseRecordJson(text ?? 'undefined', 1);
  } catch (error) {
    if (error instanceof ParseError) throw new InputError('record-fields', error.detail);
    throw error;
  }
}

/** One JSON line's record (see readRecordJson; a missing arch is `arch`, default x86_64). */
export function parseRecordJson(text: string, line: number, arch: Arch = DEFAULT_ARCH): SeccompData {
  const into = new RecordBatchBuilder(1);
  readRecordJson(text, line, into, arch);
  const batch = into.take();
  return decodeSeccompData(batch.bytes, recordByteOrder(batch, 0));
}

/** A line a reader of a piece of a trace left to the reader of the whole trace: its index in the piece, its text, and how many of the piece's records come before it. */
export interface LeftLine {
  readonly index: number;
  readonly text: string;
  readonly before: number;
}

/**
 * Reads the lines of a text trace into records: JSON lines (JsonLinesReader)
 * or an strace log (StraceReader).
 */
export interface LineReader {
  /** Lines that were no record and not bad either (strace's notes: signals, exits). */
  readonly notSyscalls: number;
  /** Adds to `into` the record line `number` makes, if any, read with all the lines before it; throws ParseError for a bad line (nothing added then). */
  line(text: string, number: number, into: RecordBatchBuilder): void;
  /**
   * Reads a piece of the trace without the lines before it (maybe on a
   * worker thread): adds to `into` the records it can, and returns, in
   * order, the lines it left to a reader of the whole trace, which reads
   * them with line() between those records: lines that need the lines
   * before them, and bad lines.
   */
  readAlone(lines: readonly string[], into: RecordBatchBuilder): LeftLine[];
  /** After the last line: adds the next record still owed, if any, and false once none is; throws ParseError as line() does. */
  endNext(into: RecordBatchBuilder): boolean;
}

/**
 * JSON lines (see readRecordJson; blank lines and lines starting with # pass),
 * each a record that stands alone; a record without an arch is of `arch`.
 */
export class JsonLinesReader implements LineReader {
  readonly notSyscalls = 0;

  constructor(private readonly arch: Arch = DEFAULT_ARCH) {}

  line(text: string, number: number, into: RecordBatchBuilder): void {
    const trimmed = text.trim();
    if (trimmed === '') return;
    const column = text.charCodeAt(0) === trimmed.charCodeAt(0) ? 1 : text.length - text.trimStart().length + 1;
    // A "\r" in a comment line would hide the records after it (a file whose lines end with "\r" alone).
    if (trimmed.startsWith('#')) {
      checkJsonLineComment(trimmed, number, column);
      return;
    }
    readRecordJson(trimmed, number, into, this.arch, column);
  }

  /** Leaves the bad lines only. */
  readAlone(lines: readonly string[], into: RecordBatchBuilder): LeftLine[] {
    const left: LeftLine[] = [];
    for (let i = 0; i < lines.length; i++) {
      try {
        this.line(lines[i]!, i + 1, into);
      } catch (error) {
        if (!(error instanceof ParseError)) throw error;
        left.push({ index: i, text: lines[i]!, before: into.count });
      }
    }
    return left;
  }

  endNext(): boolean {
    return false;
  }
}

/** checkCommentLine for a JSON line's comment, as a bad record of line `line` from `column`. */
function checkJsonLineComment(comment: string, line: number, column: number): void {
  try {
    checkCommentLine(comment, comment, 0);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    throw new ParseError('bad-record', error.detail, line, column + error.column - 1);
  }
}

/** Parses JSON lines (blank lines and lines starting with # are skipped; a missing arch is `arch`, default x86_64). */
export function parseRecordLines(text: string, arch: Arch = DEFAULT_ARCH): SeccompData[] {
  const lines = text.split('\n');
  const into = new RecordBatchBuilder(lines.length);
  const reader = new JsonLinesReader(arch);
  lines.forEach((line, i) => {
    reader.line(line, i + 1, into);
  });
  const batch = into.take();
  return Array.from({ length: batch.count }, (_, i) => decodeSeccompData(batch.bytes, recordByteOrder(batch, i), i * SECCOMP_DATA_SIZE));
}

const hex = (n: bigint | number): string => `0x${n.toString(16)}`;

/** A record as one JSON line, with names where cbpf knows them. */
export function formatRecordJson(data: SeccompData): string {
  const arch = archByAuditArch(data.arch);
  // A name only where it reads back as this number for this arch (x32's do not: they are x86_64 records).
  const named = arch ? syscallName(arch, data.nr >>> 0) : undefined;
  const name = named !== undefined && syscallNumber(arch!, named) === data.nr >>> 0 ? named : undefined;
  return JSON.stringify({
    arch: arch?.name ?? hex(data.arch),
    nr: name ?? data.nr,
    ip: hex(data.instructionPointer),
    args: data.args.map((a) => (a <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(a) : hex(a))),
  });
}
