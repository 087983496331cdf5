/**
 * Helpers shared by the text formats: positions, line endings, numbers, and
 * how input text is quoted in messages.
 *
 * Line endings: a line ends at "\n", so "\r\n" ends one too (its "\r" is
 * whitespace at the line's end). A "\r" elsewhere, U+2028 and U+2029 end no
 * line. The program readers take them for whitespace, but refuse them in a
 * comment that runs to the end of the line when text follows them there,
 * since that text would be skipped unseen (a file whose lines end with "\r"
 * alone is one line); the trace readers refuse them inside a line, where they
 * would join two records (JSON lines: in a `#` comment, as JSON.parse refuses
 * them elsewhere unless they are whitespace between tokens or in a string).
 */
import { ParseError } from '../errors.js';

/** 1-based line and column of `offset` in `text`; only "\n" ends a line (so "\r\n" does too). */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** A ParseError located at `offset` of `text`. */
export function errorAt(text: string, offset: number, code: ParseError['code'], detail: string): ParseError {
  const { line, column } = positionOf(text, offset);
  return new ParseError(code, detail, line, column);
}

/** How many characters of input a message quotes at most. */
const EXCERPT_LENGTH = 40;

/**
 * `text` as a message may show it: at most `max` characters (and `…` when
 * cut), escaped as JSON escapes a string, and C1 controls, DEL, U+2028 and
 * U+2029 too, so that a message is always one line of plain characters.
 */
export function excerpt(text: string, max = EXCERPT_LENGTH): string {
  let end = Math.min(text.length, max);
  // Never half a surrogate pair.
  if (end < text.length && end > 0 && text.charCodeAt(end - 1) >= 0xd800 && text.charCodeAt(end - 1) <= 0xdbff) end--;
  const escaped = JSON.stringify(text.slice(0, end))
    .slice(1, -1)
    .replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return end < text.length ? `${escaped}…` : escaped;
}

/** `text` quoted for a message: `"` + excerpt(text) + `"`. */
export function quoted(text: string, max = EXCERPT_LENGTH): string {
  return `"${excerpt(text, max)}"`;
}

/** Characters that end a line in other tools' eyes but not here (see the top of this file). */
const HIDDEN_LINE_BREAKS = ['\r', '\u2028', '\u2029'];

/**
 * The offset in `body` (text without its trailing whitespace) of a "\r",
 * U+2028 or U+2029, or -1. Trailing whitespace gone, one of those has text
 * after it on the same line.
 */
export function hiddenLineBreak(body: string): number {
  // indexOf for each, cheaper than a regex search on every line of a trace.
  let at = -1;
  for (const c of HIDDEN_LINE_BREAKS) {
    const i = body.indexOf(c);
    if (i !== -1 && (at === -1 || i < at)) at = i;
  }
  return at;
}

/** Why hiddenLineBreak's finding `c` is refused: inside a `comment` it hides text; inside a trace's `line` it joins two. */
export function hiddenLineBreakDetail(c: string, where: 'comment' | 'line'): string {
  const name = c === '\r' ? 'a carriage return (\\r)' : `U+${c.charCodeAt(0).toString(16).toUpperCase()}`;
  const what = where === 'comment' ? 'inside a comment would hide the text after it' : 'inside a line';
  return `${name} ${what} (lines end with \\n or \\r\\n)`;
}

/**
 * Throws when the line comment `comment` (at `offset` of `text`, to the end of
 * its line) holds a "\r", U+2028 or U+2029 with text after it, which would be
 * skipped unseen. Trailing whitespace (the "\r" of "\r\n") is fine.
 */
export function checkCommentLine(text: string, comment: string, offset: number): void {
  const body = comment.trimEnd();
  const at = hiddenLineBreak(body);
  if (at !== -1) throw errorAt(text, offset + at, 'line-ending', hiddenLineBreakDetail(body[at]!, 'comment'));
}

const NUMBER = /^(?:0x[0-9a-f]+|0b[01]+|0[0-7]*|[1-9][0-9]*)$/i;

/** True when `token` is an unsigned integer literal: decimal, 0x hex, 0b binary or C octal (leading 0). */
export function isNumberLiteral(token: string): boolean {
  return NUMBER.test(token);
}

/**
 * Significant digits past which a literal is more than 64 bits in any base:
 * it is then out of every range here without being read (BigInt takes
 * seconds over a 10 MB decimal literal, and longer to print it).
 */
const MAX_SIGNIFICANT_DIGITS = 64;

/** The value of an integer literal (see isNumberLiteral), exact; undefined when it has more than 64 significant digits. */
export function numberValue(token: string): bigint | undefined {
  const digits = token.replace(/^0[xb]/i, '').replace(/^0+/, '');
  if (digits.length > MAX_SIGNIFICANT_DIGITS) return undefined;
  const octal = /^0[0-7]+$/.test(token);
  return BigInt(octal ? `0o${token.slice(1)}` : token);
}

/** The value of the literal `token` (see isNumberLiteral) if it lies in 0..max, else a ParseError 'out-of-range' naming `what`. */
export function literalInRange(token: string, max: number, what: string, text: string, offset: number): number {
  const value = numberValue(token);
  if (value === undefined) throw errorAt(text, offset, 'out-of-range', `${what} ${excerpt(token)} does not fit (0..${max})`);
  return checkRange(value, max, what, text, offset);
}

/** `value` as a number if it lies in 0..max, else a ParseError 'out-of-range' naming `what`. */
export function checkRange(value: bigint, max: number, what: string, text: string, offset: number): number {
  if (value < 0n || value > BigInt(max)) {
    throw errorAt(text, offset, 'out-of-range', `${what} ${excerpt(String(value))} does not fit (0..${max})`);
  }
  return Number(value);
}
