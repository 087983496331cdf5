/**
 * JSON: an array of `{"code", "jt", "jf", "k"}` objects, one per instruction.
 * A syntax error is reported at its line and column (see json-syntax.ts).
 */
import { ParseError } from '../errors.js';
import { checkFields, type Instruction, type Program } from '../instruction.js';
import { jsonSyntaxError, valueOffset } from './json-syntax.js';
import { errorAt, quoted } from './text.js';

const FIELDS = [
  ['code', 0xffff],
  ['jt', 0xff],
  ['jf', 0xff],
  ['k', 0xffffffff],
] as const;

/** The JSON value of `text`; throws ParseError at the line and column where its syntax breaks. */
export function parseJsonValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const error = jsonSyntaxError(text);
    throw error ? errorAt(text, error.offset, 'syntax', `not valid JSON: ${error.reason}`) : new ParseError('syntax', 'not valid JSON', 0, 0);
  }
}

/** Parses the JSON form; throws ParseError naming the instruction index of a bad element. */
export function parseJson(text: string): Instruction[] {
  return jsonProgram(parseJsonValue(text), '', (pc) => valueOffset(text, [pc]), text);
}

/**
 * The program a parsed JSON value holds: an array of `{"code", "jt", "jf",
 * "k"}` objects. `where` prefixes each error (`filters[1]: `); with `text`,
 * an error about instruction pc is placed where `locate(pc)` says it starts.
 */
export function jsonProgram(value: unknown, where: string, locate?: (pc: number) => number | undefined, text?: string): Instruction[] {
  /** The error about instruction `pc`, at its place in the text when known. */
  const fault = (code: ParseError['code'], pc: number, detail: string): ParseError => {
    const offset = text === undefined ? undefined : locate?.(pc);
    return offset === undefined ? new ParseError(code, detail, 0, 0) : errorAt(text!, offset, code, detail);
  };
  if (!Array.isArray(value)) throw new ParseError('syntax', `${where}JSON input must be an array of instructions`, 0, 0);
  if (value.length === 0) throw new ParseError('empty-input', `${where}empty input: no instructions`, 0, 0);
  return value.map((item: unknown, pc) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw fault('syntax', pc, `${where}instruction ${pc}: expected an object {"code","jt","jf","k"}`);
    }
    const record = item as Record<string, unknown>;
    const unknown = Object.keys(record).filter((key) => !FIELDS.some(([field]) => field === key));
    if (unknown.length > 0) throw fault('syntax', pc, `${where}instruction ${pc}: unknown field ${quoted(unknown[0]!)}`);
    const [code, jt, jf, k] = FIELDS.map(([field, max]) => {
      const v = record[field];
      if (v === undefined) throw fault('syntax', pc, `${where}instruction ${pc}: missing "${field}"`);
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw fault('syntax', pc, `${where}instruction ${pc}: "${field}" must be an integer`);
      }
      if (v < 0 || v > max) {
        throw fault('out-of-range', pc, `${where}instruction ${pc}: "${field}" = ${v} does not fit (0..${max})`);
      }
      return v;
    }) as [number, number, number, number];
    return { code, jt, jf, k };
  });
}

/** Formats a program as JSON, one instruction per line. */
export function formatJson(program: Program): string {
  return `${jsonInstructions(program, '')}\n`;
}

/** A program's JSON array, one instruction per line, each line after the first indented by `indent`. */
export function jsonInstructions(program: Program, indent: string): string {
  checkFields(program);
  const lines = program.map(({ code, jt, jf, k }) => `${indent}  ${JSON.stringify({ code, jt, jf, k })}`);
  return `[\n${lines.join(',\n')}\n${indent}]`;
}
