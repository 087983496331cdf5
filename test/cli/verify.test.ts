import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { MAX_FILTER_BYTES } from '../../src/codecs/formats.js';
import { packageRoot } from '../../src/package-root.js';
import { runCli } from '../helpers.js';

const [first, second] = SAMPLE_FILTERS.map((s) => s.path);
const throughAFile = join(packageRoot(), 'package.json', 'filter.bpf');

/**
 * A set of files to verify, in the order given: each with its contents (in
 * memory; undefined: as it is on disk, or missing), its line of text output
 * and its `--json` object.
 */
const FILES: readonly { what: string; file: string; contents?: string | Uint8Array; line: string; verdict: object }[] = [
  { what: 'a valid filter', file: first!, line: `${first}: ok`, verdict: { valid: true, errno: null, code: null, pc: null, message: 'ok' } },
  {
    what: 'an empty file, a program of length 0, which the kernel refuses',
    file: 'empty.bpf',
    contents: '',
    line: 'empty.bpf: empty input: no instructions [EINVAL]',
    verdict: { valid: false, errno: 'EINVAL', code: 'empty-input', pc: null, message: 'empty input: no instructions [EINVAL]' },
  },
  {
    what: 'a text file of only comments, a program of length 0 too',
    file: 'comments.s',
    contents: '; nothing here\n',
    line: 'comments.s: empty input: no instructions [EINVAL]',
    verdict: { valid: false, errno: 'EINVAL', code: 'empty-input', pc: null, message: 'empty input: no instructions [EINVAL]' },
  },
  {
    what: 'a raw file that is not whole instructions',
    file: 'odd.bpf',
    contents: new Uint8Array(12),
    line: 'odd.bpf: raw input is 12 bytes, not a multiple of 8 (sizeof struct sock_filter): 4 trailing bytes',
    verdict: {
      valid: false,
      errno: null,
      code: 'raw-length',
      pc: null,
      message: 'raw input is 12 bytes, not a multiple of 8 (sizeof struct sock_filter): 4 trailing bytes',
    },
  },
  {
    what: 'a filter the verifier rejects',
    file: 'bad.s',
    contents: 'ld M[2]\nret a\n',
    line: 'bad.s: pc 0: M[2] may be read before it is written [EINVAL]',
    verdict: { valid: false, errno: 'EINVAL', code: 'uninitialized-scratch', pc: 0, message: 'pc 0: M[2] may be read before it is written [EINVAL]' },
  },
  {
    what: 'a file that does not exist',
    file: 'missing.bpf',
    line: 'missing.bpf: no such file',
    verdict: { valid: false, errno: null, code: 'ENOENT', pc: null, message: 'no such file' },
  },
  {
    what: 'a parse error, with its line and column',
    file: 'typo.s',
    contents: 'ld [0]\n  jeqq #1, a\na: ret #0\n',
    line: 'typo.s:2:3: unknown mnemonic "jeqq"',
    verdict: { valid: false, errno: null, code: 'unknown-mnemonic', pc: null, message: '2:3: unknown mnemonic "jeqq"' },
  },
  {
    what: 'a file larger than any filter',
    file: 'huge.bpf',
    contents: new Uint8Array(MAX_FILTER_BYTES + 1),
    line: 'huge.bpf: larger than 16 MiB, which no filter needs (a filter is at most 65,535 instructions)',
    verdict: {
      valid: false,
      errno: null,
      code: 'too-large',
      pc: null,
      message: 'larger than 16 MiB, which no filter needs (a filter is at most 65,535 instructions)',
    },
  },
  {
    what: 'a path through a regular file, which the system refuses',
    file: throughAFile,
    line: `${throughAFile}: not a directory`,
    verdict: { valid: false, errno: null, code: 'ENOTDIR', pc: null, message: 'not a directory' },
  },
  { what: 'another valid filter', file: second!, line: `${second}: ok`, verdict: { valid: true, errno: null, code: null, pc: null, message: 'ok' } },
];

const files = Object.fromEntries(FILES.filter((f) => f.contents !== undefined).map((f) => [f.file, f.contents!]));
const argv = FILES.map((f) => f.file);
const rejected = FILES.filter((f) => !(f.verdict as { valid: boolean }).valid).length;

describe('cbpf verify over files that cannot all be loaded', () => {
  it('reports every file in order, one line each, and exits 1 with the count rejected', async () => {
    const run = await runCli(['verify', ...argv], { files });
    expect(run.stdout.split('\n').slice(0, -1)).toEqual(FILES.map((f) => f.line));
    expect(run.stderr).toBe(`cbpf: ${rejected} of ${FILES.length} rejected\n`);
    expect(run.code).toBe(1);
  });

  it('--json prints one object per file, with the same keys for a file that could not be loaded', async () => {
    const run = await runCli(['verify', ...argv, '--json'], { files });
    const objects = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objects).toEqual(FILES.map((f) => ({ file: f.file, ...f.verdict })));
    for (const object of objects) expect(Object.keys(object)).toEqual(['file', 'valid', 'errno', 'code', 'pc', 'message']);
    expect(run.code).toBe(1);
  });

  it.each([
    { what: 'an empty file', file: 'empty.bpf', contents: '' },
    { what: 'a missing file', file: 'missing.bpf', contents: undefined },
  ])('--stack gives no stack verdict when $what is among the filters', async ({ file, contents }) => {
    const run = await runCli(['verify', first!, file, second!, '--stack'], { files: contents === undefined ? {} : { [file]: contents } });
    expect(
      run.stdout
        .split('\n')
        .slice(0, -1)
        .map((l) => l.split(':')[0]),
    ).toEqual([first, file, second]);
    expect(run.stderr).toBe('cbpf: 1 of 3 rejected\n');
    expect(run.code).toBe(1);
  });

  it('exits 0 when every file, and the stack, is accepted', async () => {
    const run = await runCli(['verify', first!, second!, '--stack']);
    expect(run.stdout).toBe(`${first}: ok\n${second}: ok\nstack of 2: ok\n`);
    expect(run.code).toBe(0);
  });
});
