/**
 * resolveProfile (src/profile/resolve.ts) through the public entry points of
 * src/profile/index.ts: what Docker (moby 20.10.24) or podman (containers/common
 * 0.50.1) keeps of a profile for a host arch, capabilities and kernel, and
 * what runc 1.1.5 or crun 1.8.1 then adds to libseccomp. Facts cited:
 * /tmp/research/resolution.md (engines) and /tmp/research/runtimes.md (runtimes).
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/errors.js';
import {
  buildFilter,
  contextOf,
  DOCKER_CAPS,
  knownSyscall,
  PODMAN_CAPS,
  type Profile,
  ProfileContextError,
  type ProfileContextOptions,
  parseProfile,
  type ResolvedProfile,
  resolveProfile,
} from '../../src/profile/index.js';
import { CAPABILITIES, profileContext } from '../../src/profile/resolve.js';
import { thrownBy } from '../helpers.js';

const PROFILES = join(import.meta.dirname, '../../profiles');
const DOCKER = parseProfile(readFileSync(join(PROFILES, 'docker-20.10.24.json'), 'utf8'));
const COMMON = parseProfile(readFileSync(join(PROFILES, 'containers-common-0.50.1.json'), 'utf8'));

const ALLOW = 0x7fff0000;
const ERRNO = (errno: number): number => 0x00050000 | errno;
const EPERM = 1;
const ENOSYS = 38;

/** `profile` (parsed, or a profile's fields) resolved for `options`, on a 6.1 kernel unless they say otherwise. */
function resolve(profile: Profile | Record<string, unknown>, options: ProfileContextOptions = {}): ResolvedProfile {
  const parsed = 'runtimeSpec' in profile ? (profile as Profile) : parseProfile(JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', ...profile }));
  return resolveProfile(parsed, contextOf({ kernel: '6.1', ...options }), knownSyscall);
}

const entry = (r: ResolvedProfile, source: string) => r.entries.find((e) => e.source === source)!;
const archNames = (r: ResolvedProfile): string[] => r.arches.map((a) => a.arch.name);
const rulesFor = (r: ResolvedProfile, name: string) => r.rules.filter((rule) => rule.name === name);

function contextError(options: ProfileContextOptions): ProfileContextError {
  const error = thrownBy(() => contextOf({ kernel: '6.1', ...options }));
  expect(error).toBeInstanceOf(ProfileContextError);
  return error as ProfileContextError;
}

function resolveError(profile: Record<string, unknown>, options: ProfileContextOptions = {}): ParseError {
  const error = thrownBy(() => resolve(profile, options));
  expect(error).toBeInstanceOf(ParseError);
  return error as ParseError;
}

describe('includes/excludes caps: the Docker profile under Docker (resolution.md §4)', () => {
  it.each([
    { what: 'default caps: CAP_SYS_ADMIN entry dropped', options: {}, source: 'syscalls[13]', dropped: 'caps-not-included' },
    { what: 'default caps: clone with flags kept (excludes CAP_SYS_ADMIN)', options: {}, source: 'syscalls[14]', dropped: undefined },
    { what: 'default caps: clone3 ERRNO(ENOSYS) kept', options: {}, source: 'syscalls[16]', dropped: undefined },
    { what: 'default caps: CAP_DAC_READ_SEARCH entry dropped', options: {}, source: 'syscalls[12]', dropped: 'caps-not-included' },
    { what: 'default caps: chroot kept (CAP_SYS_CHROOT is a Docker default)', options: {}, source: 'syscalls[19]', dropped: undefined },
    { what: 'CAP_SYS_ADMIN added: its entry kept', options: { capAdd: ['CAP_SYS_ADMIN'] }, source: 'syscalls[13]', dropped: undefined },
    { what: 'CAP_SYS_ADMIN added: clone with flags excluded', options: { capAdd: ['CAP_SYS_ADMIN'] }, source: 'syscalls[14]', dropped: 'caps-excluded' },
    { what: 'CAP_SYS_ADMIN added: clone3 ERRNO excluded', options: { capAdd: ['CAP_SYS_ADMIN'] }, source: 'syscalls[16]', dropped: 'caps-excluded' },
    { what: 'CAP_SYS_ADMIN added: excludes checked before includes', options: { capAdd: ['CAP_SYS_ADMIN'] }, source: 'syscalls[15]', dropped: 'caps-excluded' },
    { what: 'default caps: s390 clone arch-gated', options: {}, source: 'syscalls[15]', dropped: 'arch-not-included' },
    { what: 'sys_chroot dropped: chroot entry dropped', options: { capDrop: ['sys_chroot'] }, source: 'syscalls[19]', dropped: 'caps-not-included' },
    { what: '--caps none: chroot entry dropped', options: { caps: 'none' }, source: 'syscalls[19]', dropped: 'caps-not-included' },
    { what: 'ALL added: CAP_SYSLOG entry kept', options: { capAdd: ['ALL'] }, source: 'syscalls[27]', dropped: undefined },
    { what: 'ALL added: clone with flags excluded', options: { capAdd: ['ALL'] }, source: 'syscalls[14]', dropped: 'caps-excluded' },
  ])('$what', ({ options, source, dropped }) => {
    expect(entry(resolve(DOCKER, options), source).dropped).toBe(dropped);
  });

  it('without CAP_SYS_ADMIN: clone only with its flags mask, clone3 gets ERRNO(ENOSYS)', () => {
    const r = resolve(DOCKER);
    expect(rulesFor(r, 'clone')).toEqual([
      { name: 'clone', action: ALLOW, conditions: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: 2114060288n, valueTwo: 0n }], source: 'syscalls[14]' },
    ]);
    expect(rulesFor(r, 'clone3')).toEqual([{ name: 'clone3', action: ERRNO(ENOSYS), conditions: [], source: 'syscalls[16]' }]);
    expect(rulesFor(r, 'mount')).toEqual([]);
  });

  it('with CAP_SYS_ADMIN: clone, clone3 and mount allowed without conditions, from syscalls[13]', () => {
    const r = resolve(DOCKER, { capAdd: ['CAP_SYS_ADMIN'] });
    for (const name of ['clone', 'clone3', 'mount']) expect(rulesFor(r, name)).toEqual([{ name, action: ALLOW, conditions: [], source: 'syscalls[13]' }]);
  });

  it('podman keeps the paired ERRNO(EPERM) entries of containers-common only without the cap', () => {
    const without = resolve(COMMON, { engine: 'podman' });
    expect([entry(without, 'syscalls[14]').dropped, entry(without, 'syscalls[15]').dropped]).toEqual(['caps-not-included', undefined]);
    expect(rulesFor(without, 'bpf')).toEqual([{ name: 'bpf', action: ERRNO(EPERM), conditions: [], source: 'syscalls[15]' }]);
    const withCap = resolve(COMMON, { engine: 'podman', capAdd: ['sys_admin'] });
    expect([entry(withCap, 'syscalls[14]').dropped, entry(withCap, 'syscalls[15]').dropped]).toEqual([undefined, 'caps-excluded']);
    expect(rulesFor(withCap, 'bpf')).toEqual([{ name: 'bpf', action: ALLOW, conditions: [], source: 'syscalls[14]' }]);
  });
});

