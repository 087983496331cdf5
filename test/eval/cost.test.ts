import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { traceCost } from '../../eval/cost.js';
import { interpretWithTrace } from '../../interp/interpret.js';
import { kernelActionCache } from '../../src/action-cache.js';
import { decodeRaw } from '../../src/codecs/raw.js';
import { formatStack } from '../../src/codecs/stack.js';
import { biasedRecords, generateProgram } from '../../src/fuzz/programs.js';
import { seededRandom } from '../../src/fuzz/random.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { CALIBRATION_LENGTHS, fitLine } from '../../src/live/calibrate.js';
import { archByAuditArch } from '../../src/seccomp/arches.js';
import { byteOrderOfAuditArch, encodeSeccompData, type SeccompData } from '../../src/seccomp/records.js';
import { syscallName } from '../../src/seccomp/syscalls.js';
import { type VerifiedProgram, verify } from '../../src/verifier.js';
import { runCli } from '../helpers.js';
import { kernelIt } from '../system-deps.js';

const sample = (name: string): VerifiedProgram => verify(decodeRaw(readFileSync(SAMPLE_FILTERS.find((s) => s.name === name)!.path)));
const samplePath = (name: string): string => SAMPLE_FILTERS.find((s) => s.name === name)!.path;

/** The bytes of `records`, each in its own arch's byte order, as a binary trace can hold them only when all are little-endian. */
async function* chunks(records: readonly SeccompData[]): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(
    records.map((r) => `{"arch":${r.arch},"nr":${r.nr},"ip":"${r.instructionPointer}","args":[${r.args.map((a) => `"${a}"`).join(',')}]}\n`).join(''),
  );
}

/**
 * Whether the kernel's cache lets record `r` skip every filter of `stack`, said
 * through kernelActionCache (the model `cbpf info` shows), by syscall name.
 */
function cachedByName(stack: readonly VerifiedProgram[], r: SeccompData): boolean {
  const arch = archByAuditArch(r.arch);
  if (!arch || (arch.name !== 'x86_64' && arch.name !== 'i386')) return false;
  const name = syscallName(arch, r.nr);
  return name !== undefined && stack.every((filter) => kernelActionCache(filter, arch).cached.includes(name));
}

describe('the kernel cost of a trace', () => {
  it('counts, for each record, the instructions the interpreter runs through each filter, and none where the action cache applies', async () => {
    const random = seededRandom(27);
    let checkedStacks = 0;
    let cachedSeen = 0;
    // Generated programs, and the samples (whose allowlists the cache serves), alone and stacked on a generated one.
    const samples = ['allowlist-small', 'docker-linear', 'multiarch'].map((name) => sample(name).instructions);
    for (let n = 0; n < 60; n++) {
      const generated = [generateProgram(random), ...(n % 3 === 0 ? [generateProgram(random)] : [])];
      const programs = n % 4 === 0 ? [samples[(n / 4) % samples.length]!, ...(n % 8 === 0 ? generated.slice(0, 1) : [])] : generated;
      const stack = programs.map((p) => verify(p));
      // Records aimed at the programs' constants, plus plain x86_64 and i386 syscalls the cache can serve.
      const records = [
        ...biasedRecords(programs.flat(), random, 30, 'any'),
        ...[0, 1, 2, 60, 231].map((nr) => ({ nr, arch: 0xc000003e, instructionPointer: 0n, args: [] })),
        ...[3, 4].map((nr) => ({ nr, arch: 0x40000003, instructionPointer: 0n, args: [] })),
      ];
      const cost = await traceCost([stack], chunks(records), { format: 'jsonl' });
      const perFilter = stack.map(() => 0);
      let cached = 0;
      for (const record of records) {
        if (cachedByName(stack, record)) {
          cached++;
          continue;
        }
        stack.forEach((filter, f) => {
          perFilter[f]! += interpretWithTrace(filter, encodeSeccompData(record), byteOrderOfAuditArch(record.arch)).steps.length;
        });
      }
      const [result] = cost.stacks;
      expect({ perFilter: result!.perFilter, cached: result!.cachedRecords }, `program ${n}`).toEqual({ perFilter, cached });
      checkedStacks++;
      cachedSeen += cached;
    }
    expect(checkedStacks).toBe(60);
    expect(cachedSeen).toBeGreaterThan(0); // the cache's side of the property was exercised
  });

  it('ranks the tree form of the Docker-like sample below its linear form on a realistic trace, and a stack above its filters alone', async () => {
    const trace = generateRecords(100_000, 'realistic', 1);
    const [linear, tree] = [sample('docker-linear'), sample('docker-tree')];
    const cost = await traceCost(
      [[linear], [tree], [linear, tree]],
      (async function* () {
        yield trace;
      })(),
    );
    const [l, t, both] = cost.stacks;
    expect(cost.records).toBe(100_000);
    expect(t!.mean).toBeLessThan(l!.mean);
    // Stacked, a syscall the cache served for each filter alone is still served; every other runs both.
    expect(both!.mean).toBeCloseTo(l!.mean + t!.mean, 6);
    expect(l!.syscalls[0]!.instructions).toBeGreaterThan(0);
  });

  it('fits a straight line and says how well it fits', () => {
    expect(fitLine([0, 1, 2, 3].map((x) => ({ x, y: 5 + 2 * x })))).toEqual({ intercept: 5, slope: 2, r2: 1 });
    const noisy = fitLine([
      { x: 0, y: 1 },
      { x: 1, y: 3 },
      { x: 2, y: 2 },
    ]);
    expect(noisy.r2).toBeGreaterThan(0);
    expect(noisy.r2).toBeLessThan(1);
  });
});

