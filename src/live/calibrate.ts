/**
 * What a filter's instructions cost in this machine's kernel: real getppid
 * calls timed under filters of known path length (native/live.c calibrate),
 * with the kernel's action cache defeated and with it serving the call, and a
 * straight line fitted through them.
 */
import { spawnSync } from 'node:child_process';
import { nativeHelper } from '../native.js';
import { LiveError } from './dump.js';

/** The path lengths timed: no filter, then filters whose path for getppid runs this many instructions. */
export const CALIBRATION_LENGTHS: readonly number[] = [0, 2, 50, 100, 200, 400, 800, 1600];
/** getppid calls per measurement: enough to see a few nanoseconds, few enough for a second or two in all. */
const CALLS = 200_000;

/** One timing: nanoseconds per syscall under a filter whose path runs `instructions` instructions. */
export interface CalibrationPoint {
  readonly instructions: number;
  readonly cached: boolean;
  readonly ns: number;
}

/** ns = base + perInstruction × instructions, fitted to the uncached points, and how well it fits. */
export interface Calibration {
  readonly points: readonly CalibrationPoint[];
  /** A syscall with no filter at all. */
  readonly noFilterNs: number;
  /** The fitted line's value at 0 instructions: a syscall's cost with a filter to run, before its instructions. */
  readonly baseNs: number;
  readonly perInstructionNs: number;
  /** The fit's coefficient of determination over the uncached points (1: a perfect line). */
  readonly r2: number;
  /** The mean of the cached points: a syscall that skips its filters. */
  readonly cachedNs: number;
}

/** The least-squares line through `points`, and its r². */
export function fitLine(points: readonly { x: number; y: number }[]): { intercept: number; slope: number; r2: number } {
  const n = points.length;
  const mean = (f: (p: { x: number; y: number }) => number): number => points.reduce((sum, p) => sum + f(p), 0) / n;
  const mx = mean((p) => p.x);
  const my = mean((p) => p.y);
  const sxy = points.reduce((sum, p) => sum + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((sum, p) => sum + (p.x - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = my - slope * mx;
  const total = points.reduce((sum, p) => sum + (p.y - my) ** 2, 0);
  const residual = points.reduce((sum, p) => sum + (p.y - (intercept + slope * p.x)) ** 2, 0);
  return { intercept, slope, r2: total === 0 ? 1 : 1 - residual / total };
}

/**
 * Times getppid under filters of CALIBRATION_LENGTHS instructions, with and
 * without the kernel's cache, and fits the line.
 * @throws NativeUnavailable when the helper cannot run here; LiveError when it fails.
 */
export function calibrate(): Calibration {
  const result = spawnSync(nativeHelper('live'), ['calibrate', String(CALLS), ...CALIBRATION_LENGTHS.map(String)], { encoding: 'utf8' });
  if (result.error) throw new LiveError(`cbpf-live calibrate: ${result.error.message}`);
  if (result.status !== 0) throw new LiveError(result.stderr.trim().replace(/^cbpf-live: /, '') || `cbpf-live calibrate exited with ${result.status}`);
  const points = result.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [instructions, variant, ns] = line.split(' ');
      return { instructions: Number(instructions), cached: variant === 'cached', ns: Number(ns) };
    });
  // The line goes through filters that run (0: no filter at all; 1 instruction is `ret ALLOW`, which the cache serves).
  const uncached = points.filter((p) => !p.cached && p.instructions >= 2);
  const { intercept, slope, r2 } = fitLine(uncached.map((p) => ({ x: p.instructions, y: p.ns })));
  const cached = points.filter((p) => p.cached && p.instructions > 0);
  const noFilter = points.find((p) => p.instructions === 0)?.ns ?? Number.NaN;
  return { points, noFilterNs: noFilter, baseNs: intercept, perInstructionNs: slope, r2, cachedNs: cached.reduce((sum, p) => sum + p.ns, 0) / cached.length };
}
