import { describe, expect, it } from 'vitest';
import { type CaseRun, checkCase, judgeRun, MAX_ERROR_LINE } from '../../src/cli/fuzz-inputs.js';
import { malformedInput } from '../../src/fuzz/malformed.js';
import { runCli } from '../helpers.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const run = (over: Partial<CaseRun>): CaseRun => ({
  code: 1,
  stdout: new Uint8Array(),
  stderr: 'cbpf: f.s:1:1: unknown mnemonic "x"\n',
  out: undefined,
  ...over,
});

describe("the malformed-input fuzzer's judgement", () => {
  it.each([
    { what: 'a command that threw', run: run({ code: undefined, thrown: 'RangeError: Maximum call stack size exceeded' }), problem: /threw/ },
    { what: 'a stack trace on standard error', run: run({ stderr: 'cbpf: x\n    at parse (c.js:1:1)\n' }), problem: /stack trace/ },
    { what: 'exit 2 for a bad file', run: run({ code: 2 }), problem: /exit 2/ },
    { what: 'two lines for one bad input', run: run({ stderr: 'cbpf: f.ddd: starts with "-1\ncbpf: 6 0 0 0"\n' }), problem: /2 lines/ },
    { what: "a line that is not cbpf's", run: run({ stderr: 'cbpf: f.json: not valid JSON: Unexpected token\n  {"code"\n' }), problem: /not cbpf's/ },
    { what: 'a control character in the line', run: run({ stderr: 'cbpf: f.s: bad "\r"\n' }), problem: /control character/ },
    { what: 'an excerpt far too long', run: run({ stderr: `cbpf: f.s: bad "${'x'.repeat(MAX_ERROR_LINE)}"\n` }), problem: /characters long/ },
    { what: 'a line left unended', run: run({ stderr: 'cbpf: f.s: bad' }), problem: /does not end/ },
    {
      what: 'CRLF read differently from LF',
      run: run({ code: 0, stderr: '', stdout: bytes('0: ld [0]\n1: ret #0x7fff0000\n') }),
      clean: run({ code: 0, stderr: '', stdout: bytes('0: ld [0]\n1: jeq #257, 2, 3\n2: ret #0x7fff0000\n3: ret #0x50001\n') }),
      problem: /standard output differs/,
    },
    { what: 'CRLF refused where LF is not', run: run({}), clean: run({ code: 0, stderr: '' }), problem: /exit 1, where the clean input exits 0/ },
    {
      what: 'a different file written',
      run: run({ code: 0, stderr: '', out: bytes('a') }),
      clean: run({ code: 0, stderr: '', out: bytes('b') }),
      problem: /file written differs/,
    },
  ])('finds $what', ({ run, clean, problem }) => {
    expect(judgeRun(run, clean)).toMatch(problem);
  });

  it.each([
    { what: 'one error line and exit 1', run: run({}) },
    { what: 'a result and exit 0', run: run({ code: 0, stderr: '', stdout: bytes('ok\n') }) },
    { what: "exit 0 with cbpf's notes", run: run({ code: 0, stderr: 'cbpf: skipped 2 bad records (the first: t.jsonl:3: not JSON)\n' }) },
    { what: 'CRLF read as LF', run: run({ code: 0, stderr: '', stdout: bytes('x') }), clean: run({ code: 0, stderr: '', stdout: bytes('x') }) },
  ])('accepts $what', ({ run, clean }) => {
    expect(judgeRun(run, clean)).toBeUndefined();
  });
});

describe('malformed inputs', () => {
  it('are the same case for the same seed and index, and differ between indices', () => {
    expect(malformedInput(3, 17)).toEqual(malformedInput(3, 17));
    expect(malformedInput(3, 17)).not.toEqual(malformedInput(3, 18));
  });

  it('cover every parser, and CRLF forms to compare', () => {
    const cases = Array.from({ length: 400 }, (_, i) => malformedInput(1, i));
    const described = cases.map((c) => c.description).join('\n');
    for (const format of ['raw', 'raw-be', 'c', 'ddd', 'asm', 'json', 'bin', 'bin-be', 'jsonl', 'strace']) expect(described).toContain(`as ${format},`);
    expect(cases.filter((c) => c.clean !== undefined).length).toBeGreaterThan(20);
  });

  // A bounded run of the long one (`cbpf fuzz --target inputs`), on fixed cases so that a failure here replays.
  it('every command keeps its promise on 1,500 of them', async () => {
    const seed = 20261201;
    const problems: string[] = [];
    for (let i = 0; i < 1500 && problems.length < 5; i++) {
      const result = await checkCase(seed, i);
      if (result.problem) problems.push(`case ${i} (${result.case.description.slice(0, 120)}; cbpf ${result.case.argv.join(' ')}): ${result.problem}`);
    }
    expect(problems, `replay: cbpf fuzz --target inputs --seed ${seed} --runs N`).toEqual([]);
  });

  it('`cbpf fuzz --target inputs` runs cases on worker threads and reports them', async () => {
    const result = await runCli(['fuzz', '--target', 'inputs', '--runs', '150', '--seed', '9']);
    expect(result.stdout).toMatch(/^inputs +150 cases +\d+ rejected {2}0 failures\n$/);
    expect(result.code).toBe(0);
  });
});
