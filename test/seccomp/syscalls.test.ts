import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ARCHES, archByName } from '../../src/seccomp/arches.js';
import { abiOf, syscallName, syscallNumber } from '../../src/seccomp/syscalls.js';
import { itWhenAvailable, libseccompMissing } from '../system-deps.js';

const arch = (name: string) => archByName(name)!;

describe('syscall tables', () => {
  it.each([
    ['x86_64', 'read', 0],
    ['x86_64', 'openat', 257],
    ['i386', 'openat', 295],
    ['aarch64', 'openat', 56],
    ['x32', 'read', 0x40000000],
    ['riscv64', 'openat', 56],
    ['loongarch64', 'openat', 56],
    ['loongarch64', 'clone3', 435],
    ['arm', 'openat', 322],
    ['s390x', 'openat', 288],
    ['ppc64le', 'openat', 286],
    ['mips64el', 'openat', 5247],
    ['mipsel', 'openat', 4288],
  ])('%s %s = %i', (archName, name, nr) => {
    expect(syscallNumber(arch(archName), name)).toBe(nr);
    expect(syscallName(arch(archName), nr)).toBe(name);
  });

  it('reads x86_64 numbers with the x32 bit from the x32 table, but not negative ones', () => {
    expect(syscallName(arch('x86_64'), 0x40000101)).toBe('openat');
    expect(abiOf(arch('x86_64'), 0x40000101).name).toBe('x32');
    expect(abiOf(arch('x86_64'), 0xffffffff).name).toBe('x86_64');
  });

  it('has a table for every arch', () => {
    expect(ARCHES.filter((a) => a.table === undefined).map((a) => a.name)).toEqual([]);
  });

  it('does not know names an arch lacks', () => {
    expect(syscallNumber(arch('aarch64'), 'open')).toBeUndefined();
    expect(syscallNumber(arch('x86_64'), 'toString')).toBeUndefined();
  });

  itWhenAvailable(libseccompMissing, 'the committed tables are what scripts/gen-syscall-tables.js makes', () => {
    expect(execFileSync('node', ['scripts/gen-syscall-tables.js', '--check']).toString()).toContain('up to date');
  });
});
