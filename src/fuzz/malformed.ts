/**
 * Malformed inputs for every parser a command line reaches: each filter format
 * (and format detection), and traces as binary records, JSON lines and strace
 * logs. A case is a clean input made from a generated program or trace, then
 * broken the ways real files are: truncated, bit-flipped, tokens replaced by
 * huge or odd numbers, line separators and NULs, deep nesting, very long
 * lines, random bytes. Some changes must not change the meaning (CRLF line
 * endings): such a case carries its clean form, to be compared.
 *
 * Pure: the cases are data; src/cli/fuzz-inputs.ts runs them through the CLI.
 */
import { FORMATS, type Format } from '../codecs/format-names.js';
import { writeProgram } from '../codecs/formats.js';
import { encodeRaw } from '../codecs/raw.js';
import type { Instruction } from '../instruction.js';
import { ARCHES, archByName } from '../seccomp/arches.js';
import { formatRecordJson } from '../seccomp/record-json.js';
import { encodeSeccompData, packRecords, type SeccompData } from '../seccomp/records.js';
import { syscallName } from '../seccomp/syscalls.js';
import { iterationRandom } from './differential.js';
import { generateProgram, mutateProgram } from './programs.js';
import { chance, int, pick, type Random, u32 } from './random.js';

/** One run of a command on in-memory files. */
export interface InputCase {
  /** What the case is made of, for a report: the clean input and each change. */
  readonly description: string;
  /** The command line; the files it names are in `files`. */
  readonly argv: readonly string[];
  readonly files: Readonly<Record<string, Uint8Array>>;
  /**
   * The files before a change that must not change what the command does
   * (CRLF for LF): run on these, the command must give the same result.
   */
  readonly clean?: Readonly<Record<string, Uint8Array>>;
}

const x86_64 = archByName('x86_64')!;
const encoder = new TextEncoder();
const TEXT_FORMATS: readonly Format[] = FORMATS.filter((f) => f !== 'raw' && f !== 'raw-be');

/** The filter every trace case is decided by: ALLOW for x86_64's read, else ERRNO(1). */
const TRACE_FILTER = encodeRaw(
  [
    { code: 0x20, jt: 0, jf: 0, k: 4 }, // A = arch
    { code: 0x15, jt: 0, jf: 3, k: x86_64.auditArch }, // if (A != x86_64) goto errno
    { code: 0x20, jt: 0, jf: 0, k: 0 }, // A = nr
    { code: 0x15, jt: 0, jf: 1, k: 0 }, // if (A != read) goto errno
    { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }, // ALLOW
    { code: 0x06, jt: 0, jf: 0, k: 0x00050001 }, // ERRNO(1)
  ],
  'le',
);

/** Numbers that sit at or past a boundary some parser checks. */
const ODD_NUMBERS = [
  '0',
  '-0',
  '-1',
  '255',
  '256',
  '65535',
  '65536',
  '4294967295',
  '4294967296',
  '0xffffffff',
  '0x100000000',
  '18446744073709551615',
  '18446744073709551616',
  '0xffffffffffffffff',
  '0x1ffffffffffffffffff',
  '-9223372036854775809',
  '99999999999999999999999999999999',
  '1e309',
  '1e3',
  '0.5',
  'NaN',
  'Infinity',
  '0x',
  '0b',
  '0b102',
  '08',
  '0o7',
  '1_000',
  `1${'0'.repeat(400)}`,
  '1 << 40',
  '1 << 31',
  '1 << 32',
  '(1 << 33) >> 2',
  '-2147483649',
  '~0',
  '- - 1',
];

/** Bytes and characters that change how text is split or read. */
const SEPARATORS = ['\r', '\r\n', '\n\r', '\u2028', '\u2029', '\u0085', '\0', '\t', '\v', '\f', '\uFEFF', ' ', ';', ',', '"', '\\'];

/** Openers whose nesting a recursive parser would follow. */
const OPENERS = ['(', '[', '{', '-', '~', '!', '(-', '[{"a":'];

/** Characters of every text format, for random text that looks almost right. */
const TEXT_ALPHABET = '0123456789abcdefxABCDEFX ,;:#[](){}<>=+-*/%&|^~!."\'\\\n\r\t_ldjeqgtretALLOWKILLERRNOBPF_STMTJUMPnrarchargs';

/** A random program, sometimes one the verifier refuses. */
function someProgram(random: Random): Instruction[] {
  const program = generateProgram(random, chance(random, 0.1) ? 400 : 48);
  return chance(random, 0.2) ? mutateProgram(program, random) : program;
}

