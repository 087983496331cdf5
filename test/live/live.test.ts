/**
 * `cbpf ps` and `cbpf dump` on real processes: test/native/stacks.c installs
 * known stacks of filters and prints their raw bytes, which cbpf must give back
 * byte for byte, from a running process (dump PID) and from the start (dump --
 * COMMAND). Reading filters needs root (CAP_SYS_ADMIN), Linux on x86-64 and gcc:
 * without them the tests are skipped, saying why.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeRaw } from '../../src/codecs/raw.js';
import type { Instruction } from '../../src/instruction.js';
import { NativeUnavailable, nativeHelper } from '../../src/native.js';
import { packageRoot } from '../../src/package-root.js';
import { itWhenAvailable } from '../system-deps.js';

function liveReason(): string | undefined {
  try {
    nativeHelper('live');
  } catch (error) {
    if (error instanceof NativeUnavailable) return `the native helper cannot run: ${error.message}`;
    throw error;
  }
  if (process.getuid?.() !== 0) return 'reading filters needs root (CAP_SYS_ADMIN)';
  return undefined;
}

const liveMissing = liveReason();
const setprivMissing = liveMissing ?? (spawnSync('setpriv', ['--version']).error ? 'setpriv is not installed (util-linux)' : undefined);
for (const reason of new Set([liveMissing, setprivMissing])) if (reason) console.warn(`SKIPPING tests: ${reason}`);
const liveIt = (name: string, fn: () => unknown): void => itWhenAvailable(liveMissing, name, fn);

/** A stack as `cbpf dump --json` writes it (one line per process). */
interface Dumped {
  readonly pid: number;
  readonly command: string;
  readonly mode: string;
  readonly flags?: (number | null)[];
  readonly filters: Instruction[][];
}

const cli = join(packageRoot(), 'bin', 'cbpf.js');
const STACK_LINE = /^\s+at /m;
const ONE_LINE = /^cbpf: [^\n]+\n$/;
let dir = '';
let stacksBin = '';
/** The raw bytes (hex) of filters 1, 2, 3 as stacks.c prints them. */
let reference: string[] = [];
const started: number[] = [];

/** Runs the real cbpf (the built dist/), optionally as uid 65534, with `env` added to this process's. */
function cbpf(args: string[], { env = {}, nobody = false }: { env?: NodeJS.ProcessEnv; nobody?: boolean } = {}) {
  const argv = [process.execPath, cli, ...args];
  const [command, ...rest] = nobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv] : argv;
  return spawnSync(command!, rest, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
}

/** The `installed PID K HEX` lines of stacks.c: each process's filters in hex, oldest first. */
function installedBy(text: string): Map<number, string[]> {
  const byPid = new Map<number, string[]>();
  for (const [, pid, , hex] of text.matchAll(/^installed (\d+) (\d+) ([0-9a-f]+)$/gm)) {
    byPid.set(Number(pid), [...(byPid.get(Number(pid)) ?? []), hex!]);
  }
  return byPid;
}

const jsonLines = (stdout: string): Dumped[] =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Dumped);

/** Each filter of a dumped stack as little-endian raw bytes, in hex. */
const rawHex = (stack: Dumped): string[] => stack.filters.map((filter) => Buffer.from(encodeRaw(filter, 'le')).toString('hex'));

