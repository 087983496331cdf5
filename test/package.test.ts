/**
 * The package as a user gets it: packed, installed from the tarball into an
 * empty folder, and every command run from there, so that a file a command
 * needs but `files` leaves out fails here rather than for the user. It packs
 * the dist/ that `npm test` has just built. Installing needs the dependencies
 * from npm's cache or the registry; with neither, the tests are skipped with
 * the reason printed.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { nativeUnavailableReason } from '../bench/native.js';
import { mainHelp } from '../src/cli/args.js';
import { packageRoot } from '../src/package-root.js';
import { oracleMissing } from './system-deps.js';

/** npm's error codes for a registry it cannot reach (ENOTCACHED: --offline, and not in the cache). */
const NETWORK_ERROR =
  /\b(ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)\b/;
/** A line of a stack trace: never printed for anything a user can do. */
const STACK_LINE = /^\s+at /m;

/** Every command the installed cbpf has, from the top-level help. */
const COMMAND_NAMES = /\nCommands:\n([\s\S]*?)\n\n/
  .exec(mainHelp())![1]!
  .split('\n')
  .map((line) => line.trim().split(/\s+/)[0]!);

/** The npm process environment, without what `npm test` sets for this package (the child npm works in another folder). */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|INIT_CWD$)/i.test(name)));
}

const npm = (args: string[], cwd: string): SpawnSyncReturns<string> => spawnSync('npm', args, { cwd, encoding: 'utf8', env: npmEnv(), timeout: 150_000 });

/** A package in a package-lock.json: what this test reads of it, and the rest as it is. */
type LockedPackage = { readonly dependencies?: Readonly<Record<string, string>>; readonly [field: string]: unknown };

/**
 * The installing folder's package-lock.json: the tarball, and its
 * dependencies (with theirs) at the versions of the repository's lockfile.
 * `npm ci` installs from it with npm's cache alone, where `npm install
 * TARBALL` would ask the registry for the dependencies' full metadata, which
 * the repository's own `npm ci` does not cache.
 */
function installLockfile(root: string, tarball: string): object {
  const { packages: locked } = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockedPackage> };
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    license: string;
    bin: object;
    engines: object;
    dependencies: Record<string, string>;
  };
  const spec = `file:${tarball}`;
  const { version, license, bin, engines, dependencies } = manifest;
  const packages: Record<string, LockedPackage> = {
    '': { dependencies: { cbpf: spec } },
    'node_modules/cbpf': { version, resolved: spec, license, bin, engines, dependencies },
  };
  const add = (name: string): void => {
    const path = `node_modules/${name}`;
    if (packages[path]) return;
    if (!locked[path]) throw new Error(`${name}, a dependency of cbpf, is not in package-lock.json: run npm install`);
    const { dev: _dev, ...entry } = locked[path];
    packages[path] = entry;
    Object.keys(entry.dependencies ?? {}).forEach(add);
  };
  Object.keys(dependencies).forEach(add);
  return { lockfileVersion: 3, requires: true, packages };
}

/** Where the package was installed, or why it could not be. */
let work: string | undefined;
let app: string | undefined;
let skipped: string | undefined;

beforeAll(() => {
  const root = packageRoot();
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ is not built: run `npx tsc -p .` (npm test does)');
  work = mkdtempSync(join(tmpdir(), 'cbpf-package-'));
  app = join(work, 'app');
  mkdirSync(app);
  // dist/ is built already: the prepare script (tsc) would only build it again.
  const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', app], root);
  if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  const tarball = (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0]!.filename;
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ private: true, dependencies: { cbpf: `file:${tarball}` } })}\n`);
  writeFileSync(join(app, 'package-lock.json'), `${JSON.stringify(installLockfile(root, tarball), null, 2)}\n`);
  // The dependencies were installed by `npm ci` moments before: take them from npm's cache where it has them.
  const install = npm(['ci', '--prefer-offline', '--no-audit', '--no-fund', '--fetch-retries=0', '--fetch-timeout=30000'], app);
  if (install.status === 0) return;
  const offline = NETWORK_ERROR.exec(`${install.stdout}\n${install.stderr}`)?.[1];
  if (!offline) throw new Error(`installing the packed tarball failed:\n${install.stderr}`);
  skipped = `installing the packed package needs its dependencies, which are neither in npm's cache nor reachable (${offline})`;
  console.warn(`SKIPPING tests: ${skipped}`);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Skips the test (saying why) when the package could not be installed. */
