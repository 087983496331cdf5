/**
 * `cbpf bench`: every competitor on the same filters and the same records,
 * side by side in one run, each checked against the interpreter's decisions
 * (a fast wrong answer fails the run). Timing is tinybench's for the
 * in-process competitors and the harness's own clock for the native ones
 * (bench/native.ts); both report the median and the spread of several rounds
 * after a warm-up. The figures that matter are ratios, which hold on a noisy
 * machine where absolute times drift: the competitors they compare are timed
 * round by round side by side (timeSideBySide). The end-to-end rows (bench/end-to-end.ts)
 * time `cbpf eval --summary` in fresh processes against C reading the same file.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEngine } from '../eval/engines.js';
import { interpret, interpretWithTrace } from '../interp/interpret.js';
import { CompiledFilter } from '../jit/instance.js';
import { buildModule } from '../jit/module.js';
import { decodeRaw } from '../src/codecs/raw.js';
import { generateRecords } from '../src/fuzz/traces.js';
import { packageRoot } from '../src/package-root.js';
import { compileProfileText, contextOf, type ProfileContextOptions } from '../src/profile/index.js';
import { libseccompHelper, libseccompInput, libseccompUnavailableReason } from '../src/profile/oracle.js';
import { SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { type VerifiedProgram, verify } from '../src/verifier.js';
import { onOneCpu, type Pinning } from './affinity.js';
import { benchEndToEnd, type EndToEndReport, formatEndToEnd } from './end-to-end.js';
import { InPlaceThread } from './in-place.js';
import { buildNative, type NativeCompetitor, type NativeKind, nativeUnavailableReason } from './native.js';
import { timePasses } from './passes.js';
import { SAMPLE_FILTERS } from './samples.js';
import { argumentHeavyFilter, largeFilter } from './synthetic.js';
import { jsFunction } from './translate.js';

/** The record mixes: a realistic syscall frequency mix, the longest path through the filter, and random data. */
export const MIXES = ['realistic', 'worst', 'random'] as const;
export type Mix = (typeof MIXES)[number];

export const COMPETITORS = [
  'interpreter',
  'decision tables',
  'js codegen',
  'jit decide',
  'jit batch',
  'jit in place',
  'gcc -O2',
  'libpcap',
  'memory bound',
] as const;
export type CompetitorName = (typeof COMPETITORS)[number];

export interface BenchOptions {
  /** Fewer records, rounds and mixes: for CI. */
  readonly quick: boolean;
  /** Only these filters (by name); all when empty. */
  readonly filters: readonly string[];
  /** Called as work progresses, with a line to show. */
  readonly progress?: (line: string) => void;
}

/** One competitor's figures on one workload, or why it did not run. */
export interface CompetitorResult {
  readonly name: CompetitorName;
  readonly nsPerDecision?: number;
  /** Fastest and slowest round, in ns per decision. */
  readonly spread?: readonly [number, number];
  readonly unavailable?: string;
}

export interface WorkloadResult {
  readonly filter: string;
  readonly instructions: number;
  readonly mix: Mix;
  readonly records: number;
  readonly competitors: CompetitorResult[];
  /** JIT batch's speed over each competitor that ran: above 1, the JIT is faster. */
  readonly ratios: Partial<Record<CompetitorName, number>>;
  /** The same for the JIT in place (records already in wasm memory, as `cbpf eval` reads a file, and as gcc's loop has them; decisions left there). */
  readonly inPlaceRatios: Partial<Record<CompetitorName, number>>;
}

export interface CompileResult {
  readonly filter: string;
  readonly instructions: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
}

export interface BenchReport {
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string };
  /** The CPU the workloads' competitors and the profiles' compiles ran on (bench/affinity.ts). */
  readonly pinning: Pinning;
  readonly records: number;
  /** Records the interpreter is timed on (it is slow on large filters). */
  readonly slowRecords: number;
  /** Records the per-call JIT is timed on. */
  readonly decideRecords: number;
  readonly rounds: number;
  readonly workloads: WorkloadResult[];
  readonly compile: CompileResult[];
  /** `cbpf eval --summary` end to end against C, on the filters of END_TO_END_FILTERS that were measured. */
  readonly endToEnd: EndToEndReport;
  readonly profiles: ProfileCompileResult[];
}

