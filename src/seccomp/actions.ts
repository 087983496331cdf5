/**
 * Seccomp filter return values: an action in the top 16 bits and data in the
 * low 16 (`SECCOMP_RET_ACTION_FULL` / `SECCOMP_RET_DATA`).
 */

/** The eight actions, by name, with their values (data 0). */
export const ACTIONS = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** Name of one of the eight actions. */
export type ActionName = keyof typeof ACTIONS;

/** `SECCOMP_RET_ACTION_FULL`: the action bits of a return value. */
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
/** `SECCOMP_RET_DATA`: the data bits of a return value. */
export const SECCOMP_RET_DATA = 0x0000ffff;

/**
 * The kernel's `SECCOMP_RET_*` constants, for C and bpf_asm sources.
 * `SECCOMP_RET_KILL` is the old name of KILL_THREAD; `SECCOMP_RET_ACTION` the
 * old, narrower action mask.
 */
export const SECCOMP_RET_CONSTANTS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(Object.entries(ACTIONS).map(([name, value]) => [`SECCOMP_RET_${name}`, value])),
  SECCOMP_RET_KILL: ACTIONS.KILL_THREAD,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ACTION: 0x7fff0000,
  SECCOMP_RET_DATA,
};

const nameByValue = new Map<number, ActionName>(Object.entries(ACTIONS).map(([name, value]) => [value, name as ActionName]));

/** The action a return value names, or undefined for a value that is none of the eight. */
export function actionName(value: number): ActionName | undefined {
  return nameByValue.get((value & SECCOMP_RET_ACTION_FULL) >>> 0);
}

/**
 * A return value as bpf_asm sugar: `ALLOW`, `ERRNO(13)`, `TRAP(5)`, `KILL_PROCESS`;
 * data is shown whenever it is not 0, so the text gives back the exact value.
 * Undefined for a value that is none of the eight actions.
 */
export function formatAction(value: number): string | undefined {
  const name = actionName(value);
  if (name === undefined) return undefined;
  const data = value & SECCOMP_RET_DATA;
  return data === 0 ? name : `${name}(${data})`;
}

/** A return value as exactly eight hex digits: `0x7fff0000`. */
export function hexValue(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

/** A return value for a comment: the action, or the raw value and how the kernel treats it. */
export function describeReturnValue(value: number): string {
  return formatAction(value) ?? `0x${(value >>> 0).toString(16)}: not an action, acts as KILL_PROCESS`;
}

/** The action bits of a return value read as a signed 32-bit number, the kernel's `ACTION_ONLY`. */
const actionRank = (value: number): number => (value & SECCOMP_RET_ACTION_FULL) | 0;

/**
 * What a stack of filters decides, given each filter's return value in
 * installation order (oldest first). The kernel runs every filter, newest
 * first, starting from ALLOW; a value replaces the result only when its action
 * ranks strictly lower (signed compare of the top 16 bits). So KILL_PROCESS
 * beats everything, the newest filter wins a tie with its data, and when every
 * filter allows, the result is exactly 0x7fff0000 (their data is dropped).
 */
export function resolveStack(values: readonly number[]): number {
  let result: number = ACTIONS.ALLOW;
  for (let i = values.length - 1; i >= 0; i--) {
    if (actionRank(values[i]!) < actionRank(result)) result = values[i]!;
  }
  return result >>> 0;
}

/** `MAX_ERRNO`: ERRNO data above it is clamped. */
export const MAX_ERRNO = 4095;

/** What the syscall sees when the (resolved) filter value is `value`. */
export interface Effect {
  /** Whether the syscall runs. */
  readonly runs: boolean;
  /** One sentence for people. */
  readonly description: string;
}

/**
 * What happens to the syscall (SPEC section 5), for a task with no tracer and
 * no user-notification listener. Any value that is not one of the eight
 * actions acts as KILL_PROCESS.
 */
export function describeEffect(value: number, errnoName: (n: number) => string | undefined = () => undefined): Effect {
  const data = value & SECCOMP_RET_DATA;
  switch (actionName(value)) {
    case 'ALLOW':
      return { runs: true, description: 'the syscall runs' };
    case 'LOG':
      return { runs: true, description: 'the syscall runs and is logged' };
    case 'ERRNO': {
      if (data === 0) return { runs: false, description: 'the syscall does not run and returns 0' };
      const errno = Math.min(data, MAX_ERRNO);
      const name = errnoName(errno);
      return {
        runs: false,
        description: `the syscall does not run and returns -${errno}${name ? ` (${name})` : ''}${data > MAX_ERRNO ? `, clamped from ${data}` : ''}`,
      };
    }
    case 'TRAP':
      return { runs: false, description: `the syscall does not run; the thread gets SIGSYS with si_errno = ${data}` };
    case 'TRACE':
      return { runs: false, description: 'with no tracer attached, the syscall does not run and returns -38 (ENOSYS)' };
    case 'USER_NOTIF':
      return { runs: false, description: 'with no listener, the syscall does not run and returns -38 (ENOSYS)' };
    case 'KILL_THREAD':
      return { runs: false, description: 'the thread is killed by SIGSYS (the whole process, if it is the last thread)' };
    case 'KILL_PROCESS':
      return { runs: false, description: 'the process is killed by SIGSYS' };
    default:
      return { runs: false, description: 'not an action: the process is killed by SIGSYS, as for KILL_PROCESS' };
  }
}