describe('minKernel: Docker compares major.minor, podman ignores it (resolution.md §4, §6)', () => {
  it.each([
    { what: 'docker, 4.7: ptrace dropped', engine: 'docker', kernel: '4.7', dropped: 'kernel-too-old' },
    { what: 'docker, 3.19: ptrace dropped', engine: 'docker', kernel: '3.19', dropped: 'kernel-too-old' },
    { what: 'docker, 4.7.10-1-amd64 (patch ignored): ptrace dropped', engine: 'docker', kernel: '4.7.10-1-amd64', dropped: 'kernel-too-old' },
    { what: 'docker, 4.8: ptrace kept', engine: 'docker', kernel: '4.8', dropped: undefined },
    { what: 'docker, 4.10 (numeric, not string, comparison): ptrace kept', engine: 'docker', kernel: '4.10', dropped: undefined },
    { what: 'docker, 5.0: ptrace kept', engine: 'docker', kernel: '5.0', dropped: undefined },
    { what: 'docker, 6.1.0-18-amd64: ptrace kept', engine: 'docker', kernel: '6.1.0-18-amd64', dropped: undefined },
    { what: 'podman, 4.7: ptrace kept (no minKernel in containers-common)', engine: 'podman', kernel: '4.7', dropped: undefined },
    { what: 'podman, 2.6: ptrace kept', engine: 'podman', kernel: '2.6', dropped: undefined },
  ])('$what', ({ engine, kernel, dropped }) => {
    const r = resolve(DOCKER, { engine, kernel });
    expect(entry(r, 'syscalls[1]').dropped).toBe(dropped);
    expect(rulesFor(r, 'ptrace')).toHaveLength(dropped ? 0 : 1);
  });

  it.each([
    { what: 'docker, at excludes.minKernel: dropped', engine: 'docker', kernel: '5.8', dropped: 'kernel-excluded' },
    { what: 'docker, above it: dropped', engine: 'docker', kernel: '5.10', dropped: 'kernel-excluded' },
    { what: 'docker, below it: kept', engine: 'docker', kernel: '5.7', dropped: undefined },
    { what: 'podman, above it: kept', engine: 'podman', kernel: '6.1', dropped: undefined },
  ])('excludes.minKernel 5.8: $what', ({ engine, kernel, dropped }) => {
    const r = resolve({ syscalls: [{ names: ['openat2'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.8' } }] }, { engine, kernel });
    expect(entry(r, 'syscalls[0]').dropped).toBe(dropped);
  });
});

describe('arches: archMap for the host, and includes/excludes arches (resolution.md §2, §3)', () => {
  const PPC_X86_ARM_MAP = {
    archMap: [
      { architecture: 'SCMP_ARCH_PPC64LE', subArchitectures: ['SCMP_ARCH_PPC64'] },
      { architecture: 'SCMP_ARCH_X86', subArchitectures: ['SCMP_ARCH_X86_64'] },
      { architecture: 'SCMP_ARCH_ARM', subArchitectures: ['SCMP_ARCH_AARCH64'] },
    ],
  };
  it.each([
    { what: 'Docker profile, docker, x86_64', profile: DOCKER, engine: 'docker', host: 'x86_64', arches: ['x86_64', 'i386', 'x32'] },
    { what: 'Docker profile, docker, aarch64', profile: DOCKER, engine: 'docker', host: 'aarch64', arches: ['aarch64', 'arm'] },
    { what: 'Docker profile, docker, s390x', profile: DOCKER, engine: 'docker', host: 's390x', arches: ['s390x', 's390'] },
    { what: 'Docker profile, docker, mips64', profile: DOCKER, engine: 'docker', host: 'mips64', arches: ['mips64', 'mips', 'mips64n32'] },
    { what: 'Docker profile, docker, mips64el', profile: DOCKER, engine: 'docker', host: 'mips64el', arches: ['mips64el', 'mipsel', 'mipsel64n32'] },
    { what: 'Docker profile, docker, ppc64le (no archMap entry)', profile: DOCKER, engine: 'docker', host: 'ppc64le', arches: ['ppc64le'] },
    { what: 'Docker profile, docker, riscv64', profile: DOCKER, engine: 'docker', host: 'riscv64', arches: ['riscv64'] },
    { what: 'containers-common, podman, x86_64', profile: COMMON, engine: 'podman', host: 'x86_64', arches: ['x86_64', 'i386', 'x32'] },
    { what: 'containers-common, podman, aarch64', profile: COMMON, engine: 'podman', host: 'aarch64', arches: ['aarch64', 'arm'] },
    { what: 'containers-common, podman, s390x', profile: COMMON, engine: 'podman', host: 's390x', arches: ['s390x', 's390'] },
    { what: 'containers-common, podman, mips64', profile: COMMON, engine: 'podman', host: 'mips64', arches: ['mips64', 'mips', 'mips64n32'] },
    { what: 'containers-common, podman, ppc64le', profile: COMMON, engine: 'podman', host: 'ppc64le', arches: ['ppc64le'] },
    { what: 'a PPC64LE archMap entry, docker, ppc64le: used', profile: PPC_X86_ARM_MAP, engine: 'docker', host: 'ppc64le', arches: ['ppc64le', 'ppc64'] },
    { what: 'a PPC64LE archMap entry, podman, ppc64le: not in its table', profile: PPC_X86_ARM_MAP, engine: 'podman', host: 'ppc64le', arches: ['ppc64le'] },
    { what: 'an X86 archMap entry, docker, i386: used', profile: PPC_X86_ARM_MAP, engine: 'docker', host: 'i386', arches: ['i386', 'x86_64'] },
    { what: 'an X86 archMap entry, podman, i386: not in its table', profile: PPC_X86_ARM_MAP, engine: 'podman', host: 'i386', arches: ['i386'] },
    { what: 'an ARM archMap entry, docker, arm: used', profile: PPC_X86_ARM_MAP, engine: 'docker', host: 'arm', arches: ['arm', 'aarch64'] },
    { what: 'an ARM archMap entry, podman, arm: not in its table', profile: PPC_X86_ARM_MAP, engine: 'podman', host: 'arm', arches: ['arm'] },
    { what: 'archMap under engine none: ignored', profile: DOCKER, engine: 'none', host: 'x86_64', arches: ['x86_64'] },
  ])('$what', ({ profile, engine, host, arches }) => {
    const r = resolve(profile, { engine, hostArch: host });
    expect(archNames(r)).toEqual(arches);
    // runc 1.1.5's stub has sections for the listed arches only (runtimes.md §2): none when archMap gives nothing.
    expect(r.stubArches.map((a) => a.arch.name)).toEqual(arches.length === 1 ? [] : arches);
  });

  it('takes a flat architectures list as it is, the host first in the filter and the list order in the stub', () => {
    const r = resolve({ architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'] }, { hostArch: 'x86_64' });
    expect(archNames(r)).toEqual(['x86_64', 'i386']);
    expect(r.stubArches.map((a) => a.arch.name)).toEqual(['i386', 'x86_64']);
    const other = resolve({ architectures: ['SCMP_ARCH_X86'] }, { hostArch: 'aarch64', engine: 'podman' });
    expect(archNames(other)).toEqual(['aarch64', 'i386']);
  });

  it.each([
    { what: 'x86_64: arch_prctl (amd64, x32) kept', host: 'x86_64', source: 'syscalls[9]', dropped: undefined },
    { what: 'x86_64: sync_file_range2 (ppc64le) dropped', host: 'x86_64', source: 'syscalls[7]', dropped: 'arch-not-included' },
    { what: 'i386: modify_ldt (x86) kept', host: 'i386', source: 'syscalls[10]', dropped: undefined },
    { what: 'i386: arch_prctl dropped', host: 'i386', source: 'syscalls[9]', dropped: 'arch-not-included' },
    { what: 'aarch64: the arm entry (arm64) kept', host: 'aarch64', source: 'syscalls[8]', dropped: undefined },
    { what: 'aarch64: arch_prctl dropped', host: 'aarch64', source: 'syscalls[9]', dropped: 'arch-not-included' },
    { what: 'ppc64le: sync_file_range2 kept', host: 'ppc64le', source: 'syscalls[7]', dropped: undefined },
    { what: 's390x: s390 entry kept', host: 's390x', source: 'syscalls[11]', dropped: undefined },
    { what: 's390x: clone with flags on arg 0 excluded', host: 's390x', source: 'syscalls[14]', dropped: 'arch-excluded' },
    { what: 's390x: clone with flags on arg 1 kept', host: 's390x', source: 'syscalls[15]', dropped: undefined },
    { what: 'mips64: clone3 ENOSYS(38) excluded', host: 'mips64', source: 'syscalls[16]', dropped: 'arch-excluded' },
    { what: 'mips64: clone3 ENOSYS(89) kept', host: 'mips64', source: 'syscalls[17]', dropped: undefined },
    { what: 'mipsel: the Debian "mipsel" name matches', host: 'mipsel', source: 'syscalls[17]', dropped: undefined },
    { what: 'riscv64 (no Go native name in moby): arch_prctl dropped', host: 'riscv64', source: 'syscalls[9]', dropped: 'arch-not-included' },
    { what: 'riscv64: clone3 ENOSYS(38) kept', host: 'riscv64', source: 'syscalls[16]', dropped: undefined },
  ])('Docker profile under docker on $what', ({ host, source, dropped }) => {
    expect(entry(resolve(DOCKER, { hostArch: host }), source).dropped).toBe(dropped);
  });

  it('gives clone3 ERRNO(89), MIPS ENOSYS, on a mips64 host', () => {
    expect(rulesFor(resolve(DOCKER, { hostArch: 'mips64' }), 'clone3')).toEqual([
      { name: 'clone3', action: ERRNO(89), conditions: [], source: 'syscalls[17]' },
    ]);
  });

  it('ignores includes and excludes for an OCI config.json, whatever the engine', () => {
    const config = {
      linux: {
        seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['reboot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_BOOT'] } }] },
      },
    };
    const r = resolveProfile(parseProfile(JSON.stringify(config)), contextOf({ kernel: '6.1', engine: 'docker' }), knownSyscall);
    expect(r.engine).toBe('none');
    expect(entry(r, 'linux.seccomp.syscalls[0]').dropped).toBeUndefined();
    expect(rulesFor(r, 'reboot')).toHaveLength(1);
  });
});

describe('errno: Docker drops defaultErrnoRet, podman prefers errno strings (resolution.md §5, §6)', () => {
  it.each([
    { what: 'containers-common under docker: ERRNO(EPERM)', profile: COMMON, engine: 'docker', value: 0x50001 },
    { what: 'containers-common under podman: ERRNO(ENOSYS) from defaultErrno', profile: COMMON, engine: 'podman', value: 0x50026 },
    { what: 'containers-common under engine none: defaultErrnoRet 38', profile: COMMON, engine: 'none', value: 0x50026 },
    { what: 'Docker profile under docker: ERRNO(EPERM)', profile: DOCKER, engine: 'docker', value: 0x50001 },
    {
      what: 'defaultErrno "EACCES" over defaultErrnoRet 38 under podman',
      profile: { defaultErrnoRet: 38, defaultErrno: 'EACCES' },
      engine: 'podman',
      value: 0x5000d,
    },
    { what: 'defaultErrnoRet 38 alone under podman', profile: { defaultErrnoRet: 38 }, engine: 'podman', value: 0x50026 },
    { what: 'defaultErrno "ENOSYS" alone under docker: ignored', profile: { defaultErrno: 'ENOSYS' }, engine: 'docker', value: 0x50001 },
    { what: 'defaultErrno "ENOSYS" under engine none: not an OCI field', profile: { defaultErrno: 'ENOSYS' }, engine: 'none', value: 0x50001 },
    { what: 'TRACE default: EPERM as its data', profile: { defaultAction: 'SCMP_ACT_TRACE' }, engine: 'docker', value: 0x7ff00001 },
    { what: 'KILL default: KILL_THREAD', profile: { defaultAction: 'SCMP_ACT_KILL' }, engine: 'docker', value: 0 },
    { what: 'KILL_PROCESS default', profile: { defaultAction: 'SCMP_ACT_KILL_PROCESS' }, engine: 'docker', value: 0x80000000 },
  ])('default action, $what', ({ profile, engine, value }) => {
    expect(resolve(profile, { engine }).defaultAction).toBe(value);
  });

  it.each([
    { what: 'podman: errno "EACCES" over errnoRet 1', engine: 'podman', action: ERRNO(13) },
    { what: 'docker: errnoRet 1 (errno is not a moby field)', engine: 'docker', action: ERRNO(1) },
    { what: 'none: errnoRet 1', engine: 'none', action: ERRNO(1) },
  ])('entry errno, $what', ({ engine, action }) => {
    const r = resolve({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, errno: 'EACCES' }] }, { engine });
    expect(rulesFor(r, 'read')).toEqual([{ name: 'read', action, conditions: [], source: 'syscalls[0]' }]);
  });

  it("under docker, containers-common's ERRNO(EPERM) entries equal the EPERM default and are skipped; its errnoRet 22 stays", () => {
    // Without CAP_AUDIT_WRITE, so that the socket entry with errnoRet 22 is kept.
    const r = resolve(COMMON, { engine: 'docker', capDrop: ['audit_write'] });
    const first = entry(r, 'syscalls[0]');
    expect(first.skipped).toHaveLength(28);
    expect(new Set(first.skipped.map((s) => s.reason))).toEqual(new Set(['default-action']));
    expect(r.rules.some((rule) => rule.source === 'syscalls[0]')).toBe(false);
    expect(rulesFor(r, 'socket').filter((rule) => rule.action !== ALLOW)).toEqual([
      {
        name: 'socket',
        action: ERRNO(22),
        conditions: [
          { index: 0, op: 'SCMP_CMP_EQ', value: 16n, valueTwo: 0n },
          { index: 2, op: 'SCMP_CMP_EQ', value: 9n, valueTwo: 0n },
        ],
        source: 'syscalls[30]',
      },
    ]);
  });

  it('under podman, the same entries are rules of ERRNO(EPERM) against the ENOSYS default', () => {
    const r = resolve(COMMON, { engine: 'podman' });
    expect(entry(r, 'syscalls[0]').skipped).toEqual([]);
    expect(r.rules.filter((rule) => rule.source === 'syscalls[0]')).toHaveLength(28);
    expect(new Set(r.rules.filter((rule) => rule.source === 'syscalls[0]').map((rule) => rule.action))).toEqual(new Set([ERRNO(EPERM)]));
  });
});

describe('what the runtime skips: rules equal to the default, unknown names (runtimes.md §1, §3)', () => {
  it.each([
    {
      what: 'an ALLOW entry under an ALLOW default',
      profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }] },
      skipped: [
        { name: 'read', reason: 'default-action' },
        { name: 'write', reason: 'default-action' },
      ],
      rules: [],
    },
    {
      what: 'ERRNO without errnoRet under the ERRNO default (both EPERM)',
      profile: { syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] },
      skipped: [{ name: 'read', reason: 'default-action' }],
      rules: [],
    },
    {
      what: 'ERRNO(38) under the ERRNO(EPERM) default: kept (the errno counts)',
      profile: { syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }] },
      skipped: [],
      rules: ['read'],
    },
    {
      what: 'KILL_THREAD under the KILL default (the same action)',
      profile: { defaultAction: 'SCMP_ACT_KILL', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL_THREAD' }] },
      skipped: [{ name: 'read', reason: 'default-action' }],
      rules: [],
    },
    {
      what: 'a name libseccomp does not know',
      profile: { syscalls: [{ names: ['read', 'no_such_syscall', 'write'], action: 'SCMP_ACT_ALLOW' }] },
      skipped: [{ name: 'no_such_syscall', reason: 'unknown-syscall' }],
      rules: ['read', 'write'],
    },
    {
      what: 'a name known on another arch only (socketcall on x86_64): added, libseccomp translates it',
      profile: { syscalls: [{ names: ['socketcall'], action: 'SCMP_ACT_ALLOW' }] },
      skipped: [],
      rules: ['socketcall'],
    },
    {
      what: 'an unknown name in an entry equal to the default: the default check comes first',
      profile: { syscalls: [{ names: ['no_such_syscall'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] },
      skipped: [{ name: 'no_such_syscall', reason: 'default-action' }],
      rules: [],
    },
  ])('$what', ({ profile, skipped, rules }) => {
    const r = resolve(profile);
    expect(entry(r, 'syscalls[0]').skipped).toEqual(skipped);
    expect(r.rules.map((rule) => rule.name)).toEqual(rules);
  });

  it('knows every name of both bundled profiles on x86_64 (libseccomp 2.5.4 knows them all)', () => {
    expect(DOCKER.syscalls.flatMap((e) => e.names).filter((n) => !knownSyscall(n))).toEqual([]);
    expect(COMMON.syscalls.flatMap((e) => e.names).filter((n) => !knownSyscall(n))).toEqual([]);
    expect(knownSyscall('no_such_syscall')).toBe(false);
  });

  it('lists the names of the kept entries, skipped or not, once each (the stub maximum reads them)', () => {
    const r = resolve(
      {
        syscalls: [
          { names: ['read', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' },
          { names: ['reboot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_BOOT'] } },
          { names: ['read', 'close'], action: 'SCMP_ACT_ERRNO' },
        ],
      },
      {},
    );
    expect(r.namedSyscalls).toEqual(['read', 'no_such_syscall', 'close']);
  });
});

