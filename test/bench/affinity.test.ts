import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { onOneCpu } from '../../bench/affinity.js';
import { itWhenAvailable } from '../system-deps.js';

/** This thread's id: the last part of /proc/thread-self ("PID/task/TID"). */
const threadId = (): string => readlinkSync('/proc/thread-self').split('/').at(-1)!;
/** The CPUs thread `tid` may run on, as taskset lists them. */
const cpusOf = (tid: string): string => execFileSync('taskset', ['-c', '-p', tid], { encoding: 'utf8' }).split(':').at(-1)!.trim();

function tasksetReason(): string | undefined {
  try {
    cpusOf(threadId());
    return undefined;
  } catch {
    return 'no taskset or /proc/thread-self here (util-linux, Linux)';
  }
}
const tasksetMissing = tasksetReason();
if (tasksetMissing) console.warn(`SKIPPING tests: ${tasksetMissing}`);

describe('the competitors on one CPU (bench/affinity.ts)', () => {
  itWhenAvailable(tasksetMissing, 'pins the calling thread and the processes it starts to its first CPU, then gives its CPUs back', async () => {
    const tid = threadId();
    const before = cpusOf(tid);
    const first = Number.parseInt(before, 10);
    const inside = await onOneCpu((pinning) => ({
      pinning,
      thread: cpusOf(tid),
      child: execFileSync('sh', ['-c', 'taskset -c -p $$'], { encoding: 'utf8' }).split(':').at(-1)!.trim(),
    }));
    expect(inside).toEqual({ pinning: { cpu: first }, thread: String(first), child: String(first) });
    expect(cpusOf(tid)).toBe(before);
  });

  itWhenAvailable(tasksetMissing, 'gives the CPUs back when the work fails', async () => {
    const tid = threadId();
    const before = cpusOf(tid);
    await expect(
      onOneCpu(() => {
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(cpusOf(tid)).toBe(before);
  });
});
