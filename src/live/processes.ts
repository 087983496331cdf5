/**
 * The processes on this machine and their seccomp state, from /proc: no
 * privilege needed (the kernel shows every process's `Seccomp` and
 * `Seccomp_filters` lines to everyone).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A process's seccomp mode, as /proc/PID/status says it (0, 1, 2). */
export type SeccompMode = 'disabled' | 'strict' | 'filter';

/** One process's seccomp state. */
export interface SeccompProcess {
  readonly pid: number;
  /** Its command name (/proc/PID/status `Name:`, at most 15 characters). */
  readonly command: string;
  readonly mode: SeccompMode;
  /** How many filters it runs (`Seccomp_filters:`, Linux 5.9+; for older kernels, 0 or 1 said as 1 when in filter mode). */
  readonly filters: number;
}

const MODES: readonly SeccompMode[] = ['disabled', 'strict', 'filter'];

/** The seccomp state of process `pid`, or undefined when it is gone (or not readable). */
export function seccompProcess(pid: number): SeccompProcess | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined; // it exited between the listing and the read
  }
  const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1];
  const mode = MODES[Number(field('Seccomp') ?? 0)] ?? 'disabled';
  const counted = field('Seccomp_filters');
  return { pid, command: field('Name') ?? '', mode, filters: counted === undefined ? (mode === 'filter' ? 1 : 0) : Number(counted) };
}

/** Every process of this machine in seccomp strict or filter mode, by pid. */
export function seccompProcesses(): SeccompProcess[] {
  return readdirSync('/proc')
    .filter((name) => /^[0-9]+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b)
    .flatMap((pid) => {
      const found = seccompProcess(pid);
      return found && found.mode !== 'disabled' ? [found] : [];
    });
}
