/**
 * The differential fuzzer: seeded, replayable runs over targets that each
 * compare two answers for generated programs and records, shrinking the first
 * disagreement to a small case.
 *
 * Iteration i of a run with seed S draws from seededRandom(mix(S, i)), so
 * `--seed S --runs i+1` replays the failure exactly.
 */

import { FORMATS } from '../codecs/format-names.js';
import { readProgram, writeProgram } from '../codecs/formats.js';
import { formatAsm } from '../disasm.js';
import type { MakeEngine } from '../engine.js';
import { type Instruction, programsEqual } from '../instruction.js';
import { kernelAccepts, kernelArches, kernelDecide } from '../kernel/oracle.js';
import { compareDecisions, kernelVerdict, verifierVerdict } from '../kernel/parity.js';
import { MAX_REWRITABLE_LENGTH } from '../kernel/rewrite.js';
import { hexValue } from '../seccomp/actions.js';
import { formatRecordJson } from '../seccomp/record-json.js';
import { byteOrderOfAuditArch, decodeSeccompData, encodeSeccompData, packRecords, type SeccompData } from '../seccomp/records.js';
import { type VerifiedProgram, verify } from '../verifier.js';
import { biasedRecords, generateProgram, mutateProgram } from './programs.js';
import { chance, int, type Random, seededRandom } from './random.js';
import { type FuzzCase, shrinkCase } from './shrink.js';

/** A disagreement, shrunk where the target can shrink it. */
export interface FuzzFailure {
  readonly target: string;
  readonly seed: number;
  readonly iteration: number;
  /** What disagreed, in one line. */
  readonly summary: string;
  /** The case, for engine targets: the programs and the record. */
  readonly case?: FuzzCase;
  /** Instructions before shrinking, for engine targets. */
  readonly originalSize?: number;
  /** The reference's value on the (shrunk) case, for engine targets. */
  readonly expected?: number;
  /** A readable report: programs as bpf_asm, the record in hex, both results. */
  readonly report: string;
}

/** What one target did in one iteration. */
interface Outcome {
  readonly programs: number;
  readonly records: number;
  readonly failure?: Omit<FuzzFailure, 'target' | 'seed' | 'iteration'>;
}

/** Something the fuzzer checks, one iteration at a time. */
export interface FuzzTarget {
  readonly name: string;
  /** Iterations per round, so that cheap targets are not starved by slow ones (default 1). */
  readonly weight?: number;
  iterate(random: Random): Outcome;
}

/** Per target: how much was checked. */
export interface TargetStats {
  programs: number;
  records: number;
}

/** A stack of generated programs: mostly one, now and then up to `maxStack`. */
function generateStack(random: Random, maxStack: number): Instruction[][] {
  const depth = maxStack > 1 && chance(random, 0.3) ? int(random, 2, maxStack) : 1;
  return Array.from({ length: depth }, () => generateProgram(random));
}

/** The report of a case: each filter disassembled, the record in hex and JSON, and the two answers. */
function describeCase(c: FuzzCase, answers: string): string {
  const filters = c.filters.map((f, i) => `filter ${i + 1} of ${c.filters.length} (oldest first):\n${formatAsm(f)}`).join('');
  const order = byteOrderOfAuditArch(c.record.arch);
  return `${filters}record: ${Buffer.from(encodeSeccompData(c.record, order)).toString('hex')}\n        ${formatRecordJson(c.record)}\n${answers}\n`;
}

/**
 * Compares `subject` with `reference` on generated stacks (up to `maxStack`)
 * and records aimed at their constants; shrinks the first difference.
 */
