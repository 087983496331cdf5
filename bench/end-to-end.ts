/**
 * The end-to-end rows of `cbpf bench`: `cbpf eval --summary` as a user runs
 * it (a fresh node process, a record file on disk, bench/eval-child.ts)
 * against what a C programmer would write for the same job
 * (bench/native/end-to-end.c), per filter, on the same files, each run's
 * counts checked against the interpreter's. The figure is the cost of a
 * record at the margin, (t(big) - t(small)) / (big - small records), in which
 * start-up cancels; cbpf's t is evaluate()'s own timing (without node's
 * start-up and module loading), C's its own clock.
 *
 * cbpf runs twice per file: with its compiled module in the on-disk cache (a
 * private cache folder, warmed by one run first) and with the cache off, as
 * on a filter's first run. A full run adds a workers section on
 * docker-linear: the default worker threads against one thread, and the
 * scaling from one thread to two against the machine's (C that only reads).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEngine } from '../eval/engines.js';
import { actionOf } from '../eval/summary.js';
import { encodeRaw } from '../src/codecs/raw.js';
import { generateRecords } from '../src/fuzz/traces.js';
import { packageRoot } from '../src/package-root.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import type { VerifiedProgram } from '../src/verifier.js';
import type { EvalChildResult } from './eval-child.js';
import { buildEndToEnd, type EndToEndProgram } from './native.js';

/** The filters with end-to-end rows (names of the bench's filters): the Docker-like policy in both shapes, and one that reads arguments. */
export const END_TO_END_FILTERS: readonly string[] = ['docker-linear', 'docker-tree', 'argument-heavy'];
/** The filter of the workers section. */
const WORKERS_FILTER = 'docker-linear';

/** A full run's two files: 64 MB and 512 MiB. */
const FULL_RECORDS = [1_000_000, 8_388_608] as const;
/**
 * `--quick`'s two files, 16 MB and 128 MiB: the smallest pair whose ratios
 * moved between quick runs on this shared machine about as little as larger
 * files' (a full run's included); with 100,000 and 1,000,000 records, some
 * 50 ms apart, they moved about twice as much.
 */
const QUICK_RECORDS = [250_000, 2_097_152] as const;
/** The workers section's largest file: 1 GiB. */
const GIB_RECORDS = 16_777_216;
/** Records the interpreter decides at a time, for the reference counts. */
const REFERENCE_BATCH = 65_536;

export const END_TO_END_COMPETITORS = ['cbpf cached', 'cbpf uncached', 'C'] as const;
/** One of END_TO_END_COMPETITORS. */
export type EndToEndName = (typeof END_TO_END_COMPETITORS)[number];

/** Records by decision, by action name (`actionOf`: the name and its data, or the value in hex). */
export type ActionCounts = Readonly<Record<string, number>>;

/** One competitor's end-to-end figures on one filter, or why it did not run. */
export interface EndToEndFigure {
  readonly name: EndToEndName;
  /** ns per record at the margin: the median of the rounds' figures, and the fastest and slowest. */
  readonly nsPerRecord?: number;
  readonly spread?: readonly [number, number];
  /** The median seconds on the small file and on the big one. */
  readonly seconds?: readonly [number, number];
  readonly unavailable?: string;
}

export interface EndToEndResult {
  readonly filter: string;
  readonly instructions: number;
  readonly competitors: EndToEndFigure[];
  /** C's ns per record over cbpf's, cached and uncached: above 1, cbpf is faster. */
  readonly ratios: Partial<Record<'cbpf cached' | 'cbpf uncached', number>>;
}

/** One file of the workers section: the whole run's seconds (median, and the fastest and slowest round), default worker threads against one thread. */
export interface WorkersRow {
  readonly records: number;
  readonly defaultSeconds: number;
  readonly defaultSpread: readonly [number, number];
  /** The most threads a default run decided on (the main thread and its workers). */
  readonly defaultThreads: number;
  readonly oneSeconds: number;
  readonly oneSpread: readonly [number, number];
  /** Whether the default's median is slower than one thread's slowest round: slower beyond the run-to-run spread. */
  readonly defaultSlower: boolean;
}

/** Scaling from one thread to two on the largest file: time on one over time on two, for C that only reads and for cbpf. */
export interface ScalingResult {
  readonly records: number;
  readonly ceiling: { readonly oneSeconds: number; readonly twoSeconds: number; readonly scaling: number } | { readonly unavailable: string };
  readonly cbpf: { readonly oneSeconds: number; readonly twoSeconds: number; readonly scaling: number };
  /** cbpf's scaling over the ceiling's (the target is at least 0.9). */
  readonly ofCeiling?: number;
}