describe('cbpf cost', () => {
  const trace = generateRecords(20_000, 'realistic', 1);

  it('reports each FILTER side by side, a stack file as one stack', async () => {
    const stack = formatStack([sample('docker-linear').instructions, sample('allowlist-small').instructions]);
    const run = await runCli(['cost', samplePath('docker-linear'), 'stack.json', '--records', 't.bin', '--top', '2', '--json'], {
      files: { 't.bin': trace, 'stack.json': stack },
    });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { records: number; stacks: { file: string; filters: number; perFilter: number[]; syscalls: unknown[] }[] };
    expect(report.records).toBe(20_000);
    expect(report.stacks.map((s) => [s.file.split('/').at(-1), s.filters, s.perFilter.length, s.syscalls.length])).toEqual([
      ['docker-linear.bpf', 1, 1, 2],
      ['stack.json', 2, 2, 2],
    ]);
  });

  it('passes its own baseline, and fails a doctored one with a line per figure that rose', async () => {
    const files = { 't.bin': trace };
    const update = await runCli(['cost', samplePath('docker-linear'), '--records', 't.bin', '--update-baseline', 'base.json'], { files });
    expect(update.code).toBe(0);
    const baseline = JSON.parse(new TextDecoder().decode(update.files.get('base.json')!)) as {
      tolerance: number;
      costs: Record<string, { mean: number; syscalls: Record<string, number> }>;
    };
    const [name] = Object.keys(baseline.costs);
    const passed = await runCli(['cost', samplePath('docker-linear'), '--records', 't.bin', '--gate', 'base.json'], {
      files: { ...files, 'base.json': JSON.stringify(baseline) },
    });
    expect({ code: passed.code, stderr: passed.stderr }).toEqual({ code: 0, stderr: '' });
    const figures = baseline.costs[name!]!;
    const doctored = { ...baseline, costs: { [name!]: { mean: figures.mean / 2, syscalls: { ...figures.syscalls, 'x86_64 socket': 100 } } } };
    const failed = await runCli(['cost', samplePath('docker-linear'), '--records', 't.bin', '--gate', 'base.json'], {
      files: { ...files, 'base.json': JSON.stringify(doctored) },
    });
    expect(failed.code).toBe(1);
    expect(failed.stderr.split('\n').filter(Boolean)).toEqual([
      `cbpf: cost gate: ${name}: ${figures.mean.toFixed(2)} instructions per syscall, baseline ${(figures.mean / 2).toFixed(2)} (+100%)`,
      `cbpf: cost gate: ${name}: x86_64 socket: 302.00 instructions per call, baseline 100.00 (+202%)`,
      'cbpf: cost gate: 2 figures above base.json',
    ]);
  });

  it('refuses a baseline that is not one, in one line', async () => {
    const run = await runCli(['cost', samplePath('docker-linear'), '--records', 't.bin', '--gate', 'base.json'], {
      files: { 't.bin': trace, 'base.json': '{"ratios": {}}' },
    });
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 1,
      stderr: 'cbpf: base.json: not a cost baseline (expected {"tolerance": number, "costs": {...}}, as --update-baseline writes)\n',
    });
  });

  kernelIt('calibrates on this kernel: timings at every path length, with and without the cache, and an estimate per filter', async () => {
    const run = await runCli(['cost', samplePath('docker-linear'), '--records', 't.bin', '--calibrate', '--json'], { files: { 't.bin': trace } });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      calibration: { points: { instructions: number; cached: boolean; ns: number }[]; r2: number };
      stacks: { ns: number }[];
    };
    const { points } = report.calibration;
    expect(points.map((p) => `${p.instructions}${p.cached ? 'c' : ''}`)).toEqual(CALIBRATION_LENGTHS.flatMap((n) => [`${n}`, `${n}c`]));
    expect(points.every((p) => p.ns > 0)).toBe(true);
    expect(Number.isFinite(report.calibration.r2) && Number.isFinite(report.stacks[0]!.ns)).toBe(true);
  });
});