/** A few records, of x86_64 mostly, with the arguments filters compare. */
function someRecords(random: Random): SeccompData[] {
  const word = (): number => (chance(random, 0.5) ? int(random, 0, 400) : u32(random));
  return Array.from({ length: int(random, 1, 40) }, () => ({
    nr: chance(random, 0.9) ? int(random, 0, 450) : u32(random) | 0,
    arch: chance(random, 0.8) ? x86_64.auditArch : pick(random, ARCHES).auditArch,
    instructionPointer: BigInt(u32(random)),
    args: Array.from({ length: 6 }, () => (chance(random, 0.2) ? (BigInt(word()) << 32n) | BigInt(word()) : BigInt(word()))),
  }));
}

/** x86_64 records as `strace -f -e raw=all` writes them: `pid name(0x1, ...) = ret`. */
function straceLog(random: Random, records: readonly SeccompData[]): string {
  return records
    .map((r) => {
      const name = syscallName(x86_64, r.nr >>> 0) ?? `syscall_0x${(r.nr >>> 0).toString(16)}`;
      const args = r.args.slice(0, int(random, 0, 6)).map((a) => `0x${a.toString(16)}`);
      return `${int(random, 100, 120)} ${name}(${args.join(', ')}) = ${chance(random, 0.8) ? '0' : '-1 EPERM (Operation not permitted)'}\n`;
    })
    .join('');
}

/** `text` with LF line endings made CRLF. */
const crlf = (bytes: Uint8Array): Uint8Array => encoder.encode(new TextDecoder().decode(bytes).replace(/\n/g, '\r\n'));

