/**
 * Where and why a text is not JSON, for messages: V8's JSON.parse says
 * "at position N" for some errors only, and quotes the input across lines for
 * others. Run only once JSON.parse has failed; a loop with a stack of open
 * brackets, so that any depth of nesting is fine.
 */
import { quoted } from './text.js';

/** The first syntax error of a JSON text: its offset and a one-line reason. */
export interface JsonSyntaxError {
  readonly offset: number;
  readonly reason: string;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);

/** The character (a whole code point) at `at`, quoted, or 'the end'. */
function charAt(text: string, at: number): string {
  return at < text.length ? quoted(String.fromCodePoint(text.codePointAt(at)!)) : 'the end';
}

const LITERALS = ['true', 'false', 'null'];

/** The word (letters, digits, _) or else the character at `at`, quoted, or 'the end': what stands where a value should. */
function wordAt(text: string, at: number): string {
  const word = /^\w+/.exec(text.slice(at, at + 41))?.[0];
  return word === undefined ? charAt(text, at) : quoted(word);
}

/** The first syntax error of `text` as JSON (RFC 8259), or undefined when it has none. */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const n = text.length;
  /** The closing bracket of each open array or object, innermost last. */
  const open: string[] = [];
  let i = 0;
  const fail = (offset: number, reason: string): JsonSyntaxError => ({ offset, reason: offset >= n ? 'unexpected end of input' : reason });
  const skipSpace = (): void => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  /** Reads the string at `i` (its opening quote); undefined, or its error. */
  const string = (): JsonSyntaxError | undefined => {
    const start = i++;
    for (;;) {
      if (i >= n) return { offset: start, reason: 'unterminated string' };
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return { offset: i, reason: `control character U+${c.toString(16).padStart(4, '0').toUpperCase()} in a string (write it escaped)` };
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          for (let k = 2; k < 6; k++) if (!isHex(text.charCodeAt(i + k))) return fail(i, 'bad \\u escape in a string: it takes 4 hex digits');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          return fail(i + 1, `bad escape in a string: ${charAt(text, i + 1)} after "\\"`);
        }
        continue;
      }
      i++;
    }
  };
  /** Reads the number at `i`; undefined, or its error. */
  const number = (): JsonSyntaxError | undefined => {
    if (text[i] === '-') i++;
    if (!isDigit(text.charCodeAt(i))) return fail(i, `expected a digit, found ${charAt(text, i)}`);
    if (text[i] === '0') {
      i++;
      if (isDigit(text.charCodeAt(i))) return { offset: i, reason: 'a number has no leading zeros' };
    } else {
      while (isDigit(text.charCodeAt(i))) i++;
    }
    if (text[i] === '.') {
      i++;
      if (!isDigit(text.charCodeAt(i))) return fail(i, `expected a digit after ".", found ${charAt(text, i)}`);
      while (isDigit(text.charCodeAt(i))) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!isDigit(text.charCodeAt(i))) return fail(i, `expected a digit in the exponent, found ${charAt(text, i)}`);
      while (isDigit(text.charCodeAt(i))) i++;
    }
    return undefined;
  };
  /** Where the reader is: before a value, before an object's key, or after a value. */
  let state: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    skipSpace();
    if (state === 'value') {
      const c = text[i];
      if (c === '{' || c === '[') {
        i++;
        skipSpace();
        const close = c === '{' ? '}' : ']';
        if (text[i] === close) {
          i++;
          state = 'after';
        } else {
          open.push(close);
          state = c === '{' ? 'key' : 'value';
        }
        continue;
      }
      if (c === '"' || c === '-' || isDigit(text.charCodeAt(i))) {
        const error = c === '"' ? string() : number();
        if (error) return fail(error.offset, error.reason);
      } else {
        const word = LITERALS.find((w) => text.startsWith(w, i));
        if (!word) return fail(i, `expected a value, found ${wordAt(text, i)}`);
        i += word.length;
      }
      state = 'after';
    } else if (state === 'key') {
      if (text[i] !== '"') return fail(i, `expected a property name in double quotes, found ${charAt(text, i)}`);
      const error = string();
      if (error) return error;
      skipSpace();
      if (text[i] !== ':') return fail(i, `expected ":" after a property name, found ${charAt(text, i)}`);
      i++;
      state = 'value';
    } else {
      const close = open.at(-1);
      if (close === undefined) return i < n ? { offset: i, reason: `unexpected ${charAt(text, i)} after the JSON value` } : undefined;
      if (text[i] === close) {
        open.pop();
        i++;
      } else if (text[i] === ',') {
        i++;
        skipSpace();
        if (text[i] === close) return { offset: i, reason: `${close === '}' ? 'a property' : 'a value'} must follow ",", not ${charAt(text, i)}` };
        state = close === '}' ? 'key' : 'value';
      } else {
        return fail(i, `expected "," or "${close}", found ${charAt(text, i)}`);
      }
    }
  }
}

/**
 * The offset where the value at `path` starts in a valid JSON text (keys for
 * objects, indices for arrays: ['filters', 1, 3]), or undefined when there is
 * none; for placing a message about a value JSON.parse read without fault.
 */
export function valueOffset(text: string, path: readonly (string | number)[]): number | undefined {
  type Frame = { kind: 'array'; index: number } | { kind: 'object'; key: string | undefined; expectKey: boolean };
  const frames: Frame[] = [];
  const matches = (): boolean => frames.length === path.length && frames.every((f, i) => (f.kind === 'array' ? f.index : f.key) === path[i]);
  /** The offset just past the string that starts at `at`. */
  const stringEnd = (at: number): number => {
    let end = at + 1;
    while (end < text.length && text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c ? 2 : 1;
    return end + 1;
  };
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    const top = frames.at(-1);
    if (isSpace(c) || c === 0x3a /* : */) {
      i++;
    } else if (c === 0x2c /* , */) {
      if (top?.kind === 'array') top.index++;
      else if (top) top.expectKey = true;
      i++;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      frames.pop();
      i++;
    } else if (top?.kind === 'object' && top.expectKey) {
      if (c !== 0x22) return undefined; // not valid JSON
      const end = stringEnd(i);
      top.key = JSON.parse(text.slice(i, end)) as string;
      top.expectKey = false;
      i = end;
    } else {
      if (matches()) return i;
      if (c === 0x5b /* [ */) frames.push({ kind: 'array', index: 0 });
      else if (c === 0x7b /* { */) frames.push({ kind: 'object', key: undefined, expectKey: true });
      if (c === 0x5b || c === 0x7b) i++;
      else if (c === 0x22) i = stringEnd(i);
      else while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++; // a number or a literal
    }
  }
  return undefined;
}
