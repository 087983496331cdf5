/**
 * The malformed-input fuzzer (`cbpf fuzz --target inputs`): runs the cases of
 * src/fuzz/malformed.ts through the whole CLI, in-process on in-memory files,
 * on worker threads watched for hangs and memory, and judges each run by the
 * promise cbpf makes for bad input: exit 0 or exit 1 with one short line on
 * standard error, never an exception (a stack trace in the real process), and
 * for a change that must not matter (CRLF), the same result as the clean input.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type InputCase, malformedInput } from '../fuzz/malformed.js';
import { packageRoot } from '../package-root.js';
import { main } from './main.js';
import { memoryIo } from './memory-io.js';

/** What one command run did. */
export interface CaseRun {
  readonly code: number | undefined;
  readonly stdout: Uint8Array;
  readonly stderr: string;
  /** The file the command wrote, if any ('out'). */
  readonly out: Uint8Array | undefined;
  /** What the command threw instead of returning an exit code: a stack trace in the real process. */
  readonly thrown?: string;
}

/**
 * An error line longer than this quotes too much of the input: a message
 * names the file, a position and a short excerpt.
 */
export const MAX_ERROR_LINE = 300;

/** Runs `argv` on `files` in memory. */
export async function runCase(argv: readonly string[], files: Readonly<Record<string, Uint8Array>>): Promise<CaseRun> {
  const { io, output } = memoryIo({ files, chunkBytes: 4096 });
  let code: number | undefined;
  let thrown: string | undefined;
  try {
    code = await main(argv, io);
  } catch (error) {
    thrown = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  const { stdoutBytes, stderr, files: written } = output();
  return { code, stdout: stdoutBytes, stderr, out: written.get('out'), ...(thrown === undefined ? {} : { thrown: thrown.slice(0, 200) }) };
}

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => (a === undefined || b === undefined ? a === b : Buffer.from(a).equals(b));

/**
 * What is wrong with `run` by cbpf's promise for bad input; undefined when
 * nothing is. `same`: a run it must equal, such as the run on the clean input.
 */
export function judgeRun(run: CaseRun, same?: CaseRun, sameName = 'the clean input'): string | undefined {
  if (run.thrown !== undefined) return `the command threw (a stack trace in the process): ${run.thrown}`;
  if (/\n\s+at /.test(run.stderr)) return 'standard error holds a stack trace';
  if (run.code !== 0 && run.code !== 1) return `exit ${run.code}, where a bad input exits 1`;
  const lines = run.stderr.split('\n').slice(0, -1);
  if (run.stderr !== '' && !run.stderr.endsWith('\n')) return 'standard error does not end its line';
  if (lines.some((line) => !line.startsWith('cbpf: ')))
    return `a line on standard error is not cbpf's: ${JSON.stringify(lines.find((l) => !l.startsWith('cbpf: '))!.slice(0, 80))}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the check is for control characters in error lines
  if (lines.some((line) => /[\0-\x1f\x7f\u2028\u2029]/.test(line))) return 'an error line holds a control character or line separator';
  if (lines.some((line) => line.length > MAX_ERROR_LINE))
    return `an error line is ${Math.max(...lines.map((l) => l.length))} characters long (at most ${MAX_ERROR_LINE})`;
  if (run.code === 1 && lines.length !== 1) return `exit 1 with ${lines.length} lines on standard error, where bad input is one`;
  if (same) {
    if (run.code !== same.code)
      return `exit ${run.code}, where ${sameName} exits ${same.code}${same.code === 1 ? ` (${same.stderr.trim()})` : ''}${run.code === 1 ? ` (${run.stderr.trim()})` : ''}`;
    if (!sameBytes(run.stdout, same.stdout)) return `standard output differs from ${sameName}'s`;
    if (!sameBytes(run.out, same.out)) return `the file written differs from ${sameName}'s`;
  }
  return undefined;
}

/**
 * Runs `argv` as the real `cbpf` process in a folder holding `files`: what
 * only a process shows (Node's warnings, an unhandled rejection, the exit
 * code as the shell sees it) shows here.
 */
