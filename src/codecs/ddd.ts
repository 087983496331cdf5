/**
 * tcpdump's `-ddd` decimal form: a count line, then `code jt jf k` per line;
 * and the one-line comma form of bpf_asm and iptables' xt_bpf:
 * `N,code jt jf k,code jt jf k,...` (a trailing comma is allowed).
 * Lines end with "\n" or "\r\n"; any other whitespace separates numbers.
 */
import { ParseError } from '../errors.js';
import { checkFields, type Instruction, type Program } from '../instruction.js';
import { checkRange, errorAt, excerpt, quoted } from './text.js';

interface Token {
  readonly text: string;
  readonly offset: number;
}

const LIMITS: ReadonlyArray<[string, number]> = [
  ['code', 0xffff],
  ['jt', 0xff],
  ['jf', 0xff],
  ['k', 0xffffffff],
];

/** The whitespace-separated words of `piece`, which starts at `from` in the whole text. */
function words(piece: string, from: number): Token[] {
  return [...piece.matchAll(/\S+/g)].map((m) => ({ text: m[0], offset: from + m.index }));
}

/** A decimal field (leading zeros are decimal too, as tcpdump reads them) in 0..max, at most 32 bits. */
function decimal(text: string, token: Token, what: string, max: number): number {
  if (!/^[0-9]+$/.test(token.text)) throw errorAt(text, token.offset, 'syntax', `expected a decimal ${what}, found ${quoted(token.text)}`);
  const digits = token.text.replace(/^0+(?=.)/, '');
  // Past 10 digits it is more than 32 bits: no BigInt made of a huge token.
  if (digits.length > 10) throw errorAt(text, token.offset, 'out-of-range', `${what} ${excerpt(digits)} does not fit (0..${max})`);
  return checkRange(BigInt(digits), max, what, text, token.offset);
}

function instruction(text: string, group: Token[], at: number): Instruction {
  if (group.length !== 4) {
    throw errorAt(text, group[0]?.offset ?? at, 'syntax', `expected 4 numbers "code jt jf k", found ${group.length}`);
  }
  const [code, jt, jf, k] = group.map((token, i) => decimal(text, token, LIMITS[i]![0], LIMITS[i]![1])) as [number, number, number, number];
  return { code, jt, jf, k };
}

/** Parses either decimal form; the count must match the instructions that follow. */
export function parseDdd(text: string): Instruction[] {
  const groups: Array<{ tokens: Token[]; at: number }> = [];
  if (text.includes(',')) {
    let from = 0;
    for (const piece of text.split(',')) {
      groups.push({ tokens: words(piece, from), at: from });
      from += piece.length + 1;
    }
    if (groups.length > 1 && groups.at(-1)!.tokens.length === 0) groups.pop();
  } else {
    let from = 0;
    for (const line of text.split('\n')) {
      const tokens = words(line, from);
      if (tokens.length > 0) groups.push({ tokens, at: from });
      from += line.length + 1;
    }
  }
  const [head, ...body] = groups;
  if (!head || head.tokens.length === 0) throw new ParseError('empty-input', 'empty input: no instructions', 0, 0);
  if (head.tokens.length !== 1) throw errorAt(text, head.at, 'syntax', 'expected the instruction count first');
  const count = decimal(text, head.tokens[0]!, 'instruction count', 0xffffffff);
  const program = body.map((group) => instruction(text, group.tokens, group.at));
  if (program.length === 0) throw new ParseError('empty-input', 'empty input: no instructions', 0, 0);
  if (count !== program.length) {
    throw errorAt(text, head.tokens[0]!.offset, 'count-mismatch', `count says ${count} instructions, but ${program.length} follow`);
  }
  return program;
}

/** Formats a program as `-ddd` lines. */
export function formatDdd(program: Program): string {
  checkFields(program);
  return `${program.length}\n${program.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k}\n`).join('')}`;
}
