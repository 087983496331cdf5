/**
 * Reads the conformance corpus (test/fixtures/conformance/*.cases); the format
 * is described in that folder's README.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../src/codecs/asm.js';
import type { Instruction } from '../../src/instruction.js';
import { parseRecordJson } from '../../src/seccomp/record-json.js';
import type { SeccompData } from '../../src/seccomp/records.js';
import type { VerifyErrno, VerifyRule } from '../../src/verifier.js';

/** One case: a stack of programs and either records with their values or a rejection. */
export interface ConformanceCase {
  readonly name: string;
  /** `file:line` of the case's `===` line. */
  readonly where: string;
  readonly programs: Instruction[][];
  readonly records: SeccompData[];
  readonly expected: number[];
  readonly rejected?: { rule: VerifyRule; pc: number | undefined; errno: VerifyErrno };
}

export const CORPUS_DIR = new URL('../fixtures/conformance/', import.meta.url).pathname;

/** `repeat N line` expands to N copies of line. */
function expandRepeats(text: string): string {
  return text.replace(/^\s*repeat\s+(\d+)\s+(.*)$/gm, (_, n: string, line: string) => Array(Number(n)).fill(line).join('\n'));
}

/** A value as the corpus writes it: a number or an action, read as `ret` reads it. */
function value(text: string): number {
  return assemble(`ret ${text}`)[0]!.k;
}

function parseFile(file: string, text: string): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const lines = text.split('\n');
  let i = 0;
  function fail(line: number, message: string): never {
    throw new Error(`${file}:${line + 1}: ${message}`);
  }
  while (i < lines.length) {
    const header = /^=== (.+)$/.exec(lines[i]!);
    if (!header) {
      if (lines[i]!.trim() !== '' && !lines[i]!.startsWith('#')) fail(i, `expected "=== name", found "${lines[i]}"`);
      i++;
      continue;
    }
    const start = i++;
    const c = {
      name: header[1]!.trim(),
      where: `${file}:${start + 1}`,
      programs: [] as Instruction[][],
      records: [] as SeccompData[],
      expected: [] as number[],
    } as {
      -readonly [K in keyof ConformanceCase]: ConformanceCase[K];
    };
    while (i < lines.length && !lines[i]!.startsWith('=== ')) {
      const section = /^--- (program|records|expect|rejected)\s*$/.exec(lines[i]!);
      if (!section) fail(i, `expected a "--- section", found "${lines[i]}"`);
      const bodyStart = ++i;
      while (i < lines.length && !lines[i]!.startsWith('--- ') && !lines[i]!.startsWith('=== ')) i++;
      const body = lines.slice(bodyStart, i);
      const content = body.filter((l) => l.trim() !== '' && !l.startsWith('#'));
      switch (section[1]) {
        case 'program':
          try {
            c.programs.push(assemble(expandRepeats(body.join('\n'))));
          } catch (error) {
            fail(bodyStart, `program: ${(error as Error).message}`);
          }
          break;
        case 'records':
          for (const l of content) c.records.push(parseRecordJson(l, bodyStart + 1));
          break;
        case 'expect':
          for (const l of content) c.expected.push(value(l.trim()));
          break;
        case 'rejected': {
          const m = /^(\S+) pc (\d+|-) (EINVAL|EACCES|ENOMEM)$/.exec(content[0]?.trim() ?? '');
          if (!m || content.length !== 1) fail(bodyStart, 'expected "<rule> pc <n|-> <errno>"');
          c.rejected = { rule: m[1] as VerifyRule, pc: m[2] === '-' ? undefined : Number(m[2]), errno: m[3] as VerifyErrno };
        }
      }
    }
    if (c.programs.length === 0) fail(start, 'a case needs a program');
    if (!c.rejected && c.records.length !== c.expected.length) fail(start, `${c.records.length} records but ${c.expected.length} expected values`);
    if (!c.rejected && c.records.length === 0) fail(start, 'a case needs records and expected values, or a rejection');
    cases.push(c);
  }
  return cases;
}

/** Every case of the corpus, in file order. */
export function loadCorpus(dir = CORPUS_DIR): ConformanceCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cases'))
    .sort()
    .flatMap((f) => parseFile(f, readFileSync(join(dir, f), 'utf8')));
}