/** Starts `stacks MODE` and waits until each of its processes (2 in fork mode) is ready; all are killed after the test. */
async function startStacks(mode: string): Promise<{ pids: number[]; installed: Map<number, string[]> }> {
  const child = spawn(stacksBin, [mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child.pid!);
  let text = '';
  const pids: number[] = [];
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`stacks ${mode} exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      text += `${line}\n`;
      const ready = /^ready (\d+)$/.exec(line);
      if (ready) pids.push(Number(ready[1]));
      if (pids.length === (mode === 'fork' ? 2 : 1)) resolve();
    });
  });
  started.push(...pids);
  return { pids, installed: installedBy(text) };
}

/** A process without seccomp filters. */
function startPlain(): number {
  const pid = spawn('sleep', ['60'], { stdio: 'ignore' }).pid!;
  started.push(pid);
  return pid;
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
function withTempDir(prefix: string, fn: (path: string) => void): void {
  const path = mkdtempSync(join(tmpdir(), prefix));
  try {
    fn(path);
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

function killStarted(): void {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

beforeAll(() => {
  if (liveMissing) return;
  dir = mkdtempSync(join(tmpdir(), 'cbpf-live-'));
  stacksBin = join(dir, 'stacks');
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', stacksBin, join(packageRoot(), 'test', 'native', 'stacks.c')]);
  reference = [...installedBy(execFileSync(stacksBin, ['three', '--exit'], { encoding: 'utf8' })).values()][0]!;
});
afterEach(killStarted);
afterAll(() => {
  killStarted();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cbpf ps', () => {
  liveIt('lists a process running three filters, in text and as JSON lines, and leaves out a process without filters', async () => {
    const { pids } = await startStacks('three');
    const plain = startPlain();
    const text = cbpf(['ps']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^ *PID {2}MODE {4}FILTERS {2}COMMAND\n/);
    expect(text.stdout).toMatch(new RegExp(`^ *${pids[0]} {2}filter +3 {2}stacks$`, 'm'));
    expect(text.stdout).not.toMatch(new RegExp(`^ *${plain} `, 'm'));
    const json = jsonLines(cbpf(['ps', '--json']).stdout);
    expect(json.find((p) => p.pid === pids[0])).toEqual({ pid: pids[0], command: 'stacks', mode: 'filter', filters: 3 });
    expect(json.map((p) => p.pid)).not.toContain(plain);
  });
});

describe('cbpf dump PID gives back, byte for byte, the filters a running process holds, oldest first', () => {
  for (const { mode, count } of [
    { mode: 'two', count: 2 },
    { mode: 'three', count: 3 },
    { mode: 'tsync', count: 2 }, // the main thread's pid
  ]) {
    liveIt(`stacks ${mode}: ${count} filters`, async () => {
      const { pids, installed } = await startStacks(mode);
      const run = cbpf(['dump', String(pids[0]), '--json']);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const [stack, ...more] = jsonLines(run.stdout);
      expect(more).toEqual([]);
      expect(stack).toMatchObject({ pid: pids[0], command: 'stacks', mode: 'filter' });
      expect(stack!.flags).toBeUndefined();
      expect(rawHex(stack!)).toEqual(installed.get(pids[0]!));
      expect(rawHex(stack!)).toHaveLength(count);
    });
  }

  liveIt('stacks fork: the child holds 2 filters and the parent 1, both dumped in one call, one JSON line each', async () => {
    const { pids, installed } = await startStacks('fork');
    const [child, parent] = pids as [number, number];
    const run = cbpf(['dump', String(child), String(parent), '--json']);
    expect(run.status).toBe(0);
    const stacks = jsonLines(run.stdout);
    expect(stacks.map((s) => s.pid)).toEqual([child, parent]);
    expect(stacks.map(rawHex)).toEqual([installed.get(child), installed.get(parent)]);
    expect(stacks.map((s) => s.filters.length)).toEqual([2, 1]);
  });
});

describe('cbpf dump -- COMMAND captures, from the start, what the command installs and how', () => {
  for (const { mode, flags } of [
    { mode: 'two', flags: [[0, 0]] },
    { mode: 'three', flags: [[0, 0, 0]] },
    { mode: 'tsync', flags: [[1, 1]] }, // SECCOMP_FILTER_FLAG_TSYNC
    { mode: 'fork', flags: [[0], [null, 0]] }, // the parent first (it installed first); the child inherited filter 1
  ]) {
    liveIt(`stacks ${mode} --exit: ${flags.length} process(es), flags ${JSON.stringify(flags)}`, () => {
      const run = cbpf(['dump', '--json', '--', stacksBin, mode, '--exit']);
      expect(run.status).toBe(0);
      const n = flags.length;
      expect(run.stderr).toBe(`cbpf: ${stacksBin} exited with 0; ${n} process${n === 1 ? '' : 'es'} installed filters\n`);
      // The command's own output goes through: its `installed` lines are what to expect.
      const installed = installedBy(run.stdout);
      const stacks = jsonLines(run.stdout);
      expect(stacks.map((s) => s.flags)).toEqual(flags);
      expect(new Set(stacks.map((s) => s.pid))).toEqual(new Set(installed.keys()));
      for (const stack of stacks) expect(rawHex(stack)).toEqual(installed.get(stack.pid));
    });
  }

  liveIt('--first stops the command at its first filter: one filter, and stderr says it was stopped', () => {
    const run = cbpf(['dump', '--first', '--json', '--', stacksBin, 'three', '--exit']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(`cbpf: ${stacksBin} was stopped at its first filter; 1 process installed filters\n`);
    expect(run.stdout).not.toMatch(/^ready/m);
    const stacks = jsonLines(run.stdout);
    expect(stacks).toHaveLength(1);
    expect(stacks[0]!.flags).toEqual([0]);
    expect(rawHex(stacks[0]!)).toEqual([reference[0]]);
  });
});

describe('a dumped stack file is read by every command as the whole stack, with no conversion', () => {
  let stack = '';
  beforeAll(async () => {
    if (liveMissing) return;
    const { pids } = await startStacks('three');
    stack = join(dir, 'stack.json');
    const run = cbpf(['dump', String(pids[0]), '-o', stack]);
    killStarted();
    expect(run.status).toBe(0);
  });

  liveIt('eval decides records as the stack: the lowest action value of the filters wins (ERRNO(k) over ALLOW)', () => {
    const records = join(dir, 'trace.jsonl');
    writeFileSync(records, [1001, 1002, 1003, 1].map((nr) => `{"arch":"x86_64","nr":${nr}}\n`).join(''));
    const decisions = cbpf(['eval', stack, '--records', records]);
    expect(decisions.stdout).toBe('0x00050001\n0x00050002\n0x00050003\n0x7fff0000\n');
    const summary = cbpf(['eval', stack, '--records', records, '--summary']);
    expect(summary.status).toBe(0);
    for (const action of ['ERRNO(1)', 'ERRNO(2)', 'ERRNO(3)', 'ALLOW'])
      expect(summary.stdout).toMatch(new RegExp(`^ {2}${action.replace(/[()]/g, '\\$&')} +1 `, 'm'));
  });

  liveIt('emu --nr 1002 runs the three filters and decides ERRNO(2)', () => {
    const run = cbpf(['emu', stack, '--nr', '1002']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^ {2}=> 0x7fff0000 ALLOW \(filter 1, /m);
    expect(run.stdout).toMatch(/^ {2}=> 0x00050002 ERRNO\(2\) \(filter 2, /m);
    expect(run.stdout).toMatch(/^ {2}=> 0x7fff0000 ALLOW \(filter 3, /m);
    expect(run.stdout).toMatch(/^value: {2}0x00050002\naction: ERRNO\(2\)\n/m);
  });

  liveIt('info and disasm report each of the three filters', () => {
    const info = cbpf(['info', stack]);
    const disasm = cbpf(['disasm', stack]);
    expect([info.status, disasm.status]).toEqual([0, 0]);
    for (const k of [1, 2, 3]) {
      expect(info.stdout).toContain(`stack.json filter ${k} of 3:`);
      expect(info.stdout).toContain(`#${1000 + k}\nreturns: ERRNO(${k}) x1, ALLOW x1`);
      expect(disasm.stdout).toContain(`; filter ${k} of 3 (oldest first)\n0: ld [0]`);
      expect(disasm.stdout).toContain(`jeq #${1000 + k}, 2, 3`);
    }
  });

  liveIt('convert --to raw fails in one line for a stack of 3 filters, and writes the bytes of a stack of 1', () => {
    const three = cbpf(['convert', stack, '--to', 'raw']);
    expect(three.status).toBe(1);
    expect(three.stderr).toMatch(ONE_LINE);
    expect(three.stderr).toContain('a stack of 3 filters');
    const one = join(dir, 'one.json');
    expect(cbpf(['dump', '--first', '-o', one, '--', stacksBin, 'three', '--exit']).status).toBe(0);
    const raw = join(dir, 'one.bpf');
    expect(cbpf(['convert', one, '--to', 'raw', '-o', raw]).status).toBe(0);
    expect(readFileSync(raw).toString('hex')).toBe(reference[0]);
  });
});

