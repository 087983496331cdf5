/**
 * A stack file: one JSON object that holds a whole stack of filters, oldest
 * first, each in the json format. It is what `cbpf dump --json` writes for a
 * process, and every command that reads filters reads it:
 *
 *   {"pid": 1234, "command": "nginx", "mode": "filter", "filters": [[{"code": 32, ...}, ...], ...]}
 *
 * `filters` is the only field that is needed; `pid`, `command` and `mode`
 * say where the stack came from, and `flags` (from `cbpf dump -- COMMAND`)
 * how each filter was installed.
 */
import { ParseError } from '../errors.js';
import type { Instruction, Program } from '../instruction.js';
import { jsonInstructions, jsonProgram, parseJsonValue } from './json.js';
import { valueOffset } from './json-syntax.js';
import { quoted } from './text.js';

/** Where a stack came from, as `cbpf dump` reports it. */
export interface StackOrigin {
  readonly pid: number;
  readonly command: string;
  /** The process's seccomp mode (/proc/PID/status). */
  readonly mode: 'disabled' | 'strict' | 'filter';
}

const ORIGIN_FIELDS = ['pid', 'command', 'mode', 'flags'];

/** The filters of a stack file, oldest first; throws ParseError naming the JSON path of what is wrong. */
export function parseStack(text: string): Instruction[][] {
  const value = parseJsonValue(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ParseError('syntax', 'a stack file must be a JSON object', 0, 0);
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => key !== 'filters' && !ORIGIN_FIELDS.includes(key));
  if (unknown !== undefined) throw new ParseError('syntax', `unknown field ${quoted(unknown)} (expected filters, pid, command, mode, flags)`, 0, 0);
  const filters = fields.filters;
  if (!Array.isArray(filters)) throw new ParseError('syntax', 'filters: must be an array of filters, oldest first', 0, 0);
  if (filters.length === 0) throw new ParseError('empty-input', 'filters: empty: a stack holds at least one filter', 0, 0);
  return filters.map((filter: unknown, i) => jsonProgram(filter, `filters[${i}]: `, (pc) => valueOffset(text, ['filters', i, pc]), text));
}

/** A stack file of `programs` (oldest first), with where they came from when known. */
export function formatStack(programs: readonly Program[], origin?: StackOrigin): string {
  const about = origin ? `  "pid": ${origin.pid},\n  "command": ${JSON.stringify(origin.command)},\n  "mode": ${JSON.stringify(origin.mode)},\n` : '';
  return `{\n${about}  "filters": [\n    ${programs.map((p) => jsonInstructions(p, '    ')).join(',\n    ')}\n  ]\n}\n`;
}
