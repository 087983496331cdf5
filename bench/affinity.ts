/**
 * The competitors a ratio compares, on one CPU. On these shared machines one
 * CPU can run the same code far slower than the other for minutes at a time
 * (the host's load beside it), so a competitor timed on another CPU than the
 * one it is compared with moved the ratio by that much (docs/benchmarks.md).
 * While pinned, the calling thread runs on one CPU, and a native competitor
 * it starts inherits that CPU; V8's own threads (compilers, the garbage
 * collector) keep every CPU.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';

/** The CPU the competitors ran on, or why they could not be pinned. */
export type Pinning = { readonly cpu: number } | { readonly unavailable: string };

/** Runs taskset on thread `tid`; its output. */
function taskset(tid: string, ...args: string[]): string {
  return execFileSync('taskset', [...args, tid], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Runs `work` with the calling thread pinned to the first CPU it may run on,
 * then gives the thread back the CPUs it had. Where that cannot be done (no
 * /proc/thread-self, no taskset), `work` runs unpinned and is told why.
 */
export async function onOneCpu<T>(work: (pinning: Pinning) => Promise<T> | T): Promise<T> {
  let tid: string;
  let cpus: string;
  let cpu: number;
  try {
    tid = readlinkSync('/proc/thread-self').split('/').at(-1)!; // "PID/task/TID"
    const listed = taskset(tid, '-c', '-p'); // "pid 123's current affinity list: 0,1"
    cpus = listed.slice(listed.lastIndexOf(':') + 1).trim();
    cpu = Number.parseInt(cpus, 10); // the first of a list such as "0,1" or "2-5"
    taskset(tid, '-c', '-p', String(cpu));
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    return work({
      unavailable:
        code === 'ENOENT' ? `${message.includes('taskset') ? 'taskset' : '/proc/thread-self'} not found` : `taskset failed: ${message.split('\n')[0]}`,
    });
  }
  try {
    return await work({ cpu });
  } finally {
    taskset(tid, '-c', '-p', cpus);
  }
}