describe('cbpf dump errors: one line on stderr, exit 1 (2 for usage), no stack trace', () => {
  const expectError = (run: ReturnType<typeof cbpf>, message: string | RegExp): void => {
    expect(run.stderr).toMatch(ONE_LINE);
    expect(run.stderr).toMatch(message);
    expect(run.status).toBe(1);
  };

  liveIt('a process that does not exist', () => expectError(cbpf(['dump', '999999']), 'cbpf: no process 999999\n'));

  liveIt('a process that runs no seccomp filter', () => {
    const pid = startPlain();
    expectError(cbpf(['dump', String(pid)]), `cbpf: process ${pid} (sleep) runs no seccomp filter (mode disabled)\n`);
  });

  itWhenAvailable(setprivMissing, 'no privilege: uid 65534 cannot read the filters of a root process', async () => {
    const { pids } = await startStacks('two');
    withTempDir('cbpf-live-native-', (native) => {
      chmodSync(native, 0o755); // for uid 65534 to run the helper root builds there first
      const env = { CBPF_NATIVE_DIR: native };
      expect(cbpf(['dump', String(pids[0]), '--json'], { env }).status).toBe(0);
      expectError(cbpf(['dump', String(pids[0])], { env, nobody: true }), /^cbpf: process \d+ \(stacks\): cannot attach .* needs CAP_SYS_ADMIN/);
    });
  });

  liveIt('no C compiler to build the helper', async () => {
    const { pids } = await startStacks('two');
    withTempDir('cbpf-live-empty-', (empty) => {
      // No helper built in CBPF_NATIVE_DIR, and no gcc on PATH (cbpf runs as process.execPath).
      const env = { CBPF_NATIVE_DIR: empty, PATH: empty };
      expectError(cbpf(['dump', String(pids[0])], { env }), 'cbpf: no C compiler (gcc) to build native/live.c\n');
    });
  });

  for (const args of [[], ['abc'], ['--first', '1']]) {
    it(`usage error, exit 2: dump ${args.join(' ') || '(nothing)'}`, () => {
      const run = cbpf(['dump', ...args]);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/^cbpf: dump/);
      expect(run.stderr).not.toMatch(STACK_LINE);
    });
  }
});
