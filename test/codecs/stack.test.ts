import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/codecs/asm.js';
import { detectFormat, readProgram, readPrograms, writeProgram } from '../../src/codecs/formats.js';
import { formatStack, parseStack } from '../../src/codecs/stack.js';
import { ParseError } from '../../src/errors.js';
import { thrownBy } from '../helpers.js';

const first = assemble('ld [nr]\njeq #1001, deny, allow\ndeny: ret ERRNO(1)\nallow: ret ALLOW');
const second = assemble('ret KILL_PROCESS');
const bytes = (text: string) => new TextEncoder().encode(text);

describe('stack files', () => {
  it('hold a whole stack, oldest first, with where it came from, and read back to the same programs', () => {
    const text = formatStack([first, second], { pid: 42, command: 'nginx', mode: 'filter' });
    expect(JSON.parse(text)).toMatchObject({ pid: 42, command: 'nginx', mode: 'filter' });
    expect(parseStack(text)).toEqual([first, second]);
    expect(detectFormat(bytes(text))).toBe('stack');
    expect(readPrograms(bytes(text))).toEqual({ programs: [first, second], format: 'stack' });
  });

  it('read as one filter where they hold one, and are refused where one is read from a stack of several', () => {
    expect(readProgram(bytes(writeProgram(first, 'stack') as string))).toEqual({ program: first, format: 'stack' });
    const error = thrownBy(() => readProgram(bytes(formatStack([first, second]))));
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).code).toBe('stack-size');
  });

  it.each([
    { what: 'not an object', text: '[[]]', code: 'syntax', detail: 'a stack file must be a JSON object' },
    {
      what: 'an unknown field',
      text: '{"filters": [], "owner": 1}',
      code: 'syntax',
      detail: 'unknown field "owner" (expected filters, pid, command, mode, flags)',
    },
    { what: 'no filters', text: '{"pid": 1}', code: 'syntax', detail: 'filters: must be an array of filters, oldest first' },
    { what: 'an empty stack', text: '{"filters": []}', code: 'empty-input', detail: 'filters: empty: a stack holds at least one filter' },
    {
      what: 'a bad instruction, by its place',
      text: '{"filters": [[{"code": 6, "jt": 0, "jf": 0, "k": 0}], [{"code": 6, "jt": 0, "jf": 0}]]}',
      code: 'syntax',
      detail: 'filters[1]: instruction 0: missing "k"',
    },
    { what: 'broken JSON', text: '{"filters":\n  [[}', code: 'syntax', detail: 'not valid JSON: expected a value, found "}"' },
  ])('refuses $what', ({ text, code, detail }) => {
    const error = thrownBy(() => parseStack(text));
    expect(error).toBeInstanceOf(ParseError);
    expect({ code: (error as ParseError).code, detail: (error as ParseError).detail }).toEqual({ code, detail });
  });

  it('places broken JSON at its line and column', () => {
    const error = thrownBy(() => parseStack('{"filters":\n  [[}')) as ParseError;
    expect({ line: error.line, column: error.column }).toEqual({ line: 2, column: 5 });
  });

  it('places a bad instruction at its line and column, in a stack file and in a JSON program', () => {
    const stack =
      '{"filters": [\n [{"code": 6, "jt": 0, "jf": 0, "k": 0}],\n [{"code": 6, "jt": 0, "jf": 0, "k": 0}, {"code": 99999, "jt": 0, "jf": 0, "k": 0}]\n]}';
    const inStack = thrownBy(() => parseStack(stack)) as ParseError;
    expect({ line: inStack.line, column: inStack.column, detail: inStack.detail }).toEqual({
      line: 3,
      column: 42,
      detail: 'filters[1]: instruction 1: "code" = 99999 does not fit (0..65535)',
    });
    const program = thrownBy(() => readProgram(bytes('[\n  {"code": 6, "jt": 0, "jf": 0, "k": 0},\n  {"code": 6, "jt": 0, "jf": 0}\n]'))) as ParseError;
    expect({ line: program.line, column: program.column, detail: program.detail }).toEqual({ line: 3, column: 3, detail: 'instruction 1: missing "k"' });
  });
});