export function engineTarget(
  name: string,
  reference: MakeEngine,
  subject: MakeEngine,
  options: { maxStack: number; records: number; anyArch: boolean; shrinkBudget: number; maxLength?: number },
): FuzzTarget {
  /** What `make`'s engine decides `records`, or why it threw. */
  const decide = (make: MakeEngine, filters: readonly VerifiedProgram[], records: readonly SeccompData[]): (number | string)[] => {
    try {
      return [...make(filters).decide(packRecords(records))];
    } catch (error) {
      return records.map(() => `threw ${(error as Error).message}`);
    }
  };
  const answer = (make: MakeEngine, c: FuzzCase): number | string =>
    decide(
      make,
      c.filters.map((f) => verify(f)),
      [c.record],
    )[0]!;
  const differs = (c: FuzzCase): boolean => answer(reference, c) !== answer(subject, c);
  return {
    name,
    iterate(random) {
      let filters = generateStack(random, options.maxStack);
      if (options.maxLength !== undefined) filters = filters.filter((f) => f.length <= options.maxLength!);
      if (filters.length === 0) return { programs: 0, records: 0 };
      const verified = filters.map((f) => verify(f));
      const records = biasedRecords(filters.flat(), random, options.records, options.anyArch ? 'any' : undefined);
      const expected = decide(reference, verified, records);
      const actual = decide(subject, verified, records);
      const at = records.findIndex((_, i) => expected[i] !== actual[i]);
      if (at === -1) return { programs: filters.length, records: records.length };
      const original: FuzzCase = { filters, record: records[at]! };
      const shrunk = shrinkCase(original, differs, options.shrinkBudget);
      const [want, got] = [answer(reference, shrunk), answer(subject, shrunk)];
      const show = (v: number | string) => (typeof v === 'number' ? hexValue(v) : v);
      const [ours, theirs] = [reference, subject].map((make) => make(shrunk.filters.map((f) => verify(f))).name);
      const size = (c: FuzzCase) => c.filters.reduce((n, f) => n + f.length, 0);
      return {
        programs: filters.length,
        records: at + 1,
        failure: {
          summary: `${ours} says ${show(want)}, ${theirs} says ${show(got)}`,
          case: shrunk,
          originalSize: size(original),
          ...(typeof want === 'number' ? { expected: want } : {}),
          report: describeCase(shrunk, `${ours}: ${show(want)}\n${theirs}: ${show(got)}`),
        },
      };
    },
  };
}

/**
 * The verifier against the kernel's acceptance, on generated programs and
 * mutants of them. A program the kernel gives no verdict on (kernelVerdict:
 * its BPF JIT failed) is not compared, and not counted.
 */
export function verifierTarget(batch = 50): FuzzTarget {
  return {
    name: 'verifier',
    iterate(random) {
      const programs = Array.from({ length: batch }, () => {
        const program = generateProgram(random);
        return chance(random, 0.5) ? mutateProgram(program, random) : program;
      });
      const verdicts = kernelAccepts(programs).map(kernelVerdict);
      const at = programs.findIndex((p, i) => verdicts[i] !== undefined && verdicts[i] !== verifierVerdict(p));
      const compared = verdicts.slice(0, at === -1 ? undefined : at + 1).filter((v) => v !== undefined).length;
      if (at === -1) return { programs: compared, records: 0 };
      const program = programs[at]!;
      const summary = `the kernel says ${verdicts[at]}, the verifier says ${verifierVerdict(program)}`;
      return { programs: compared, records: 0, failure: { summary, report: `${formatAsm(program)}${summary}\n` } };
    },
  };
}

/**
 * The interpreter against the live kernel, one generated program and a set of
 * x86_64/i386 records at a time (x86_64 only where the kernel answers i386
 * syscalls before seccomp: kernelArches), each record as the kernel saw
 * it (its own instruction pointer, i386 arguments cut to 32 bits). Shrinks
 * with the kernel in the loop, so its budget is small.
 */
export function kernelTarget(interpreter: MakeEngine, records = 40, shrinkBudget = 300): FuzzTarget {
  const arches = kernelArches();
  const mismatches = (c: FuzzCase) => {
    const program = c.filters[0]!;
    const batch = packRecords([c.record]);
    return compareDecisions(kernelDecide(program, batch), batch, interpreter([verify(program)]));
  };
  return {
    name: 'kernel',
    iterate(random) {
      const program = generateProgram(random);
      if (program.length > MAX_REWRITABLE_LENGTH) return { programs: 0, records: 0 };
      const batch = packRecords(biasedRecords(program, random, records, arches));
      const kernel = kernelDecide(program, batch);
      const found = compareDecisions(kernel, batch, interpreter([verify(program)]));
      // Records the host answered before seccomp ran were not compared: not counted.
      if (found.length === 0) return { programs: 1, records: batch.count - kernel.bypassed.reduce((n, b) => n + b, 0) };
      const original: FuzzCase = { filters: [program], record: decodeSeccompData(found[0]!.issued, 'le') };
      const shrunk = shrinkCase(original, (c) => mismatches(c).length > 0, shrinkBudget);
      const [last] = mismatches(shrunk);
      const summary = last
        ? `the kernel says ${hexValue(last.kernel)}, the interpreter says ${hexValue(last.engine)}`
        : 'the kernel and the interpreter disagree';
      return {
        programs: 1,
        records: found[0]!.record + 1,
        failure: {
          summary,
          case: shrunk,
          originalSize: program.length,
          ...(last ? { expected: last.kernel } : {}),
          report: describeCase(shrunk, summary),
        },
      };
    },
  };
}