export interface WorkersResult {
  readonly filter: string;
  readonly rounds: number;
  readonly rows: WorkersRow[];
  readonly scaling: ScalingResult;
}

/** The end-to-end section of a report. */
export interface EndToEndReport {
  /** The small and the big file's records. */
  readonly records: readonly [number, number];
  readonly rounds: number;
  readonly filters: EndToEndResult[];
  /** Full runs that measure docker-linear only. */
  readonly workers?: WorkersResult;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** The fastest and the slowest of some rounds' figures. */
const spreadOf = (xs: readonly number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

/** `values` (decision value, records) as counts by action name. */
export function countsByAction(values: Iterable<readonly [number, number]>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [value, n] of values) counts[actionOf(value)] = (counts[actionOf(value)] ?? 0) + n;
  return counts;
}

/** Throws, as the bench's check() does, when `name`'s counts on `file` differ from the interpreter's. */
export function checkCounts(name: string, file: string, counted: ActionCounts, expected: ActionCounts): void {
  for (const action of new Set([...Object.keys(expected), ...Object.keys(counted)])) {
    if ((counted[action] ?? 0) !== (expected[action] ?? 0)) {
      throw new Error(`${name} counted ${counted[action] ?? 0} records of ${file} as ${action}, the interpreter ${expected[action] ?? 0}`);
    }
  }
}

/** The interpreter's counts on the first `sizes[i]` records of `records`, for each i (`sizes` ascending). */
export async function referenceCounts(program: VerifiedProgram, records: Uint8Array, sizes: readonly number[]): Promise<ActionCounts[]> {
  const interpreter = (await loadEngine('interp'))([program]);
  const byValue = new Map<number, number>();
  const counts: ActionCounts[] = [];
  let at = 0;
  for (const size of sizes) {
    for (; at < size; ) {
      const count = Math.min(REFERENCE_BATCH, size - at);
      const bytes = records.subarray(at * SECCOMP_DATA_SIZE, (at + count) * SECCOMP_DATA_SIZE);
      for (const value of interpreter.decide({ bytes, count, bigEndian: new Uint8Array(count) }).subarray(0, count)) {
        byValue.set(value, (byValue.get(value) ?? 0) + 1);
      }
      at += count;
    }
    counts.push(countsByAction(byValue));
  }
  return counts;
}

/** How a cbpf child runs: its cache folder ('off': none), worker threads (undefined: the default) and engine. */
interface ChildSettings {
  readonly cache: string;
  readonly workers?: number;
  readonly engine?: 'auto' | 'jit';
}

/** `cbpf eval --summary` of `recordsPath` through the filter in `filterPath`, in a fresh node process (bench/eval-child.ts). */
export function runEvalChild(filterPath: string, recordsPath: string, settings: ChildSettings): EvalChildResult {
  const script = join(packageRoot(), 'dist', 'bench', 'eval-child.js');
  const args = [script, filterPath, recordsPath, String(settings.workers ?? 'default'), settings.engine ?? 'auto'];
  let out: string;
  try {
    out = execFileSync(process.execPath, args, {
      env: { ...process.env, CBPF_CACHE_DIR: settings.cache },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`cbpf eval --summary in a child process failed: ${stderr || (error as Error).message}`);
  }
  return JSON.parse(out) as EvalChildResult;
}

/** One record file of the run. */
interface RecordFile {
  readonly path: string;
  readonly records: number;
  /** The interpreter's counts on it, by filter name. */
  readonly expected: Map<string, ActionCounts>;
}

/** A competitor as the rounds run it: the seconds of one run on `file`, its counts checked. */
interface Timed {
  readonly name: EndToEndName;
  run(file: RecordFile): number;
}

interface EndToEndOptions {
  readonly quick: boolean;
  readonly say: (line: string) => void;
}

/**
 * The end-to-end rows of `filters` (those of END_TO_END_FILTERS; none: an
 * empty section), and in a full run with docker-linear, the workers section.
 * Its records, filters and cache live in a temporary folder removed at the
 * end, whatever happens.
 */
export async function benchEndToEnd(
  filters: ReadonlyArray<{ readonly name: string; readonly program: VerifiedProgram }>,
  options: EndToEndOptions,
): Promise<EndToEndReport> {
  const [small, big] = options.quick ? QUICK_RECORDS : FULL_RECORDS;
  const rounds = options.quick ? 3 : 5;
  const chosen = filters.filter((f) => END_TO_END_FILTERS.includes(f.name));
  const report = { records: [small, big] as const, rounds, filters: [] as EndToEndResult[] };
  if (chosen.length === 0) return report;
  const withWorkers = !options.quick && chosen.some((f) => f.name === WORKERS_FILTER);
  const dir = mkdtempSync(join(tmpdir(), 'cbpf-bench-end-to-end-'));
  try {
    const files = await writeRecordFiles(dir, withWorkers ? [small, big, GIB_RECORDS] : [small, big], chosen, options.say);
    const cache = join(dir, 'cache');
    mkdirSync(cache);
    for (const filter of chosen) report.filters.push(benchFilterEndToEnd(filter, files, dir, cache, rounds, options.say));
    if (!withWorkers) return report;
    return { ...report, workers: benchWorkers(join(dir, `${WORKERS_FILTER}.bpf`), files, cache, rounds, options.say) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The realistic records of the run, generated once: each file is a prefix of
 * the largest (a shorter generation is a prefix of a longer one), with the
 * interpreter's counts for every filter. The records are let go once written.
 */
async function writeRecordFiles(
  dir: string,
  sizes: readonly number[],
  filters: ReadonlyArray<{ readonly name: string; readonly program: VerifiedProgram }>,
  say: (line: string) => void,
): Promise<RecordFile[]> {
  const largest = sizes.at(-1)!;
  say(`end-to-end: generating ${largest} records`);
  const records = generateRecords(largest, 'realistic', 7);
  const files = sizes.map((records) => ({ path: join(dir, `records-${records}.bin`), records, expected: new Map<string, ActionCounts>() }));
  for (const { name, program } of filters) {
    say(`end-to-end: ${name}: the interpreter's counts`);
    // Only docker-linear runs on the workers section's largest file.
    const own = name === WORKERS_FILTER ? files : files.slice(0, 2);
    const counts = await referenceCounts(
      program,
      records,
      own.map((f) => f.records),
    );
    own.forEach((file, i) => void file.expected.set(name, counts[i]!));
  }
  for (const file of files) writeFileSync(file.path, records.subarray(0, file.records * SECCOMP_DATA_SIZE));
  return files;
}

/** A record file as messages name it (its path is gone by the time they are read). */
const describeFile = (file: RecordFile, filter: string): string => `the ${file.records}-record file through ${filter}`;

/** Checks a cbpf child's run on `file` (its records, its counts, where its module came from); returns its seconds. */
function checkedChild(name: string, filter: string, file: RecordFile, run: EvalChildResult, jit?: EvalChildResult['jit']): number {
  const described = describeFile(file, filter);
  if (run.records !== file.records) throw new Error(`${name} decided ${run.records} records of ${described}`);
  checkCounts(name, described, run.summary.actions, file.expected.get(filter)!);
  if (jit !== undefined && run.jit !== jit) throw new Error(`${name}: the run on ${described} reports its JIT as ${run.jit}, not ${jit}`);
  return run.seconds;
}

/** The C program built for `program` (or to only read), or why it cannot be. */
function endToEndProgram(program: VerifiedProgram | undefined): { program?: EndToEndProgram; unavailable?: string } {
  try {
    return { program: buildEndToEnd(program) };
  } catch (error) {
    return { unavailable: (error as Error).message.split('\n')[0]! };
  }
}

/** One filter's rows: the module cached (after a warming run), uncached, and C; the competitors alternate within each round. */
function benchFilterEndToEnd(
  { name, program }: { readonly name: string; readonly program: VerifiedProgram },
  files: readonly RecordFile[],
  dir: string,
  cache: string,
  rounds: number,
  say: (line: string) => void,
): EndToEndResult {
  const [small, big] = files as [RecordFile, RecordFile];
  const filterPath = join(dir, `${name}.bpf`);
  writeFileSync(filterPath, encodeRaw(program.instructions));
  say(`end-to-end: ${name}: compiling its module into the cache`);
  checkedChild('cbpf --engine jit', name, small, runEvalChild(filterPath, small.path, { cache, workers: 1, engine: 'jit' }), 'compiled');
  const c = endToEndProgram(program);
  const timed: Timed[] = [
    { name: 'cbpf cached', run: (file) => checkedChild('cbpf cached', name, file, runEvalChild(filterPath, file.path, { cache, workers: 1 }), 'cached') },
    { name: 'cbpf uncached', run: (file) => checkedChild('cbpf uncached', name, file, runEvalChild(filterPath, file.path, { cache: 'off', workers: 1 })) },
  ];
  if (c.program) {
    const native = c.program;
    timed.push({
      name: 'C',
      run: (file) => {
        const run = native.run(file.path, 1);
        if (run.records !== file.records) throw new Error(`C read ${run.records} records of ${describeFile(file, name)}`);
        checkCounts('C', describeFile(file, name), countsByAction(run.values), file.expected.get(name)!);
        return run.ns / 1e9;
      },
    });
  }
  const seconds = new Map<EndToEndName, { small: number[]; big: number[]; marginal: number[] }>(
    timed.map((t) => [t.name, { small: [], big: [], marginal: [] }]),
  );
  for (let round = 0; round < rounds; round++) {
    say(`end-to-end: ${name}: round ${round + 1} of ${rounds}`);
    // Each round starts with another competitor: none is always first after the others' runs.
    for (const t of [...timed.slice(round % timed.length), ...timed.slice(0, round % timed.length)]) {
      const s = seconds.get(t.name)!;
      s.small.push(t.run(small));
      s.big.push(t.run(big));
      s.marginal.push(((s.big.at(-1)! - s.small.at(-1)!) * 1e9) / (big.records - small.records));
    }
  }
  const competitors = END_TO_END_COMPETITORS.map((competitor): EndToEndFigure => {
    const s = seconds.get(competitor);
    if (!s) return { name: competitor, unavailable: c.unavailable! }; // only C can be missing
    return {
      name: competitor,
      nsPerRecord: median(s.marginal),
      spread: spreadOf(s.marginal),
      seconds: [median(s.small), median(s.big)],
    };
  });
  const cNs = competitors.find((f) => f.name === 'C')?.nsPerRecord;
  const ratios: EndToEndResult['ratios'] = {};
  for (const f of competitors) if (f.name !== 'C' && cNs !== undefined && f.nsPerRecord !== undefined) ratios[f.name] = cNs / f.nsPerRecord;
  return { filter: name, instructions: program.instructions.length, competitors, ratios };
}

/** A workers row from each round's seconds: by default (on at most `threads` threads) and on one thread. */
export function workersRow(records: number, byDefault: { readonly seconds: readonly number[]; readonly threads: number }, one: readonly number[]): WorkersRow {
  const defaultSeconds = median(byDefault.seconds);
  const oneSpread = spreadOf(one);
  return {
    records,
    defaultSeconds,
    defaultSpread: spreadOf(byDefault.seconds),
    defaultThreads: byDefault.threads,
    oneSeconds: median(one),
    oneSpread,
    defaultSlower: defaultSeconds > oneSpread[1],
  };
}

/**
 * The workers section, with docker-linear's module cached: on every file, the
 * whole run's seconds with the default worker threads and with one thread;
 * on the largest, one thread against two, for cbpf and for C that only reads.
 */
function benchWorkers(filterPath: string, files: readonly RecordFile[], cache: string, rounds: number, say: (line: string) => void): WorkersResult {
  const largest = files.at(-1)!;
  const reader = endToEndProgram(undefined);
  const cbpf = (workers: number | undefined) => (file: RecordFile) => {
    const run = runEvalChild(filterPath, file.path, { cache, ...(workers === undefined ? {} : { workers }) });
    checkedChild(`cbpf --workers ${workers ?? 'default'}`, WORKERS_FILTER, file, run, 'cached');
    return run;
  };
  const read = (threads: number): number => {
    const run = reader.program!.run(largest.path, threads);
    if (run.records !== largest.records) throw new Error(`C that only reads read ${run.records} records of the ${largest.records}-record file`);
    return run.ns / 1e9;
  };
  const byDefault = files.map(() => ({ seconds: [] as number[], threads: 0 }));
  const one = files.map(() => [] as number[]);
  const two: number[] = [];
  const ceiling = { one: [] as number[], two: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    say(`end-to-end: workers: round ${round + 1} of ${rounds}`);
    files.forEach((file, i) => {
      const runOne = () => one[i]!.push(cbpf(1)(file).seconds);
      const runDefault = () => {
        const run = cbpf(undefined)(file);
        byDefault[i]!.seconds.push(run.seconds);
        byDefault[i]!.threads = Math.max(byDefault[i]!.threads, run.workerThreads + 1);
      };
      // The two alternate which goes first, round by round.
      for (const run of round % 2 === 0 ? [runOne, runDefault] : [runDefault, runOne]) run();
    });
    two.push(cbpf(2)(largest).seconds);
    if (reader.program) {
      ceiling.one.push(read(1));
      ceiling.two.push(read(2));
    }
  }
  const rows = files.map((file, i) => workersRow(file.records, byDefault[i]!, one[i]!));
  const cbpfScaling = { oneSeconds: rows.at(-1)!.oneSeconds, twoSeconds: median(two), scaling: rows.at(-1)!.oneSeconds / median(two) };
  if (!reader.program)
    return { filter: WORKERS_FILTER, rounds, rows, scaling: { records: largest.records, ceiling: { unavailable: reader.unavailable! }, cbpf: cbpfScaling } };
  const c = { oneSeconds: median(ceiling.one), twoSeconds: median(ceiling.two), scaling: median(ceiling.one) / median(ceiling.two) };
  return {
    filter: WORKERS_FILTER,
    rounds,
    rows,
    scaling: { records: largest.records, ceiling: c, cbpf: cbpfScaling, ofCeiling: cbpfScaling.scaling / c.scaling },
  };
}

/** The end-to-end section as text: nothing when it measured no filter. */
export function formatEndToEnd(report: EndToEndReport): string[] {
  if (report.filters.length === 0) return [];
  const [small, big] = report.records;
  const lines = [
    `end-to-end, realistic mix: cbpf eval --summary --workers 1, a fresh process a run, against C that reads, decides and counts the same file (bench/native/end-to-end.c);`,
    `ns per record between the ${small}- and the ${big}-record file (start-up cancels), median of ${report.rounds} rounds; every count checked against the interpreter's`,
  ];
  for (const result of report.filters) {
    lines.push(`${result.filter} (${result.instructions} instructions)`);
    lines.push(
      `  ${'competitor'.padEnd(14)} ${'ns/record'.padStart(9)}  ${'spread'.padStart(14)}  ${'M records/s'.padStart(11)}  ${'ms small / big'.padStart(15)}  cbpf is`,
    );
    for (const f of result.competitors) {
      if (f.nsPerRecord === undefined) {
        lines.push(`  ${f.name.padEnd(14)} unavailable: ${f.unavailable}`);
        continue;
      }
      const ratio = f.name === 'C' ? undefined : result.ratios[f.name];
      const spread = `${f.spread![0].toFixed(1)} to ${f.spread![1].toFixed(1)}`;
      const ms = `${(f.seconds![0] * 1000).toFixed(0)} / ${(f.seconds![1] * 1000).toFixed(0)}`;
      lines.push(
        `  ${f.name.padEnd(14)} ${f.nsPerRecord.toFixed(2).padStart(9)}  ${spread.padStart(14)}  ${(1000 / f.nsPerRecord).toFixed(1).padStart(11)}  ${ms.padStart(15)}  ${ratio === undefined ? '' : `${ratio.toFixed(2)}x`}`.trimEnd(),
      );
    }
  }
  const workers = report.workers;
  if (workers) {
    lines.push(`workers (${workers.filter}, module cached; seconds of the whole run, median of ${workers.rounds} rounds, fastest to slowest):`);
    lines.push(`  ${'records'.padStart(10)}  ${'default'.padStart(35)}  ${'--workers 1'.padStart(24)}`);
    const timed = (seconds: number, [fastest, slowest]: readonly [number, number]) =>
      `${seconds.toFixed(3)} s (${fastest.toFixed(3)} to ${slowest.toFixed(3)})`;
    for (const row of workers.rows) {
      const byDefault = `${row.defaultThreads} thread${row.defaultThreads === 1 ? '' : 's'}: ${timed(row.defaultSeconds, row.defaultSpread)}`;
      const verdict = row.defaultSlower ? '  default slower beyond the spread' : '';
      lines.push(`  ${String(row.records).padStart(10)}  ${byDefault.padStart(35)}  ${timed(row.oneSeconds, row.oneSpread).padStart(24)}${verdict}`);
    }
    const { scaling } = workers;
    const cbpf = `cbpf ${scaling.cbpf.oneSeconds.toFixed(3)} s on 1 thread, ${scaling.cbpf.twoSeconds.toFixed(3)} s on 2: ${scaling.cbpf.scaling.toFixed(2)}x`;
    if ('unavailable' in scaling.ceiling) {
      lines.push(`  1 to 2 threads on ${scaling.records} records: ${cbpf}; the read ceiling is unavailable: ${scaling.ceiling.unavailable}`);
    } else {
      const { oneSeconds, twoSeconds, scaling: c } = scaling.ceiling;
      lines.push(
        `  1 to 2 threads on ${scaling.records} records: read ceiling (C that only reads) ${oneSeconds.toFixed(3)} s, ${twoSeconds.toFixed(3)} s: ${c.toFixed(2)}x;`,
      );
      lines.push(`    ${cbpf}; ${scaling.ofCeiling!.toFixed(2)} of the ceiling's scaling`);
    }
  }
  lines.push('');
  return lines;
}