function needsInstall(context: TestContext): string {
  if (skipped !== undefined) context.skip(skipped);
  return app!;
}

/** Runs the installed `cbpf` in the app folder, as a user would, with its module cache in the test's folder. */
function cbpf(args: readonly string[]): SpawnSyncReturns<string> {
  const bin = join(app!, 'node_modules', '.bin', 'cbpf');
  return spawnSync(bin, args, { cwd: app, encoding: 'utf8', env: { ...process.env, CBPF_CACHE_DIR: join(work!, 'cache') }, timeout: 150_000 });
}

/** A sample filter as the package ships it. */
const sample = (name: string): string => join('node_modules', 'cbpf', 'bench', 'samples', `${name}.bpf`);

describe('the packed package, installed into an empty folder', () => {
  it('ships every module its code imports, and imports nothing but Node and its dependencies', (context) => {
    const installed = join(needsInstall(context), 'node_modules', 'cbpf');
    const { dependencies } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
    const problems: string[] = [];
    for (const file of files(installed).filter((f) => f.endsWith('.js'))) {
      const source = readFileSync(file, 'utf8');
      for (const [, specifier] of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) {
        const where = `${relative(installed, file)} imports '${specifier}'`;
        if (specifier!.startsWith('.')) {
          if (!existsSync(resolve(dirname(file), specifier!))) problems.push(`${where}, which the package does not ship`);
        } else if (!specifier!.startsWith('node:') && !builtinModules.includes(specifier!) && !Object.hasOwn(dependencies, specifier!.split('/')[0]!)) {
          problems.push(`${where}, which is not one of its dependencies`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it.for(COMMAND_NAMES)('runs cbpf %s --help', (name, context) => {
    needsInstall(context);
    const run = cbpf([name, '--help']);
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Usage: cbpf ${name}`);
  });

  // In order: eval reads the trace that records writes.
  it.for(
    [
      { does: 'gives its version', args: ['--version'], stdout: /^cbpf \d+\.\d+\.\d+\n$/ },
      { does: 'makes a sample trace', args: ['records', '--generate', '1000', '-o', 't.bin'], stdout: /^$/ },
      { does: 'decides the trace', args: ['eval', sample('docker-linear'), '--records', 't.bin', '--summary'], stdout: /^records: 1000\n/ },
      {
        does: "decides the trace with Docker's shipped profile",
        args: ['eval', join('node_modules', 'cbpf', 'profiles', 'docker-20.10.24.json'), '--records', 't.bin', '--summary'],
        stdout: /^records: 1000\n/,
      },
      {
        does: "reports how containers-common's shipped profile resolves for podman",
        args: ['info', join('node_modules', 'cbpf', 'profiles', 'containers-common-0.50.1.json'), '--container-engine', 'podman', '--kernel', '6.18'],
        stdout:
          /^node_modules\/cbpf\/profiles\/containers-common-0\.50\.1\.json: a profile, resolved by podman for runc, host x86_64, kernel 6\.18, 11 capabilities\n/,
      },
      { does: 'costs the trace', args: ['cost', sample('docker-linear'), '--records', 't.bin'], stdout: /^trace: 1000 records\n/ },
      { does: 'lists filtered processes', args: ['ps'], stdout: /^ *PID {2}MODE {4}FILTERS {2}COMMAND\n/ },
      { does: 'compiles a filter', args: ['compile', sample('allowlist-small'), '-o', 'f.wasm'], stdout: /^$/ },
      { does: 'disassembles a filter', args: ['disasm', sample('allowlist-small')], stdout: /ret #0x7fff0000/ },
      { does: 'summarizes a filter', args: ['info', sample('multiarch'), '--json'], stdout: /"instructions":74/ },
      { does: 'verifies a filter', args: ['verify', sample('docker-tree')], stdout: /: ok\n$/ },
      { does: 'runs one syscall', args: ['emu', sample('allowlist-small'), '--nr', 'ptrace'], stdout: /action: KILL_PROCESS/ },
      { does: 'fuzzes the codecs', args: ['fuzz', '--runs', '20', '--seed', '1', '--target', 'codec'], stdout: /0 mismatches/, stderr: /^cbpf fuzz: seed 1, / },
    ].map((step) => ({ ...step, line: step.args.join(' ') })),
  )('$does: cbpf $line', ({ args, stdout, stderr = /^$/ }, context) => {
    const folder = needsInstall(context);
    const run = cbpf(args);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(STACK_LINE);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(stdout);
    expect(run.stderr).toMatch(stderr);
    if (args[0] === 'records') expect(statSync(join(folder, 't.bin')).size).toBe(64_000);
    if (args[0] === 'compile') expect(() => new WebAssembly.Module(readFileSync(join(folder, 'f.wasm')))).not.toThrow();
  });

  it("runs the README's Library example, printing what the README shows", { timeout: 60_000 }, (context) => {
    const folder = needsInstall(context);
    const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
    const [, code, shown] = /\n## Library\n[\s\S]*?```js\n([\s\S]*?)```\n\n```text\n([\s\S]*?)```/.exec(readme) ?? [];
    expect(code, 'a js block and its output in the README').toBeDefined();
    writeFileSync(join(folder, 'example.mjs'), code!);
    writeFileSync(join(folder, 'docker-linear.bpf'), readFileSync(join(folder, sample('docker-linear'))));
    expect(cbpf(['records', '--generate', '1000000', '-o', 'trace.bin']).status).toBe(0);
    const run = spawnSync(process.execPath, ['example.mjs'], { cwd: folder, encoding: 'utf8', env: { ...process.env, CBPF_CACHE_DIR: join(work!, 'cache') } });
    expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toEqual({ status: 0, stderr: '', stdout: shown });
  });

  it.for(
    [
      {
        does: 'a trace without a count',
        args: ['records', '-o', 'x.bin'],
        status: 2,
        stderr: /^cbpf: records needs --generate N\nTry 'cbpf records --help'.\n$/,
      },
      {
        does: 'a trace into a missing folder',
        args: ['records', '--generate', '10', '-o', 'missing/x.bin'],
        status: 1,
        stderr: /^cbpf: missing\/x.bin: no such file\n$/,
      },
      {
        does: 'a filter the bench does not have',
        args: ['bench', '--quick', '--filter', 'nope'],
        status: 2,
        stderr: /^cbpf: --filter: unknown filter nope \(one of allowlist-small, .*\)\nTry 'cbpf bench --help'.\n$/,
      },
    ].map((step) => ({ ...step, line: step.args.join(' ') })),
  )('refuses $does in one line: cbpf $line', ({ args, status, stderr }, context) => {
    needsInstall(context);
    const run = cbpf(args);
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status, stdout: '', stderr: expect.stringMatching(stderr) });
  });

  it(`checks a filter against the live kernel, building the shipped native/oracle.c${oracleMissing ? `, or says in one line why it cannot (${oracleMissing})` : ''}`, (context) => {
    needsInstall(context);
    const run = cbpf(['kernel-check', sample('allowlist-small'), '--count', '100', '--engine', 'interp']);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(STACK_LINE);
    if (oracleMissing === undefined)
      expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 0, stdout: expect.stringContaining(' 0 mismatches') });
    else expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(/^cbpf: [^\n]+\n$/) });
  });

  const gccMissing = nativeUnavailableReason('gcc -O2');
  it(`benchmarks one filter, building gcc -O2 from the shipped harness${gccMissing ? `, or saying why it cannot (${gccMissing})` : ''}`, {
    timeout: 150_000,
  }, (context) => {
    needsInstall(context);
    const run = cbpf(['bench', '--quick', '--filter', 'allowlist-small']);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(STACK_LINE);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('allowlist-small (20 instructions), realistic mix');
    expect(run.stdout).toMatch(gccMissing ? `  gcc -O2        unavailable: ${gccMissing}` : /^ {2}gcc -O2 +\d/m);
  });
});
