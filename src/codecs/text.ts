/**
 * Helpers shared by the text formats: positions and numbers.
 */
import { ParseError } from '../errors.js';

/** 1-based line and column of `offset` in `text`. */
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

const NUMBER = /^(?:0x[0-9a-f]+|0b[01]+|0[0-7]*|[1-9][0-9]*)$/i;

/** True when `token` is an unsigned integer literal: decimal, 0x hex, 0b binary or C octal (leading 0). */
export function isNumberLiteral(token: string): boolean {
  return NUMBER.test(token);
}

/** The value of an integer literal (see isNumberLiteral), exact at any size. */
export function numberValue(token: string): bigint {
  const octal = /^0[0-7]+$/.test(token);
  return BigInt(octal ? `0o${token.slice(1)}` : token);
}

/** `value` as a number if it lies in 0..max, else a ParseError 'out-of-range' naming `what`. */
export function checkRange(value: bigint, max: number, what: string, text: string, offset: number): number {
  if (value < 0n || value > BigInt(max)) {
    throw errorAt(text, offset, 'out-of-range', `${what} ${value} does not fit (0..${max})`);
  }
  return Number(value);
}