/**
 * A bundled profile's compile latency, warm: cbpf's (read, resolve, add the
 * rules to libseccomp's database, compile to BPF, verify) beside
 * libseccomp's own for the same rules (seccomp_init to seccomp_export_bpf,
 * timed by native/libseccomp.c), or why libseccomp could not run.
 */
export interface ProfileCompileResult {
  readonly profile: string;
  readonly context: string;
  readonly instructions: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly libseccomp: { readonly p50Ms: number; readonly p90Ms: number } | { readonly unavailable: string };
}

/** The bundled profiles the bench compiles, each for the container its engine makes by default. */
const BENCH_PROFILES: ReadonlyArray<{ readonly file: string; readonly context: ProfileContextOptions }> = [
  { file: 'docker-20.10.24.json', context: { engine: 'docker', runtime: 'runc', kernel: '6.18' } },
  { file: 'containers-common-0.50.1.json', context: { engine: 'podman', runtime: 'crun', kernel: '6.18' } },
];

/** Compile latency of the bundled profiles, cbpf's and libseccomp's, each warmed up first. */
function benchProfiles(settings: RunSettings): ProfileCompileResult[] {
  return BENCH_PROFILES.map(({ file, context }) => {
    settings.say(`${file}: profile compile latency`);
    const text = readFileSync(join(packageRoot(), 'profiles', file), 'utf8');
    const resolvedContext = contextOf(context);
    const compile = (): VerifiedProgram => verify(compileProfileText(text, resolvedContext).program);
    for (const warmUp = performance.now(); performance.now() - warmUp < COMPILE_WARM_UP_SECONDS * 1000; ) compile();
    const ms: number[] = [];
    for (let i = 0; i < settings.compileRuns * 5; i++) {
      const start = performance.now();
      compile();
      ms.push(performance.now() - start);
    }
    const { filter, program } = compileProfileText(text, resolvedContext);
    const unavailable = libseccompUnavailableReason();
    let libseccomp: ProfileCompileResult['libseccomp'];
    if (unavailable) {
      libseccomp = { unavailable };
    } else {
      // The helper builds the filter `repeat` times after one untimed build and reports its own percentiles.
      const out = execFileSync(libseccompHelper(), { input: `${libseccompInput(filter.resolved)}repeat ${settings.compileRuns * 5}\n` }).toString();
      const [, p50, p90] = /^p50 (\d+) p90 (\d+)/.exec(out) ?? [];
      libseccomp = { p50Ms: Number(p50) / 1e6, p90Ms: Number(p90) / 1e6 };
    }
    const described = `${context.engine}, ${context.runtime}, x86_64, kernel ${context.kernel}`;
    return { profile: file, context: described, instructions: program.length, p50Ms: percentile(ms, 0.5), p90Ms: percentile(ms, 0.9), libseccomp };
  });
}

interface BenchFilter {
  readonly name: string;
  readonly program: VerifiedProgram;
}

/** The filters a run measures, in order: the bundled samples, then two made here; each made only when measured. */
const BENCH_FILTERS: ReadonlyArray<{ readonly name: string; make(): VerifiedProgram }> = [
  ...SAMPLE_FILTERS.map((s) => ({ name: s.name, make: () => verify(decodeRaw(readFileSync(s.path))) })),
  { name: 'argument-heavy', make: argumentHeavyFilter },
  { name: 'large-4091', make: largeFilter },
];

/** The names `BenchOptions.filters` may hold. */
export const BENCH_FILTER_NAMES: readonly string[] = BENCH_FILTERS.map((f) => f.name);

