import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIONS, describeEffect, describeReturnValue, formatAction, resolveStack } from '../../src/seccomp/actions.js';
import { errnoName } from '../../src/seccomp/errno.js';

describe('actions', () => {
  it.each([
    [0x7fff0000, 'ALLOW'],
    [0x0005000d, 'ERRNO(13)'],
    [0x00030005, 'TRAP(5)'],
    [0x80000000, 'KILL_PROCESS'],
    [0x00000000, 'KILL_THREAD'],
    [0x7fff0001, 'ALLOW(1)'],
  ])('formats 0x%s as %s', (value, text) => {
    expect(formatAction(value)).toBe(text);
  });

  it('shows a value that is no action as such', () => {
    expect(formatAction(0x7ffe0000)).toBeUndefined();
    expect(describeReturnValue(0x7ffe0000)).toBe('0x7ffe0000: not an action, acts as KILL_PROCESS');
  });
});

describe('resolveStack', () => {
  it('is ALLOW for an empty stack', () => {
    expect(resolveStack([])).toBe(ACTIONS.ALLOW);
  });

  it('picks the value with the lowest signed action, the newest among equals', () => {
    const value = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 8 }), (values) => {
        const rank = (v: number) => (v & 0xffff0000) | 0;
        const best = Math.min(...values.map(rank));
        const result = resolveStack(values);
        if (best >= rank(ACTIONS.ALLOW)) expect(result).toBe(ACTIONS.ALLOW);
        else expect(result).toBe(values[values.map(rank).lastIndexOf(best)]);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('describeEffect', () => {
  it.each([
    [0x7fff0000, true, 'the syscall runs'],
    [0x7ffc0000, true, 'the syscall runs and is logged'],
    [0x0005000d, false, 'the syscall does not run and returns -13 (EACCES)'],
    [0x00050000, false, 'the syscall does not run and returns 0'],
    [0x0005ffff, false, 'the syscall does not run and returns -4095, clamped from 65535'],
    [0x00030007, false, 'the syscall does not run; the thread gets SIGSYS with si_errno = 7'],
    [0x7ff00000, false, 'with no tracer attached, the syscall does not run and returns -38 (ENOSYS)'],
    [0x7fc00000, false, 'with no listener, the syscall does not run and returns -38 (ENOSYS)'],
    [0x00000000, false, 'the thread is killed by SIGSYS (the whole process, if it is the last thread)'],
    [0x80000000, false, 'the process is killed by SIGSYS'],
    [0x7ffe0000, false, 'not an action: the process is killed by SIGSYS, as for KILL_PROCESS'],
  ])('0x%s: runs %s, "%s"', (value, runs, description) => {
    expect(describeEffect(value, errnoName)).toEqual({ runs, description });
  });
});
