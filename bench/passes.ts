/**
 * Timed passes of one competitor in the calling thread, with tinybench: the
 * bench's main thread times its in-process competitors with it, and the
 * in-place thread (in-place.ts) its own.
 */
import { Bench } from 'tinybench';

/** What timePasses runs: `run` decides `records` records. */
export interface Passes {
  readonly name: string;
  readonly records: number;
  readonly run: () => void;
}

/** `passes` timed passes of `task` in a row, after untimed ones for `warmUpMs` (one at least): ns per decision of each. */
export async function timePasses(task: Passes, passes: number, warmUpMs: number): Promise<number[]> {
  const bench = new Bench({ iterations: passes, time: 0, warmupIterations: 1, warmupTime: warmUpMs, retainSamples: true });
  bench.add(task.name, task.run);
  await bench.run();
  const result = bench.getTask(task.name)!.result as { latency?: { samples?: readonly number[] }; error?: Error };
  if (result.error) throw result.error;
  return (result.latency?.samples ?? []).map((ms) => (ms * 1e6) / task.records);
}