export function runProcess(argv: readonly string[], files: Readonly<Record<string, Uint8Array>>): CaseRun {
  const folder = mkdtempSync(join(tmpdir(), 'cbpf-inputs-'));
  try {
    for (const [path, bytes] of Object.entries(files)) writeFileSync(join(folder, path), bytes);
    const child = spawnSync(process.execPath, [join(packageRoot(), 'bin', 'cbpf.js'), ...argv], {
      cwd: folder,
      timeout: HANG_SECONDS * 1000,
      maxBuffer: 256 << 20,
      env: { ...process.env, CBPF_CACHE_DIR: 'off' },
    });
    const thrown = child.error ? `${child.error.message}` : child.signal ? `killed by ${child.signal}` : undefined;
    const out = existsSync(join(folder, 'out')) ? new Uint8Array(readFileSync(join(folder, 'out'))) : undefined;
    return {
      code: child.status ?? undefined,
      stdout: new Uint8Array(child.stdout),
      stderr: child.stderr.toString(),
      out,
      ...(thrown === undefined ? {} : { thrown }),
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** One case in this many also runs as a real process, whose result must equal the in-process run's. */
export const PROCESS_EVERY = 500;

/** Runs case `i` of `seed` and judges it; every PROCESS_EVERY-th also as a real process. */
export async function checkCase(seed: number, i: number): Promise<{ readonly case: InputCase; readonly problem?: string; readonly rejected: boolean }> {
  const input = malformedInput(seed, i);
  const run = await runCase(input.argv, input.files);
  const clean = input.clean ? await runCase(input.argv, input.clean) : undefined;
  let problem = judgeRun(run, clean);
  if (problem === undefined && i % PROCESS_EVERY === 0) {
    const processProblem = judgeRun(runProcess(input.argv, input.files), run, 'the in-process run');
    if (processProblem !== undefined) problem = `as a process: ${processProblem}`;
  }
  return { case: input, rejected: run.code === 1, ...(problem === undefined ? {} : { problem }) };
}

/** A case that broke the promise. */
export interface InputFailure {
  readonly seed: number;
  readonly index: number;
  readonly problem: string;
  /** The case, regenerated from seed and index (undefined when making it is what failed). */
  readonly case?: InputCase;
}

/** What a run of the malformed-input fuzzer did. */
export interface InputFuzzReport {
  readonly seed: number;
  /** Cases judged. */
  readonly cases: number;
  /** Of those, the ones the command refused with one line and exit 1. */
  readonly rejected: number;
  readonly failure?: InputFailure;
}

/** A case that takes longer than this has hung: the largest inputs take well under a second. */
const HANG_SECONDS = 30;
/** Heap for a worker thread: far above what any case needs, so reaching it means unbounded memory. */
const WORKER_HEAP_MB = 768;
/** Cases a worker is given at a time. */
const CHUNK = 100;

/** Messages from fuzz-inputs-worker.ts. */
export type InputWorkerMessage =
  | { readonly kind: 'started'; readonly index: number }
  | { readonly kind: 'done'; readonly cases: number; readonly rejected: number }
  | { readonly kind: 'failure'; readonly index: number; readonly problem: string };

/**
 * Runs cases 0, 1, 2, ... of `seed` on `threads` worker threads until the
 * budget is spent or a case fails; the failure with the lowest index is
 * reported, with its case.
 */
export function runInputFuzz(
  seed: number,
  budget: { readonly runs: number } | { readonly seconds: number },
  threads: number,
  onProgress?: (cases: number, elapsed: number) => void,
): Promise<InputFuzzReport> {
  const script = join(packageRoot(), 'dist', 'src', 'cli', 'fuzz-inputs-worker.js');
  const started = performance.now();
  const limit = 'runs' in budget ? budget.runs : Infinity;
  const deadline = 'seconds' in budget ? started + budget.seconds * 1000 : Infinity;
  let next = 0;
  let cases = 0;
  let rejected = 0;
  let failure: InputFailure | undefined;
  const fail = (index: number, problem: string) => {
    if (!failure || index < failure.index) failure = { seed, index, problem };
  };
  const runWorker = (): Promise<void> =>
    new Promise((resolve) => {
      const worker = new Worker(script, {
        workerData: { seed },
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
        env: { ...process.env, CBPF_CACHE_DIR: 'off' },
      });
      let current: { index: number; since: number } | undefined;
      const give = () => {
        if (failure || next >= limit || performance.now() > deadline) return void worker.terminate();
        const from = next;
        next = Math.min(limit, next + CHUNK);
        worker.postMessage({ from, to: next });
      };
      const watchdog = setInterval(() => {
        if (current && performance.now() - current.since > HANG_SECONDS * 1000) {
          fail(current.index, `no answer after ${HANG_SECONDS} s (a hang)`);
          void worker.terminate();
        }
        if (onProgress) onProgress(cases, (performance.now() - started) / 1000);
      }, 1000);
      worker.on('message', (message: InputWorkerMessage) => {
        if (message.kind === 'started') current = { index: message.index, since: performance.now() };
        else if (message.kind === 'failure') fail(message.index, message.problem);
        else {
          cases += message.cases;
          rejected += message.rejected;
          current = undefined;
          give();
        }
      });
      worker.on('error', (error: Error & { code?: string }) => {
        const what =
          error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `more than ${WORKER_HEAP_MB} MiB of heap (unbounded memory)` : `the worker crashed: ${error.message}`;
        fail(current?.index ?? next, what);
      });
      worker.on('exit', () => {
        clearInterval(watchdog);
        resolve();
      });
      give();
    });
  return Promise.all(Array.from({ length: threads }, runWorker)).then(() => {
    const found = failure && { ...failure, case: safely(() => malformedInput(seed, failure!.index)) };
    return { seed, cases, rejected, ...(found ? { failure: found } : {}) };
  });
}

function safely<T>(make: () => T): T | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}
