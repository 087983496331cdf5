/**
 * Every program format in one place: detection from the content, reading and
 * writing. The CLI and library users go through `readProgram`/`writeProgram`.
 */

import { formatAsm } from '../disasm.js';
import { DecodeError, EncodeError, ParseError } from '../errors.js';
import type { Instruction, Program } from '../instruction.js';
import { BPF_MAXINSNS } from '../opcodes.js';
import { type CompiledProfile, compileProfileText, contextOf, looksLikeProfile } from '../profile/index.js';
import type { ProfileContext } from '../profile/resolve.js';
import type { Arch } from '../seccomp/arches.js';
import { assemble, isAsmMnemonic } from './asm.js';
import { formatC, parseC } from './c.js';
import { formatDdd, parseDdd } from './ddd.js';
import type { Format, InputFormat } from './format-names.js';
import { formatJson, parseJson } from './json.js';
import { decodeRaw, encodeRaw } from './raw.js';
import { formatStack, parseStack } from './stack.js';
import { errorAt, quoted } from './text.js';

/** Options for reading and writing programs. */
export interface FormatOptions {
  /** Arch for syscall names where the program has not checked one. Default x86_64. */
  readonly arch?: Arch;
  /** The container a profile is resolved for; default: Docker, runc, Docker's capabilities, an x86_64 host, the running kernel. */
  readonly profile?: ProfileContext;
}

/** A label or pc and its colon (`name:`, `5:`) with the whitespace around them, where the last one ended. */
const LINE_PREFIX = /\s*(?:[A-Za-z_]\w*|[0-9]+)\s*:\s*/y;

/** Control bytes that never occur in the text formats, but in nearly every raw program (jt = jf = 0). */
const BINARY_BYTE = (b: number): boolean => b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f;

/**
 * The format of `bytes`: raw when they contain control bytes, else the text
 * format their first meaningful characters announce. Raw input is taken as
 * little-endian; big-endian must be asked for.
 */
export function detectFormat(bytes: Uint8Array): InputFormat {
  if (bytes.length === 0) throw new DecodeError('empty-input', 'empty input: no instructions');
  if (bytes.some(BINARY_BYTE)) return 'raw';
  const text = new TextDecoder().decode(bytes);
  // Comments out, whichever kind starts first; a line comment stops at any line break here, and the reader says more.
  let unterminated = -1;
  const meaningful = text
    .replace(/\/\*[\s\S]*?(?:\*\/|$)|(?:;|\/\/)[^\n\r\u2028\u2029]*/g, (comment, at: number) => {
      if (comment.startsWith('/*') && (comment.length < 4 || !comment.endsWith('*/'))) unterminated = at;
      return ' ';
    })
    .trim();
  if (meaningful === '' && unterminated !== -1) throw errorAt(text, unterminated, 'syntax', 'unterminated /* comment');
  if (meaningful === '') throw new ParseError('empty-input', 'empty input: no instructions', 0, 0);
  if (meaningful.startsWith('[')) return 'json';
  // A JSON object: a stack file has "filters"; anything else is read as a profile, which says what it lacks.
  if (/^\{\s*"/.test(meaningful)) return /"filters"\s*:/.test(meaningful) && !looksLikeProfile(meaningful) ? 'stack' : 'profile';
  if (/BPF_STMT|BPF_JUMP|\{/.test(meaningful)) return 'c';
  if (/^[0-9][0-9,\s]*$/.test(meaningful)) return 'ddd';
  // Labels and pcs (`name:`, `5:`) skipped one at a time: a regex repeating a group over millions of them overflows its stack.
  let at = 0;
  for (LINE_PREFIX.lastIndex = 0; LINE_PREFIX.test(meaningful); LINE_PREFIX.lastIndex = at) at = LINE_PREFIX.lastIndex;
  const rest = meaningful.slice(at);
  if ((at > 0 && rest.trim() === '') || isAsmMnemonic(/\S+/.exec(rest)?.[0] ?? '')) return 'asm';
  throw new ParseError(
    'unknown-format',
    `not a known cBPF format (raw sock_filter bytes, C array, tcpdump -ddd, bpf_asm, JSON or a seccomp profile): starts with ${quoted(meaningful)}`,
    0,
    0,
  );
}

/**
 * The most bytes a filter file may have. A filter is at most 65,535
 * instructions (`sock_fprog.len` is a u16), 512 KiB raw and a few MiB in the
 * wordiest text format with comments; this leaves room for any of them and
 * stops an endless or huge file (`/dev/zero`, a disk image) early.
 */
export const MAX_FILTER_BYTES = 16 << 20;

/** What readPrograms read: the programs, their format and, for a profile, what it was compiled from. */
export interface ReadResult {
  readonly programs: Instruction[][];
  readonly format: InputFormat;
  readonly profile?: CompiledProfile;
}

/**
 * Reads the programs in `bytes`, in `format` or the detected one: one for
 * every format but a stack file, which holds a whole stack, oldest first; a
 * profile gives the filter it compiles to.
 */
export function readPrograms(bytes: Uint8Array, format?: InputFormat, options: FormatOptions = {}): ReadResult {
  const chosen = format ?? detectFormat(bytes);
  const text = (): string => new TextDecoder().decode(bytes);
  if (chosen === 'profile') {
    const profile = compileProfileText(text(), options.profile ?? contextOf());
    return { programs: [profile.program], format: chosen, profile };
  }
  const readers: Record<Exclude<Format, 'profile'>, () => Instruction[][]> = {
    raw: () => [decodeRaw(bytes, 'le')],
    'raw-be': () => [decodeRaw(bytes, 'be')],
    c: () => [parseC(text(), options)],
    ddd: () => [parseDdd(text())],
    asm: () => [assemble(text(), options)],
    json: () => [parseJson(text())],
    stack: () => parseStack(text()),
  };
  return { programs: readers[chosen](), format: chosen };
}

/**
 * Reads one program in `format`, or in the detected format when none is
 * given; a stack file must hold exactly one filter.
 */
export function readProgram(bytes: Uint8Array, format?: InputFormat, options: FormatOptions = {}): { program: Instruction[]; format: InputFormat } {
  const { programs, format: chosen } = readPrograms(bytes, format, options);
  if (programs.length !== 1)
    throw new ParseError(
      'stack-size',
      `a stack of ${programs.length} filters, where one filter is read (commands that take FILTER... read a whole stack)`,
      0,
      0,
    );
  return { program: programs[0]!, format: chosen };
}

/**
 * Writes a program in `format`: bytes for raw, text otherwise. Refuses programs
 * the kernel could never load (more than BPF_MAXINSNS instructions): the
 * `sock_fprog.len` field is a u16 and such a length must never wrap.
 */
export function writeProgram(program: Program, format: Format, options: FormatOptions = {}): Uint8Array | string {
  if (program.length > BPF_MAXINSNS) {
    throw new EncodeError('too-long', `program has ${program.length} instructions; the kernel loads at most ${BPF_MAXINSNS} (BPF_MAXINSNS)`);
  }
  switch (format) {
    case 'raw':
      return encodeRaw(program, 'le');
    case 'raw-be':
      return encodeRaw(program, 'be');
    case 'c':
      return formatC(program);
    case 'ddd':
      return formatDdd(program);
    case 'asm':
      return formatAsm(program, { style: 'labels', ...options });
    case 'json':
      return formatJson(program);
    case 'stack':
      return formatStack([program]);
  }
}
