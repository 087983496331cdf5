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