/** One change to `bytes`, and its name. */
function mutate(random: Random, bytes: Uint8Array, text: boolean): { bytes: Uint8Array; change: string } {
  const at = (): number => int(random, 0, bytes.length);
  const splice = (from: number, to: number, insert: Uint8Array | string): Uint8Array => {
    const middle = typeof insert === 'string' ? encoder.encode(insert) : insert;
    const out = new Uint8Array(from + middle.length + bytes.length - to);
    out.set(bytes.subarray(0, from));
    out.set(middle, from);
    out.set(bytes.subarray(to), from + middle.length);
    return out;
  };
  const kind = int(random, 0, 10);
  switch (kind) {
    case 0: {
      const end = at();
      return { bytes: bytes.slice(0, end), change: `truncated at ${end}` };
    }
    case 1: {
      const out = bytes.slice();
      const flips = int(random, 1, 8);
      for (let i = 0; i < flips && out.length > 0; i++) out[int(random, 0, out.length - 1)]! ^= 1 << int(random, 0, 7);
      return { bytes: out, change: `${flips} bits flipped` };
    }
    case 2: {
      const from = at();
      const to = Math.min(bytes.length, from + int(random, 1, 64));
      return chance(random, 0.5)
        ? { bytes: splice(from, to, ''), change: `bytes ${from}..${to} deleted` }
        : { bytes: splice(from, from, bytes.subarray(from, to)), change: `bytes ${from}..${to} doubled` };
    }
    case 3: {
      if (!text) break;
      const source = new TextDecoder().decode(bytes);
      const numbers = [...source.matchAll(/-?(?:0x[0-9a-f]+|[0-9]+)/gi)];
      if (numbers.length === 0) break;
      const number = pick(random, numbers);
      const odd = pick(random, ODD_NUMBERS);
      const replaced = source.slice(0, number.index) + odd + source.slice(number.index! + number[0].length);
      return { bytes: encoder.encode(replaced), change: `number ${number[0]} replaced by ${odd.slice(0, 20)}` };
    }
    case 4: {
      const separator = pick(random, SEPARATORS);
      const where = at();
      return { bytes: splice(where, where, separator), change: `${JSON.stringify(separator)} inserted at ${where}` };
    }
    case 5: {
      const opener = pick(random, OPENERS);
      const depth = pick(random, [100, 1000, 10_000, 100_000]);
      const where = at();
      return { bytes: splice(where, where, opener.repeat(depth)), change: `${depth} × ${JSON.stringify(opener)} at ${where}` };
    }
    case 6: {
      if (!chance(random, 0.1)) break; // long lines are slow to make and to read: now and then
      const token = pick(random, ['x', '9', '0x1', 'a,', ' ', '"', '\\u0041']);
      const length = pick(random, [100_000, 1 << 20, 4 << 20]);
      const where = at();
      return {
        bytes: splice(where, where, token.repeat(Math.ceil(length / token.length))),
        change: `a ${length}-byte run of ${JSON.stringify(token)} at ${where}`,
      };
    }
    case 7: {
      const length = int(random, 0, 300);
      return { bytes: Uint8Array.from({ length }, () => int(random, 0, 255)), change: `replaced by ${length} random bytes` };
    }
    case 8: {
      const length = int(random, 0, 300);
      const out = Array.from({ length }, () => pick(random, [...TEXT_ALPHABET])).join('');
      return { bytes: encoder.encode(out), change: `replaced by ${length} random characters` };
    }
    case 9: {
      const from = at();
      const odd = pick(random, ['é', '\u{1F600}', '\uFFFD', '\uD800', '\x7f', '\x80', '\xff', '\u0000']);
      return { bytes: splice(from, Math.min(bytes.length, from + 1), odd), change: `${JSON.stringify(odd)} at ${from}` };
    }
    default: {
      // Lines in another order, or one line twice.
      const lines = new TextDecoder().decode(bytes).split('\n');
      if (lines.length < 2) break;
      const i = int(random, 0, lines.length - 1);
      const j = int(random, 0, lines.length - 1);
      if (chance(random, 0.5)) [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      else lines.splice(j, 0, lines[i]!);
      return { bytes: encoder.encode(lines.join('\n')), change: `lines ${i} and ${j} moved` };
    }
  }
  return mutate(random, bytes, text); // that change did not apply to this input: another
}

/** The command that reads a filter in `format` from `path`, chosen at random. */
function filterCommand(random: Random, path: string, format: Format | undefined): string[] {
  const input = format === undefined ? [] : ['--input-format', format];
  const command = pick(random, ['disasm', 'disasm', 'verify', 'info', 'convert', 'emu']);
  switch (command) {
    case 'convert':
      return ['convert', path, ...input, '--to', pick(random, FORMATS), '-o', 'out'];
    case 'emu':
      return ['emu', path, ...input, '--nr', String(int(random, 0, 450)), '--args', `${u32(random)},0x${u32(random).toString(16)}`];
    case 'disasm':
      return ['disasm', path, ...input, ...(chance(random, 0.3) ? ['--labels'] : [])];
    default:
      return [command, path, ...input];
  }
}

/** A filter case: a program written in some format, perhaps broken. */
function filterCase(random: Random): InputCase {
  const program = someProgram(random);
  const format = pick(random, FORMATS);
  const written = writeProgram(program.slice(0, 4096), format);
  const clean = typeof written === 'string' ? encoder.encode(written) : written;
  const text = TEXT_FORMATS.includes(format);
  const path = `filter.${format}`;
  const argv = filterCommand(random, path, format === 'raw-be' || chance(random, 0.3) ? format : undefined);
  return brokenCase(random, `${program.length}-instruction program as ${format}`, argv, { path, clean, text });
}

/** A trace case: records as binary, JSON lines or an strace log, perhaps broken, decided by TRACE_FILTER. */
function traceCase(random: Random): InputCase {
  const records = someRecords(random);
  const format = pick(random, ['bin', 'bin-be', 'jsonl', 'strace'] as const);
  const bigEndian = format === 'bin-be';
  let clean: Uint8Array;
  if (format === 'jsonl') clean = encoder.encode(records.map((r) => `${formatRecordJson(r)}\n`).join(''));
  else if (format === 'strace') clean = encoder.encode(straceLog(random, records));
  else clean = bigEndian ? Buffer.concat(records.map((r) => encodeSeccompData(r, 'be'))) : packRecords(records).bytes;
  const path = `trace.${format}`;
  const argv = [
    'eval',
    'filter.bpf',
    '--records',
    path,
    ...(chance(random, 0.3) ? ['--records-format', format === 'bin-be' ? 'bin' : format] : []),
    ...(bigEndian ? ['--records-byte-order', 'be'] : []),
    '--engine',
    chance(random, 0.5) ? 'interp' : 'auto',
    '--workers',
    '1',
    ...(chance(random, 0.3) ? ['--skip-bad'] : []),
    ...pick(random, [[], ['--summary'], ['--format', 'json'], ['--format', 'action'], ['--out', 'out']]),
  ];
  const text = format === 'jsonl' || format === 'strace';
  return brokenCase(random, `${records.length} records as ${format}`, argv, { path, clean, text }, { 'filter.bpf': TRACE_FILTER });
}

/**
 * The case of `input` (beside the files `others`): now and then its CRLF
 * form, which must read as the clean one, else the clean input broken by one
 * to three changes.
 */
function brokenCase(
  random: Random,
  description: string,
  argv: readonly string[],
  input: { readonly path: string; readonly clean: Uint8Array; readonly text: boolean },
  others: Readonly<Record<string, Uint8Array>> = {},
): InputCase {
  const { path, clean, text } = input;
  if (text && chance(random, 0.15)) {
    return { description: `${description}, CRLF line endings`, argv, files: { ...others, [path]: crlf(clean) }, clean: { ...others, [path]: clean } };
  }
  let bytes = clean;
  const changes: string[] = [];
  for (let i = int(random, 1, 3); i > 0; i--) {
    const mutated = mutate(random, bytes, text);
    bytes = mutated.bytes;
    changes.push(mutated.change);
  }
  return { description: `${description}, ${changes.join(', ')}`, argv, files: { ...others, [path]: bytes } };
}

/** Case `i` of a run with `seed`: the same pair always gives the same case. */
export function malformedInput(seed: number, i: number): InputCase {
  const random = iterationRandom(seed, i);
  return chance(random, 0.6) ? filterCase(random) : traceCase(random);
}