describe('a repeated argument index splits every condition into its own rule (runtimes.md §1 step 4, §3)', () => {
  const eq = (index: number, value: bigint) => ({ index, op: 'SCMP_CMP_EQ', value, valueTwo: 0n });
  it.each([
    {
      what: 'index 0 twice and index 1: three single-condition rules per name, in order',
      args: [
        { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
        { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
        { index: 1, value: 3, op: 'SCMP_CMP_EQ' },
      ],
      splitInto: 3,
      conditions: [[eq(0, 1n)], [eq(0, 2n)], [eq(1, 3n)]],
    },
    {
      what: 'indexes 0 and 1: one rule with both conditions',
      args: [
        { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
        { index: 1, value: 3, op: 'SCMP_CMP_EQ' },
      ],
      splitInto: undefined,
      conditions: [[eq(0, 1n), eq(1, 3n)]],
    },
    { what: 'no args: one rule without conditions', args: [], splitInto: undefined, conditions: [[]] },
  ])('$what', ({ args, splitInto, conditions }) => {
    const r = resolve({ syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args }] });
    expect(entry(r, 'syscalls[0]').splitInto).toBe(splitInto);
    expect(r.rules.map((rule) => [rule.name, rule.conditions])).toEqual([...conditions.map((c) => ['read', c]), ...conditions.map((c) => ['write', c])]);
  });

  it("keeps containers-common's socket entry (indexes 0 and 2) as one rule under podman", () => {
    const r = resolve(COMMON, { engine: 'podman' });
    expect(entry(r, 'syscalls[30]').splitInto).toBeUndefined();
    expect(r.rules.filter((rule) => rule.source === 'syscalls[30]')).toHaveLength(1);
  });
});

describe("runc's ENOSYS stub (runtimes.md §2, runc 1.1.5 generatePatch)", () => {
  it.each([
    { what: 'Docker profile, docker, runc: ERRNO default', profile: DOCKER, options: {}, stub: true },
    { what: 'Docker profile, docker, crun: never', profile: DOCKER, options: { runtime: 'crun' }, stub: false },
    { what: 'ALLOW default', profile: { defaultAction: 'SCMP_ACT_ALLOW' }, options: {}, stub: false },
    { what: 'LOG default', profile: { defaultAction: 'SCMP_ACT_LOG' }, options: {}, stub: false },
    { what: 'TRACE default', profile: { defaultAction: 'SCMP_ACT_TRACE' }, options: {}, stub: false },
    { what: 'KILL default', profile: { defaultAction: 'SCMP_ACT_KILL' }, options: {}, stub: true },
    { what: 'KILL_PROCESS default', profile: { defaultAction: 'SCMP_ACT_KILL_PROCESS' }, options: {}, stub: true },
    { what: 'TRAP default', profile: { defaultAction: 'SCMP_ACT_TRAP' }, options: {}, stub: true },
    // runc compares defaultErrnoRet with SCMP_ACT_ERRNO(ENOSYS) = 0x50026, not with 38: 38 keeps the stub.
    { what: 'defaultErrnoRet 38 under engine none: still on', profile: { defaultErrnoRet: 38 }, options: { engine: 'none' }, stub: true },
    { what: 'containers-common under podman (default ERRNO(ENOSYS)): still on', profile: COMMON, options: { engine: 'podman' }, stub: true },
    { what: 'containers-common under podman, crun: never', profile: COMMON, options: { engine: 'podman', runtime: 'crun' }, stub: false },
    { what: 'KILL default under crun: never', profile: { defaultAction: 'SCMP_ACT_KILL' }, options: { runtime: 'crun' }, stub: false },
  ])('$what', ({ profile, options, stub }) => {
    expect(resolve(profile, options).enosysStub).toBe(stub);
  });
});

describe('NOTIFY under runc (runtimes.md §1 InitSeccomp)', () => {
  it('refuses NOTIFY on write', () => {
    const error = resolveError({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_NOTIFY' },
        { names: ['open', 'write'], action: 'SCMP_ACT_NOTIFY' },
      ],
    });
    expect(error.code).toBe('profile');
    expect(error.message).toBe('syscalls[1]: runc refuses SCMP_ACT_NOTIFY on write (the container could not write to its listener)');
  });

  it('refuses NOTIFY as the default action', () => {
    const error = resolveError({ defaultAction: 'SCMP_ACT_NOTIFY' });
    expect(error.code).toBe('profile');
    expect(error.message).toBe('defaultAction: runc refuses SCMP_ACT_NOTIFY as the default action');
  });

  it('adds NOTIFY on other syscalls, and does not look at a NOTIFY write entry the engine drops', () => {
    const r = resolve({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_NOTIFY' },
        { names: ['write'], action: 'SCMP_ACT_NOTIFY', includes: { caps: ['CAP_SYS_BOOT'] } },
      ],
    });
    expect(r.rules).toEqual([{ name: 'read', action: 0x7fc00000, conditions: [], source: 'syscalls[0]' }]);
    expect(entry(r, 'syscalls[1]').dropped).toBe('caps-not-included');
  });
});

