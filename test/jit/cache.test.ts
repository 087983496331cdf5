import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { interpret } from '../../interp/interpret.js';
import { cachedModulePath, cachedModules, compileInWorker, compilerFingerprint, fingerprintFiles } from '../../jit/background.js';
import { moduleEngine } from '../../jit/instance.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import type { Instruction } from '../../src/instruction.js';
import { packageRoot } from '../../src/package-root.js';
import { verify } from '../../src/verifier.js';

const root = packageRoot();

/** `ret #errno(n)`: one filter per n, whose modules are all the same size. */
const returning = (n: number): Instruction[] => [{ code: 0x06, jt: 0, jf: 0, k: 0x50000 + n }]; // ret ERRNO(n)

/** A filter with a branch, so that its two byte orders decide differently. */
const branching: Instruction[] = [
  { code: 0x20, jt: 0, jf: 0, k: 0 }, // A = nr
  { code: 0x15, jt: 0, jf: 1, k: 2 }, // nr == open?
  { code: 0x06, jt: 0, jf: 0, k: 0x50001 }, // ret ERRNO(1)
  { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }, // ret ALLOW
];

/** The compiled build's files that the compile worker imports, directly or not (read from the import statements). */
function compileWorkerImports(): string[] {
  const reached = new Set<string>();
  const visit = (file: string): void => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const [, spec] of readFileSync(join(root, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      visit(relative(root, join(root, dirname(file), spec!)));
    }
  };
  visit('dist/jit/compile-worker.js');
  return [...reached].sort();
}