function benchFilters(only: readonly string[]): BenchFilter[] {
  const unknown = only.filter((name) => !BENCH_FILTER_NAMES.includes(name));
  if (unknown.length > 0) throw new Error(`unknown benchmark filter ${unknown.join(', ')} (one of ${BENCH_FILTER_NAMES.join(', ')})`);
  return BENCH_FILTERS.filter((f) => only.length === 0 || only.includes(f.name)).map((f) => ({ name: f.name, program: f.make() }));
}

/** Realistic records with every `nr` set to the x86_64 number that takes the longest path through `program`. */
function worstCase(program: VerifiedProgram, realistic: Uint8Array): Uint8Array {
  const template = realistic.slice(0, SECCOMP_DATA_SIZE);
  const view = new DataView(template.buffer);
  let worst = 0;
  let longest = -1;
  for (let nr = 0; nr < 1024; nr++) {
    view.setInt32(SECCOMP_DATA_NR, nr, true);
    const steps = interpretWithTrace(program, template, 'le').steps.length;
    if (steps > longest) [worst, longest] = [nr, steps];
  }
  const records = realistic.slice();
  const all = new DataView(records.buffer);
  for (let at = 0; at < records.length; at += SECCOMP_DATA_SIZE) all.setInt32(at + SECCOMP_DATA_NR, worst, true);
  return records;
}

function recordsFor(mix: Mix, program: VerifiedProgram, count: number): Uint8Array {
  if (mix === 'random') return generateRecords(count, 'random', 7);
  const realistic = generateRecords(count, 'realistic', 7);
  return mix === 'worst' ? worstCase(program, realistic) : realistic;
}