describe('context options', () => {
  it.each([
    { what: 'an unknown engine', options: { engine: 'lxc' }, message: 'unknown container engine "lxc" (docker, podman or none)' },
    { what: 'an unknown runtime', options: { runtime: 'youki' }, message: 'unknown runtime "youki" (runc or crun)' },
    { what: 'an upper-case runtime', options: { runtime: 'RUNC' }, message: 'unknown runtime "RUNC" (runc or crun)' },
    { what: 'an unknown added capability', options: { capAdd: ['CAP_FOO'] }, message: 'unknown capability "CAP_FOO"' },
    { what: 'an unknown dropped capability, as written', options: { capDrop: ['foo'] }, message: 'unknown capability "foo"' },
    { what: 'an unknown capability in --caps', options: { caps: 'chown,bogus' }, message: 'unknown capability "bogus"' },
    { what: 'an empty item in --caps', options: { caps: 'chown,,kill' }, message: 'unknown capability ""' },
    ...['x32', 'amd64', 's390', 'sparc'].map((host) => ({
      what: `host arch ${host}`,
      options: { hostArch: host },
      message: `unknown host arch "${host}" (one of i386, x86_64, arm, aarch64, mips, mips64, mipsel, mips64el, ppc64, ppc64le, s390x, riscv64)`,
    })),
    { what: 'a kernel version that is not one', options: { kernel: 'six' }, message: 'invalid kernel version "six" (expected MAJOR.MINOR, as 6.1)' },
    { what: 'a kernel version without minor', options: { kernel: '6' }, message: 'invalid kernel version "6" (expected MAJOR.MINOR, as 6.1)' },
    { what: 'an empty kernel version', options: { kernel: '' }, message: 'invalid kernel version "" (expected MAJOR.MINOR, as 6.1)' },
  ])('refuses $what', ({ options, message }) => {
    const error = contextError(options);
    expect(error.code).toBe('profile-context');
    expect(error.name).toBe('ProfileContextError');
    expect(error.message).toBe(message);
  });

  it('defaults to docker, runc, x86_64, Docker caps and the running kernel', () => {
    const context = contextOf();
    expect(context).toMatchObject({ engine: 'docker', runtime: 'runc', hostArch: 'x86_64' });
    expect([...context.caps]).toEqual(DOCKER_CAPS);
    const [major, minor] = release()
      .split('.')
      .map((n) => Number.parseInt(n, 10));
    expect(context.kernel).toEqual({ major, minor });
    expect(profileContext({}, () => '5.10.0-21-amd64').kernel).toEqual({ major: 5, minor: 10 });
  });

  const sorted = (caps: Iterable<string>): string[] => [...caps].sort();
  it.each([
    { what: 'docker: Docker 20.10 defaults (14)', options: {}, caps: DOCKER_CAPS },
    { what: 'podman: containers.conf defaults (11)', options: { engine: 'podman' }, caps: PODMAN_CAPS },
    { what: 'none: Docker defaults', options: { engine: 'none' }, caps: DOCKER_CAPS },
    { what: '--caps podman under docker', options: { caps: 'podman' }, caps: PODMAN_CAPS },
    { what: '--caps docker under podman', options: { engine: 'podman', caps: 'docker' }, caps: DOCKER_CAPS },
    { what: '--caps none', options: { caps: 'none' }, caps: [] },
    { what: '--caps ""', options: { caps: '' }, caps: [] },
    { what: '--caps LIST, normalised', options: { caps: 'chown, cap_sys_admin,Kill' }, caps: ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_KILL'] },
    { what: '--caps all: every one docker 20.10 knows', options: { caps: 'all' }, caps: CAPABILITIES.slice(0, 38) },
    { what: 'sys_admin added', options: { capAdd: ['sys_admin'] }, caps: [...DOCKER_CAPS, 'CAP_SYS_ADMIN'] },
    { what: 'cap_sys_admin added', options: { capAdd: ['cap_sys_admin'] }, caps: [...DOCKER_CAPS, 'CAP_SYS_ADMIN'] },
    { what: '" Sys_Admin " added', options: { capAdd: [' Sys_Admin '] }, caps: [...DOCKER_CAPS, 'CAP_SYS_ADMIN'] },
    { what: 'an added cap already there', options: { capAdd: ['CHOWN'] }, caps: DOCKER_CAPS },
    { what: 'ALL added', options: { capAdd: ['ALL'] }, caps: CAPABILITIES.slice(0, 38) },
    { what: 'chown dropped', options: { capDrop: ['chown'] }, caps: DOCKER_CAPS.filter((c) => c !== 'CAP_CHOWN') },
    { what: 'a cap not there dropped', options: { capDrop: ['CAP_SYS_ADMIN'] }, caps: DOCKER_CAPS },
    { what: 'all dropped', options: { capDrop: ['all'] }, caps: [] },
    {
      what: 'ALL added, net_raw dropped',
      options: { capAdd: ['ALL'], capDrop: ['net_raw'] },
      caps: CAPABILITIES.slice(0, 38).filter((c) => c !== 'CAP_NET_RAW'),
    },
    { what: '--caps LIST then a drop', options: { caps: 'chown,kill', capDrop: ['KILL'] }, caps: ['CAP_CHOWN'] },
  ])('capabilities: $what', ({ options, caps }) => {
    expect(sorted(contextOf({ kernel: '6.1', ...options }).caps)).toEqual(sorted(caps));
  });

  it('has 41 capabilities, CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40) (resolution.md §9)', () => {
    expect(CAPABILITIES).toHaveLength(41);
    expect([CAPABILITIES[0], CAPABILITIES[21], CAPABILITIES[37], CAPABILITIES[40]]).toEqual([
      'CAP_CHOWN',
      'CAP_SYS_ADMIN',
      'CAP_AUDIT_READ',
      'CAP_CHECKPOINT_RESTORE',
    ]);
  });
});

describe('flags and fields handed on', () => {
  it.each([
    { what: 'docker drops flags', engine: 'docker', flags: [] },
    { what: 'podman copies them', engine: 'podman', flags: ['SECCOMP_FILTER_FLAG_LOG'] },
    { what: 'engine none copies them', engine: 'none', flags: ['SECCOMP_FILTER_FLAG_LOG'] },
  ])('$what', ({ engine, flags }) => {
    expect(resolve({ flags: ['SECCOMP_FILTER_FLAG_LOG'] }, { engine, runtime: 'crun' }).flags).toEqual(flags);
  });

  it('reports the context, the engine, KILL_THREAD for bad arches and every entry in profile order', () => {
    const r = resolve(DOCKER);
    expect(r.engine).toBe('docker');
    expect(r.badArchAction).toBe(0);
    expect(r.entries.map((e) => e.source)).toEqual(DOCKER.syscalls.map((e) => e.path));
    expect(r.context.hostArch).toBe('x86_64');
  });
});

/** What differs by runtime and engine beyond the stub (runtimes.md §3-4, resolution.md §8). */
describe('runtime and engine refusals and limits', () => {
  // runtimes.md §3 (crun 1.8.1 "NOTIFY: no checks at all"), §4.3: NOTIFY on write is refused by runc only.
  it('crun loads NOTIFY on write; runc refuses it', () => {
    const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }] };
    expect(rulesFor(resolve(profile, { runtime: 'crun' }), 'write')).toHaveLength(1);
    expect(resolveError(profile).detail).toBe('syscalls[0]: runc refuses SCMP_ACT_NOTIFY on write (the container could not write to its listener)');
  });

  // runtimes.md §3, §4.3: NOTIFY as the default action is refused by runc only.
  it('crun loads NOTIFY as the default action; runc refuses it', () => {
    expect(resolve({ defaultAction: 'SCMP_ACT_NOTIFY' }, { runtime: 'crun' }).defaultAction).toBe(0x7fc00000);
    expect(resolveError({ defaultAction: 'SCMP_ACT_NOTIFY' }).detail).toBe('defaultAction: runc refuses SCMP_ACT_NOTIFY as the default action');
  });

  // runtimes.md §3 (crun keeps only the first 6 conditions, k = min(args_len, 6)) and §4.5.
  it('crun drops conditions past the 6th: indexes 0-5 then 0 again is one rule of 6 conditions; runc splits all 7', () => {
    const args = [0, 1, 2, 3, 4, 5, 0].map((index) => ({ index, value: 1, op: 'SCMP_CMP_EQ' }));
    const profile = { syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args }] };
    expect(resolve(profile, { runtime: 'crun' }).rules.map((rule) => rule.conditions.length)).toEqual([6]);
    expect(resolve(profile).rules.map((rule) => rule.conditions.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  // runtimes.md §3 (seccomp_action_supports_errno, l.712-716 and l.758-761) and §4.4.
  it('crun refuses errnoRet on an action other than ERRNO or TRACE; runc ignores it', () => {
    const profile = { syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] };
    expect(resolveError(profile, { runtime: 'crun' }).detail).toBe(
      'syscalls[0].errnoRet: crun refuses an errno for SCMP_ACT_ALLOW (only ERRNO and TRACE take one)',
    );
    expect(rulesFor(resolve(profile), 'read')[0]!.action).toBe(0x7fff0000);
  });

  // runtimes.md §1 specconv: "A non-empty flags fails: seccomp flags are not yet supported by runc" (1.1.5).
  it('runc 1.1 refuses any flags that reach it (podman hands them on, docker drops them)', () => {
    const profile = { flags: ['SECCOMP_FILTER_FLAG_LOG'] };
    expect(resolveError(profile, { engine: 'podman' }).detail).toBe('flags: runc 1.1 refuses seccomp flags (SECCOMP_FILTER_FLAG_LOG)');
    expect(resolve(profile, { engine: 'podman', runtime: 'crun' }).flags).toEqual(['SECCOMP_FILTER_FLAG_LOG']);
    expect(resolve(profile).flags).toEqual([]);
  });

  // resolution.md §8: moby 20.10.24 knows capabilities up to CAP_AUDIT_READ (37); --cap-add PERFMON is "unknown capability".
  it('docker refuses --cap-add CAP_PERFMON, podman takes it', () => {
    expect(() => contextOf({ kernel: '6.1', capAdd: ['CAP_PERFMON'] })).toThrow(ProfileContextError);
    expect(contextOf({ kernel: '6.1', engine: 'podman', capAdd: ['CAP_PERFMON'] }).caps.has('CAP_PERFMON')).toBe(true);
  });

  // runtimes.md §1 getAction: libseccomp rejects ERRNO data >= MAX_ERRNO (4095), so the container fails.
  it.each([4095, 5000])('ERRNO with errnoRet %i is refused when the rules reach libseccomp', (errnoRet) => {
    const r = resolve({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet }] });
    expect(() => buildFilter(r)).toThrow(ParseError);
  });

  // moby oci/caps/utils.go TweakCapabilities: with ALL dropped, the container gets exactly the added caps.
  it('--cap-drop ALL --cap-add CHOWN leaves CAP_CHOWN', () => {
    expect([...contextOf({ kernel: '6.1', capDrop: ['ALL'], capAdd: ['CHOWN'] }).caps]).toEqual(['CAP_CHOWN']);
  });
});