/** Every format's writer and reader, and the disassembler with the assembler, on random programs. */
export function codecTarget(): FuzzTarget {
  return {
    name: 'codec',
    weight: 20,
    iterate(random) {
      const program = chance(random, 0.5) ? generateProgram(random) : mutateProgram(generateProgram(random), random);
      if (program.length === 0 || program.length > 4096) return { programs: 0, records: 0 };
      for (const format of [...FORMATS, 'disasm'] as const) {
        let back: Instruction[] | string;
        try {
          const written = format === 'disasm' ? formatAsm(program) : writeProgram(program, format);
          const bytes = typeof written === 'string' ? new TextEncoder().encode(written) : written;
          back = readProgram(bytes, format === 'disasm' ? 'asm' : format).program;
        } catch (error) {
          back = (error as Error).message;
        }
        if (typeof back === 'string' || !programsEqual(back, program)) {
          const summary = `${format} does not round-trip: ${typeof back === 'string' ? back : 'the program read back differs'}`;
          return { programs: 1, records: 0, failure: { summary, report: `${formatAsm(program)}${summary}\n` } };
        }
      }
      return { programs: 1, records: 0 };
    },
  };
}

/** Seccomp profiles: the compiler against the evaluator and libseccomp (src/fuzz/profiles.ts). */
export { profileTarget } from './profiles.js';

/** The random stream of iteration `i` of a run with `seed`. */
export function iterationRandom(seed: number, i: number): Random {
  return seededRandom(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35));
}

/** How long a run goes: a number of iterations, or seconds. */
export type FuzzBudget = { readonly runs: number } | { readonly seconds: number };

/** What a run did: per-target counts, and the first failure if any. */
export interface FuzzReport {
  readonly seed: number;
  readonly iterations: number;
  readonly stats: Record<string, TargetStats>;
  readonly failure?: FuzzFailure;
}

/**
 * Runs the targets in turns (each `weight` iterations a round), until the
 * budget is spent or a target fails. The schedule depends only on the targets,
 * so the same seed replays the same run. `onProgress` is called now and then.
 */
export function runFuzz(
  targets: readonly FuzzTarget[],
  seed: number,
  budget: FuzzBudget,
  onProgress?: (report: FuzzReport, elapsed: number) => void,
): FuzzReport {
  const stats: Record<string, TargetStats> = Object.fromEntries(targets.map((t) => [t.name, { programs: 0, records: 0 }]));
  const schedule = targets.flatMap((t) => Array<FuzzTarget>(t.weight ?? 1).fill(t));
  const started = performance.now();
  let lastProgress = started;
  let i = 0;
  for (; 'runs' in budget ? i < budget.runs : performance.now() - started < budget.seconds * 1000; i++) {
    const target = schedule[i % schedule.length]!;
    const outcome = target.iterate(iterationRandom(seed, i));
    stats[target.name]!.programs += outcome.programs;
    stats[target.name]!.records += outcome.records;
    if (outcome.failure) return { seed, iterations: i + 1, stats, failure: { ...outcome.failure, target: target.name, seed, iteration: i } };
    if (onProgress && performance.now() - lastProgress > 250) {
      lastProgress = performance.now();
      onProgress({ seed, iterations: i + 1, stats }, (lastProgress - started) / 1000);
    }
  }
  return { seed, iterations: i, stats };
}

/** A failure as a conformance case (the corpus format), so the corpus keeps it. */
export function failureAsCase(failure: FuzzFailure): string | undefined {
  const c = failure.case;
  if (!c || failure.expected === undefined) return undefined;
  const programs = c.filters.map((f) => `--- program\n${formatAsm(f, { comments: false })}`).join('');
  return `=== fuzz ${failure.target} seed ${failure.seed} iteration ${failure.iteration}: ${failure.summary}\n${programs}--- records\n${formatRecordJson(c.record)}\n--- expect\n${hexValue(failure.expected)}\n`;
}