const percentile = (xs: readonly number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

/**
 * How long a filter is compiled over and over before its compile latency is
 * timed, so that it is measured at full speed, as in a service that compiles
 * filters all day: V8 optimises Binaryen's wasm and cbpf's lowering only once
 * they have run a while. Here docker-tree's first compiles in a process take
 * 15 to 25 ms, 3 to 4 from about the 50th; allowlist-small, whose compiles run
 * less code, gets down to 1 ms only after 100 to 200.
 */
const COMPILE_WARM_UP_SECONDS = 1;

/** A module built, compiled and instantiated from scratch (no cache): what compile latency measures. */
function compileFresh(program: VerifiedProgram): CompiledFilter {
  const binary = buildModule([verify(program.instructions)], 'le').binary;
  return new CompiledFilter(binary, new WebAssembly.Module(binary), 'le', 1);
}

/**
 * A loop calling `jit.decide` on each of `views`, made afresh (new Function)
 * for `filter`: a program deciding one record at a time calls decide() for
 * its own filter, and a loop shared by every workload of the run would see
 * each filter's decide() in turn, which V8 then inlines none of. The source
 * names the filter: V8 caches a function made from a source it has seen,
 * with its call sites' feedback, so identical loops would be one loop again.
 */
function oneAtATime(filter: string): (jit: CompiledFilter, views: readonly Uint8Array[], out: Uint32Array) => void {
  const source = `'use strict'; // ${JSON.stringify(filter)}\nfor (let i = 0; i < views.length; i++) out[i] = jit.decide(views[i]);`;
  return new Function('jit', 'views', 'out', source) as ReturnType<typeof oneAtATime>;
}

/** Checks a competitor's decisions against the interpreter's, record for record. */
function check(name: string, workload: string, decisions: ArrayLike<number>, expected: Uint32Array, count: number): void {
  for (let i = 0; i < count; i++) {
    if (decisions[i]! >>> 0 !== expected[i]) {
      throw new Error(
        `${name} decided record ${i} of ${workload} as 0x${(decisions[i]! >>> 0).toString(16)}, the interpreter as 0x${expected[i]!.toString(16)}`,
      );
    }
  }
}

/**
 * How long each in-process competitor runs just before it is timed. V8 runs
 * a wasm function on its baseline compiler until it has executed a good
 * while, and only then on its optimizing one: a batch of 100,000 records took
 * some 25 calls to get there. And after a competitor that allocates (the
 * interpreter), the garbage collector's work slowed the next one's first
 * rounds two to three times on these two cores. So each competitor warms up
 * right before its first round.
 */
const WARM_UP_MS = 250;
/**
 * How long a competitor timed side by side with others (timeSideBySide), in
 * this process or a fresh native one, runs untimed again before each timed
 * pass after its first (which follows WARM_UP_MS of them): after a single
 * untimed pass, rounds swung by several times and gcc's harness ran well
 * below its settled speed (docs/benchmarks.md), so every competitor warms up
 * alike.
 */
const ROUND_WARM_UP_MS = 25;
/**
 * How long decide() one record at a time runs before it is timed. Once any
 * buffer of the process has been detached (wasm memory that grew, as in every
 * run of the bench), V8 takes longer to settle on its code for the lowered
 * stack: 1.5 to 2.2 times its steady cost a call at 250 ms, settled from
 * about 400 ms (docs/benchmarks.md). A caller deciding records one by one
 * runs for longer than that.
 */
const DECIDE_WARM_UP_MS = 1000;

/** A competitor timed in this process: `run` decides `records` records. */
interface InProcessTask {
  readonly name: CompetitorName;
  readonly records: number;
  readonly run: () => void;
  /** How long it runs untimed before its first timed passes side by side, if not WARM_UP_MS. */
  readonly warmUpMs?: number;
}

/** A competitor's figures from its rounds' ns per decision. */
function figures(name: CompetitorName, ns: readonly number[]): CompetitorResult {
  return { name, nsPerDecision: percentile(ns, 0.5), spread: [Math.min(...ns), Math.max(...ns)] };
}

/** Times in-process competitors one after the other: `rounds` timed passes in a row after a warm-up (WARM_UP_MS); ns per decision. */
async function timeInProcess(tasks: readonly InProcessTask[], rounds: number): Promise<Map<CompetitorName, CompetitorResult>> {
  const results = new Map<CompetitorName, CompetitorResult>();
  for (const task of tasks) results.set(task.name, figures(task.name, await timePasses(task, rounds, WARM_UP_MS)));
  return results;
}

/**
 * How many passes a competitor timed side by side makes in a row each round,
 * the round's figure their median: a lone pass of 100,000 records lasts a
 * fraction of a millisecond, and a slow spell of the shared machine doubled
 * some (docs/benchmarks.md). Native and in-process competitors alike.
 */
const PASSES_PER_ROUND = 5;

/** A competitor timed side by side with others: `time` gives one round's ns per decision, warming up first (roundWarmUpMs). */
interface SideBySide {
  readonly name: CompetitorName;
  readonly time: (round: number) => Promise<number>;
}

/** How long a competitor timed side by side runs untimed before its timed passes in `round`: `first` before the first. */
const roundWarmUpMs = (round: number, first = WARM_UP_MS): number => (round === 0 ? first : ROUND_WARM_UP_MS);

/** An in-process competitor as one of those timed side by side: each round PASSES_PER_ROUND timed passes right after untimed ones. */
const inProcessRound = (task: InProcessTask): SideBySide => ({
  name: task.name,
  time: async (round) => percentile(await timePasses(task, PASSES_PER_ROUND, roundWarmUpMs(round, task.warmUpMs)), 0.5),
});

/**
 * Times `competitors` side by side: each round times every one in turn (PASSES_PER_ROUND passes), in an
 * order turned by one each round, so that a slow spell of the shared machine
 * falls on all of them rather than on whichever ran its rounds then.
 */
async function timeSideBySide(competitors: readonly SideBySide[], rounds: number): Promise<Map<CompetitorName, CompetitorResult>> {
  const ns = new Map(competitors.map((c) => [c.name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    const turned = [...competitors.slice(round % competitors.length), ...competitors.slice(0, round % competitors.length)];
    for (const competitor of turned) ns.get(competitor.name)!.push(await competitor.time(round));
  }
  return new Map([...ns].map(([name, roundsNs]) => [name, figures(name, roundsNs)]));
}

/**
 * `kind` built for `program`, or why it cannot be: a competitor that does not
 * build here (no gcc, no libpcap, a compiler without C headers) is shown as
 * unavailable with the reason and never fails the run.
 */
function nativeCompetitor(kind: NativeKind, program: VerifiedProgram): { kind: NativeKind; competitor?: NativeCompetitor; unavailable?: string } {
  const reason = nativeUnavailableReason(kind);
  if (reason) return { kind, unavailable: reason };
  try {
    return { kind, competitor: buildNative(kind, program) };
  } catch (error) {
    return { kind, unavailable: (error as Error).message.replace(`${kind}: `, '').split('\n')[0]! };
  }
}

/** Compile latency of one filter, then every mix through every competitor. */
async function benchFilter({ name, program }: BenchFilter, settings: RunSettings): Promise<{ compile: CompileResult; workloads: WorkloadResult[] }> {
  const { count, rounds, slowCount, decideCount, mixes, recordsPath, say } = settings;
  const workloads: WorkloadResult[] = [];
  say(`${name}: compile latency`);
  for (const warmUp = performance.now(); performance.now() - warmUp < COMPILE_WARM_UP_SECONDS * 1000; ) compileFresh(program);
  const compileMs: number[] = [];
  for (let i = 0; i < settings.compileRuns; i++) {
    const start = performance.now();
    compileFresh(program);
    compileMs.push(performance.now() - start);
  }
  const compile = { filter: name, instructions: program.instructions.length, p50Ms: percentile(compileMs, 0.5), p90Ms: percentile(compileMs, 0.9) };
  const jit = compileFresh(program);
  const js = jsFunction(program);
  const interpreter = (await loadEngine('interp'))([program]);
  const tables = (await loadEngine('table'))([program]);
  const natives = (['gcc -O2', 'libpcap', 'memory bound'] as const).map((kind) => nativeCompetitor(kind, program));
  for (const mix of mixes) {
    const workload = `${name}/${mix}`;
    say(`${workload}: ${count} records`);
    const records = recordsFor(mix, program, count);
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    const batch = { bytes: records, count, bigEndian: new Uint8Array(count) };
    const expected = interpreter.decide(batch).slice();
    const out = new Uint32Array(count);
    check('decision tables', workload, tables.decide(batch), expected, count);
    const runJs = () => {
      for (let i = 0; i < count; i++) out[i] = js(view, i * SECCOMP_DATA_SIZE);
    };
    runJs();
    check('js codegen', workload, out, expected, count);
    jit.decideBatch(records, out);
    check('jit batch', workload, out, expected, count);
    const slow = Math.min(count, slowCount);
    // One view per record, made before timing: the one-record competitors are timed on the call, not on making views.
    const views = Array.from({ length: slow }, (_, i) => records.subarray(i * 64, i * 64 + 64));
    const decideViews = views.slice(0, decideCount);
    const decideEach = oneAtATime(name);
    decideEach(jit, decideViews, out);
    check('jit decide', workload, out, expected, decideViews.length);
    writeFileSync(recordsPath, records);
    // Timed each in a row after its warm-up: the interpreter and the JS code generator, slow (an untimed pass before
    // each round would double their time).
    const timed = await timeInProcess(
      [
        {
          name: 'interpreter',
          records: slow,
          run: () => {
            for (let i = 0; i < slow; i++) out[i] = interpret(program, views[i]!, 'le');
          },
        },
        { name: 'js codegen', records: count, run: runJs },
      ],
      rounds,
    );
    // The rows compared with each other and with the native programs, side by side: the tables' and the JIT's batches,
    // and the per-call JIT, whose ratio is over the batch (a native round is a fresh process that warms up as long as an
    // in-process round does, its decisions checked each time).
    const nativeRounds = natives.flatMap(({ competitor }): SideBySide[] =>
      competitor
        ? [
            {
              name: competitor.kind,
              time: async (round) => {
                const { roundsNs, decisions } = competitor.run(recordsPath, PASSES_PER_ROUND, roundWarmUpMs(round));
                if (competitor.kind !== 'memory bound') check(competitor.kind, workload, decisions, expected, count); // it reads nr, it decides nothing
                return percentile(roundsNs, 0.5) / count;
              },
            },
          ]
        : [],
    );
    const inProcessSideBySide: InProcessTask[] = [
      { name: 'decision tables', records: count, run: () => void tables.decide(batch) },
      { name: 'jit batch', records: count, run: () => void jit.decideBatch(records, out) },
      { name: 'jit decide', records: decideViews.length, run: () => decideEach(jit, decideViews, out), warmUpMs: DECIDE_WARM_UP_MS },
    ];
    // Records already in wasm memory, in another instance of the module (jit's own slots move with every call), and
    // their decisions left there (decideSlots), as gcc's loop has its records and leaves its decisions in its own
    // arrays; in a thread of its own, started once the in-process rounds above are done, as it grows that memory (in-place.ts).
    const inPlace = await InPlaceThread.start({ module: jit.module, records });
    let sideBySide: Map<CompetitorName, CompetitorResult>;
    try {
      check('jit in place', workload, inPlace.decisions, expected, count);
      const inPlaceRound: SideBySide = {
        name: 'jit in place',
        time: async (round) => percentile(await inPlace.time({ passes: PASSES_PER_ROUND, warmUpMs: roundWarmUpMs(round) }), 0.5),
      };
      sideBySide = await timeSideBySide([...inProcessSideBySide.map(inProcessRound), inPlaceRound, ...nativeRounds], rounds);
    } finally {
      await inPlace.stop();
    }
    for (const [name, result] of sideBySide) timed.set(name, result);
    for (const native of natives) if (!native.competitor) timed.set(native.kind, { name: native.kind, unavailable: native.unavailable });
    const competitors = COMPETITORS.map((c) => timed.get(c)!);
    const ratiosOver = (jit: CompetitorName): Partial<Record<CompetitorName, number>> => {
      const jitNs = timed.get(jit)!.nsPerDecision!;
      return Object.fromEntries(competitors.filter((c) => c.nsPerDecision !== undefined && c.name !== jit).map((c) => [c.name, c.nsPerDecision! / jitNs]));
    };
    workloads.push({
      filter: name,
      instructions: program.instructions.length,
      mix,
      records: count,
      competitors,
      ratios: ratiosOver('jit batch'),
      inPlaceRatios: ratiosOver('jit in place'),
    });
  }
  return { compile, workloads };
}

/** How big a run is, and where it keeps its records for the native competitors. */
interface RunSettings {
  readonly count: number;
  readonly rounds: number;
  /** The interpreter is timed on at most this many records (it is slow on large filters). */
  readonly slowCount: number;
  /**
   * The per-call JIT is timed on at most this many, in a quick run and a full
   * one alike: each a view made before the timing starts, and a full run's
   * 200,000 views timed cache misses in walking them besides the call
   * (docs/benchmarks.md); a caller deciding one record has it at hand.
   */
  readonly decideCount: number;
  readonly mixes: readonly Mix[];
  readonly compileRuns: number;
  readonly recordsPath: string;
  readonly say: (line: string) => void;
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const settings: RunSettings = {
    count: options.quick ? 100_000 : 1_000_000,
    rounds: options.quick ? 3 : 5,
    slowCount: options.quick ? 20_000 : 200_000,
    decideCount: 20_000,
    mixes: options.quick ? ['realistic', 'worst'] : MIXES,
    compileRuns: options.quick ? 7 : 21,
    recordsPath: join(tmpdir(), `cbpf-bench-${process.pid}.bin`),
    say: options.progress ?? (() => {}),
  };
  const workloads: WorkloadResult[] = [];
  const compile: CompileResult[] = [];
  const filters = benchFilters(options.filters);
  // The workloads on one CPU, then the end-to-end rows on all of them (they measure worker threads too).
  const pinning = await onOneCpu(async (pinning) => {
    try {
      for (const filter of filters) {
        const result = await benchFilter(filter, settings);
        compile.push(result.compile);
        workloads.push(...result.workloads);
      }
    } finally {
      rmSync(settings.recordsPath, { force: true });
    }
    return pinning;
  });
  const endToEnd = await benchEndToEnd(filters, { quick: options.quick, say: settings.say });
  const profiles = options.filters.length === 0 ? await onOneCpu(() => benchProfiles(settings)) : [];
  return {
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    pinning,
    records: settings.count,
    slowRecords: settings.slowCount,
    decideRecords: Math.min(settings.count, settings.decideCount),
    rounds: settings.rounds,
    workloads,
    compile,
    endToEnd,
    profiles,
  };
}

/** The report as tables: one per workload, the end-to-end rows, then compile latency. */
export function formatReport(report: BenchReport): string {
  const lines = [
    `cbpf bench: ${report.records} records per workload, median of ${report.rounds} rounds after a warm-up (the interpreter timed on the first ${report.slowRecords}, jit decide on the first ${report.decideRecords}; every decision checked)`,
    `machine: ${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}; ${'cpu' in report.pinning ? `workloads on CPU ${report.pinning.cpu}` : `workloads not pinned to one CPU: ${report.pinning.unavailable}`}`,
    '',
  ];
  for (const w of report.workloads) {
    lines.push(`${w.filter} (${w.instructions} instructions), ${w.mix} mix`);
    lines.push(
      `  ${'competitor'.padEnd(14)} ${'ns/decision'.padStart(11)}  ${'spread'.padStart(15)}  ${'M decisions/s'.padStart(13)}  jit batch is  in place is`,
    );
    for (const c of w.competitors) {
      if (c.nsPerDecision === undefined) {
        lines.push(`  ${c.name.padEnd(14)} unavailable: ${c.unavailable}`);
        continue;
      }
      const ratio = (r: number | undefined): string => (r === undefined ? '' : `${r.toFixed(2)}x`);
      const spread = `${c.spread![0].toFixed(1)}-${c.spread![1].toFixed(1)}`;
      lines.push(
        `  ${c.name.padEnd(14)} ${c.nsPerDecision.toFixed(2).padStart(11)}  ${spread.padStart(15)}  ${(1000 / c.nsPerDecision).toFixed(1).padStart(13)}  ${ratio(w.ratios[c.name]).padStart(12)}  ${ratio(w.inPlaceRatios[c.name]).padStart(11)}`.trimEnd(),
      );
    }
    lines.push('');
  }
  lines.push(...formatEndToEnd(report.endToEnd));
  lines.push(`compile latency (verify + compile + instantiate, warm: after ${COMPILE_WARM_UP_SECONDS} s of compiling the filter):`);
  for (const c of report.compile)
    lines.push(`  ${c.filter.padEnd(16)} ${String(c.instructions).padStart(5)} instructions  p50 ${c.p50Ms.toFixed(1)} ms  p90 ${c.p90Ms.toFixed(1)} ms`);
  if (report.profiles.length > 0) {
    lines.push('', `profile compile latency (read, resolve, libseccomp's rules, BPF, verify; warm), beside libseccomp 2.5.4's own for the same rules:`);
    for (const p of report.profiles) {
      const own =
        'unavailable' in p.libseccomp
          ? `libseccomp unavailable: ${p.libseccomp.unavailable}`
          : `libseccomp p50 ${p.libseccomp.p50Ms.toFixed(1)} ms  p90 ${p.libseccomp.p90Ms.toFixed(1)} ms`;
      lines.push(`  ${p.profile} (${p.context}) ${p.instructions} instructions  p50 ${p.p50Ms.toFixed(1)} ms  p90 ${p.p90Ms.toFixed(1)} ms  ${own}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