/** A copy of the compiled build (dist/src, dist/jit, package.json) in a folder of its own, sharing node_modules. */
function copyOfBuild(): string {
  const copy = mkdtempSync(join(tmpdir(), 'cbpf-build-'));
  for (const path of ['dist/src', 'dist/jit', 'package.json']) cpSync(join(root, path), join(copy, path), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

let cache: string;
const saved = { dir: process.env.CBPF_CACHE_DIR, cap: process.env.CBPF_CACHE_MAX_MIB };
const folders: string[] = [];
beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'cbpf-cache-'));
  folders.push(cache);
  process.env.CBPF_CACHE_DIR = cache;
});
afterEach(() => {
  for (const [name, value] of [
    ['CBPF_CACHE_DIR', saved.dir],
    ['CBPF_CACHE_MAX_MIB', saved.cap],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('the compiler fingerprint that keys the module cache', () => {
  it('covers every file the compile worker imports, and package.json', () => {
    const covered = fingerprintFiles(root);
    expect(compileWorkerImports().filter((file) => !covered.includes(file))).toEqual([]);
    expect(covered).toContain('package.json');
    expect(covered.filter((file) => file.startsWith('dist/src/cli/'))).toEqual([]);
  });

  it.each([
    { what: 'the actions and their precedence', file: 'dist/src/seccomp/actions.js', changes: true },
    { what: 'the syscall tables', file: 'dist/src/seccomp/syscall-tables.generated.js', changes: true },
    { what: 'the decision tables', file: 'dist/src/decision-table.js', changes: true },
    { what: 'the lowering to WebAssembly', file: 'dist/jit/lower.js', changes: true },
    { what: "cbpf's version or the Binaryen it pins", file: 'package.json', changes: true },
    { what: 'a file added to the core', file: 'dist/src/seccomp/new.js', changes: true },
    { what: 'the CLI, which no module is made of', file: 'dist/src/cli/eval.js', changes: false },
    { what: 'a declaration file, which no module is made of', file: 'dist/src/verifier.d.ts', changes: false },
  ])('a change to $what ($file) changes it: $changes', ({ file, changes }) => {
    const copy = copyOfBuild();
    folders.push(copy);
    const before = compilerFingerprint(copy);
    appendFileSync(join(copy, file), '\n// another build\n');
    expect(compilerFingerprint(copy) !== before).toBe(changes);
  });

  it('is the same for the same build in another folder', () => {
    const copy = copyOfBuild();
    folders.push(copy);
    expect(compilerFingerprint(copy)).toBe(compilerFingerprint(root));
  });
});

describe('the on-disk module cache', () => {
  it('never serves a module made by a different build of the compiler', () => {
    // Two builds as two processes sharing one cache: a copy of this build, then the
    // same copy with its actions changed (as a build whose precedence changed would be).
    const build = copyOfBuild();
    folders.push(build);
    // Run from a file in the copy, so that it imports the copy's modules.
    const script = join(build, 'run.mjs');
    writeFileSync(
      script,
      `
      import { cachedModules, compileInWorker } from './dist/jit/background.js';
      import { verify } from './dist/src/verifier.js';
      const filters = [verify(JSON.parse(process.argv[2]))];
      const cached = cachedModules(filters, ['le']) !== undefined;
      if (!cached) await compileInWorker(filters, ['le']);
      process.stdout.write(cached ? 'cached' : 'compiled');
    `,
    );
    const run = () => {
      const child = spawnSync(process.execPath, [script, JSON.stringify(branching)], { env: { ...process.env, CBPF_CACHE_DIR: cache }, encoding: 'utf8' });
      expect(child.stderr).toBe('');
      return child.stdout;
    };
    expect(run()).toBe('compiled');
    expect(run()).toBe('cached'); // the same build finds its module
    appendFileSync(join(build, 'dist/src/seccomp/actions.js'), '\n// another build\n');
    expect(run()).toBe('compiled');
    expect(readdirSync(cache)).toHaveLength(2);
  }, 60_000);

  it('deletes a cached file that is not the module its name promises, and the next compile replaces it', async () => {
    const filters = [verify(branching)];
    await compileInWorker(filters, ['le', 'be']);
    const path = cachedModulePath(filters, 'le')!;
    const good = readFileSync(path);
    const flipped = Uint8Array.from(good);
    flipped[good.length >> 1]! ^= 0x01;
    const cases = [
      { what: 'an empty file', bytes: new Uint8Array() },
      { what: 'a file cut short', bytes: good.subarray(0, good.length >> 1) },
      { what: 'a file with one bit changed', bytes: flipped },
      { what: 'bytes that are not WebAssembly', bytes: new TextEncoder().encode('not a module\n') },
      { what: "a valid module under another's name (the big-endian one)", bytes: readFileSync(cachedModulePath(filters, 'be')!) },
    ];
    for (const { what, bytes } of cases) {
      writeFileSync(path, bytes);
      expect(cachedModules(filters, ['le']), what).toBeUndefined();
      expect(existsSync(path), what).toBe(false);
    }
    await compileInWorker(filters, ['le']);
    const records = generateRecords(300, 'realistic', 5);
    const expected = Array.from({ length: 300 }, (_, i) => interpret(filters[0]!, records.subarray(i * 64, i * 64 + 64), 'le'));
    const decided = moduleEngine(cachedModules(filters, ['le'])!, 1).decide({ bytes: records, count: 300, bigEndian: new Uint8Array(300) });
    expect(Array.from(decided)).toEqual(expected);
  }, 60_000);

  it('stays under its cap, evicting the least recently used module', async () => {
    const first = [verify(returning(1))];
    await compileInWorker(first, ['le']);
    const size = statSync(cachedModulePath(first, 'le')!).size;
    process.env.CBPF_CACHE_MAX_MIB = String((2.5 * size) / 2 ** 20); // room for two modules
    const used: Instruction[][] = [returning(1)];
    for (let n = 2; n <= 6; n++) {
      if (n === 4) {
        await new Promise((resolve) => setTimeout(resolve, 5)); // a touch sets mtime to the millisecond: be past 3's write
        expect(cachedModules([verify(returning(2))], ['le'])).toBeDefined(); // used: now newer than 3
      }
      await compileInWorker([verify(returning(n))], ['le']);
      used.push(returning(n));
      const sizes = readdirSync(cache).map((name) => statSync(join(cache, name)).size);
      expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2.5 * size);
      expect(sizes).toHaveLength(2);
      if (n === 4) {
        expect(cachedModules([verify(returning(3))], ['le'])).toBeUndefined();
        expect(cachedModules([verify(returning(2))], ['le'])).toBeDefined();
      }
    }
    expect(used.map((program) => cachedModules([verify(program)], ['le']) !== undefined)).toEqual([false, false, false, false, true, true]);
  }, 120_000);
});
