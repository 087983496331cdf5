/**
 * parseProfile (src/profile/read.ts): what it accepts (the bundled Docker and
 * containers-common profiles, OCI config.json, u64 values past 2^53, errno
 * strings) and the exact message of each input it refuses. Messages are the
 * user-facing contract here: every refusal names the JSON path at fault.
 * Facts cited: /tmp/research/resolution.md (moby 20.10.24, containers/common 0.50.1).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/errors.js';
import { type Profile, parseProfile } from '../../src/profile/read.js';
import { thrownBy } from '../helpers.js';

const PROFILES = join(import.meta.dirname, '../../profiles');
const DOCKER_TEXT = readFileSync(join(PROFILES, 'docker-20.10.24.json'), 'utf8');
const COMMON_TEXT = readFileSync(join(PROFILES, 'containers-common-0.50.1.json'), 'utf8');

const ACTIONS =
  'SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY';
const OPERATORS = 'SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ';
const ARCHES =
  'SCMP_ARCH_X86, SCMP_ARCH_X86_64, SCMP_ARCH_X32, SCMP_ARCH_ARM, SCMP_ARCH_AARCH64, SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32, ' +
  'SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_PPC, SCMP_ARCH_PPC64, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390, ' +
  'SCMP_ARCH_S390X, SCMP_ARCH_PARISC, SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64';
const FLAGS = 'SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV';

/** A profile text: ERRNO by default, with `fields` added (or replacing defaultAction). */
function profile(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', ...fields });
}

/** A profile with one ALLOW entry on read whose only condition is `args[0] <op> <valueLiteral>`, written as given (so that digits past 2^53 stay). */
function oneArg(valueLiteral: string, extra = '', op = 'SCMP_CMP_EQ'): string {
  return `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":${valueLiteral}${extra},"op":"${op}"}]}]}`;
}

/** The one entry of a profile with `entry` as its only syscalls[] element. */
function entryOf(entry: Record<string, unknown>): Profile['syscalls'][number] {
  return parseProfile(profile({ syscalls: [entry] })).syscalls[0]!;
}

function parseError(text: string): ParseError {
  const error = thrownBy(() => parseProfile(text));
  expect(error).toBeInstanceOf(ParseError);
  return error as ParseError;
}

const nameCount = (p: Profile): number => p.syscalls.reduce((n, e) => n + e.names.length, 0);

describe('parseProfile accepts the bundled profiles', () => {
  it('reads docker-20.10.24.json: 28 entries, 415 names, archMap of 7, no default errno (resolution.md §7)', () => {
    const p = parseProfile(DOCKER_TEXT);
    expect(p.syscalls).toHaveLength(28);
    expect(nameCount(p)).toBe(415);
    expect(p.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(p.defaultErrnoRet).toBeUndefined();
    expect(p.defaultErrno).toBeUndefined();
    expect(p.architectures).toEqual([]);
    expect(p.archMap).toHaveLength(7);
    expect(p.archMap[0]).toEqual({ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] });
    expect(p.runtimeSpec).toBe(false);
    expect(p.ignoredFields).toEqual([]);
    expect(p.flags).toEqual([]);
  });

  it('keeps the Docker entries as written: paths, minKernel, caps, arches, errnoRet, MASKED_EQ without valueTwo', () => {
    const p = parseProfile(DOCKER_TEXT);
    expect(p.syscalls.map((e) => e.path)).toEqual(Array.from({ length: 28 }, (_, i) => `syscalls[${i}]`));
    expect(p.syscalls[1]).toMatchObject({ names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: { major: 4, minor: 8, text: '4.8' } } });
    expect(p.syscalls[6]!.args).toEqual([{ index: 0, op: 'SCMP_CMP_EQ', value: 4294967295n, valueTwo: 0n }]);
    expect(p.syscalls[13]!.includes).toEqual({ arches: [], caps: ['CAP_SYS_ADMIN'] });
    expect(p.syscalls[14]!.args).toEqual([{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: 2114060288n, valueTwo: 0n }]);
    expect(p.syscalls[14]!.excludes).toEqual({ arches: ['s390', 's390x'], caps: ['CAP_SYS_ADMIN'] });
    expect(p.syscalls[16]).toMatchObject({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
    expect(p.syscalls[17]).toMatchObject({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 89 });
    expect(p.syscalls[17]!.errno).toBeUndefined();
  });

  it('reads containers-common-0.50.1.json: 35 entries, 472 names, defaultErrnoRet 38 and defaultErrno "ENOSYS" (resolution.md §7)', () => {
    const p = parseProfile(COMMON_TEXT);
    expect(p.syscalls).toHaveLength(35);
    expect(nameCount(p)).toBe(472);
    expect(p.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(p.defaultErrnoRet).toBe(38);
    expect(p.defaultErrno).toBe(38);
    expect(p.archMap).toHaveLength(7);
    expect(p.runtimeSpec).toBe(false);
    expect(p.ignoredFields).toEqual([]);
  });

  it('reads containers-common errno strings next to errnoRet ("EPERM" is 1, "EINVAL" 22) and two conditions on indexes 0 and 2', () => {
    const p = parseProfile(COMMON_TEXT);
    expect(p.syscalls[0]).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 1, errno: 1 });
    expect(p.syscalls[30]).toMatchObject({ names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, errno: 22 });
    expect(p.syscalls[30]!.args).toEqual([
      { index: 0, op: 'SCMP_CMP_EQ', value: 16n, valueTwo: 0n },
      { index: 2, op: 'SCMP_CMP_EQ', value: 9n, valueTwo: 0n },
    ]);
    expect(p.syscalls[30]!.excludes.caps).toEqual(['CAP_AUDIT_WRITE']);
    expect(p.syscalls[34]).toMatchObject({ names: ['socket'], args: [], includes: { caps: ['CAP_AUDIT_WRITE'] } });
  });
});

describe('parseProfile: accepted shapes and values', () => {
  it('reads an OCI config.json: linux.seccomp, runtimeSpec true, the rest of the config not listed as ignored', () => {
    const config = {
      ociVersion: '1.0.2',
      process: { args: ['sh'] },
      linux: {
        namespaces: [{ type: 'pid' }],
        seccomp: {
          defaultAction: 'SCMP_ACT_ERRNO',
          defaultErrnoRet: 38,
          architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
          syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }],
          flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
        },
      },
    };
    const p = parseProfile(JSON.stringify(config));
    expect(p.runtimeSpec).toBe(true);
    expect(p.defaultErrnoRet).toBe(38);
    expect(p.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    expect(p.syscalls).toEqual([
      {
        path: 'linux.seccomp.syscalls[0]',
        names: ['read', 'write'],
        action: 'SCMP_ACT_ALLOW',
        args: [],
        includes: { arches: [], caps: [] },
        excludes: { arches: [], caps: [] },
      },
    ]);
    expect(p.flags).toEqual(['SECCOMP_FILTER_FLAG_SPEC_ALLOW']);
    expect(p.ignoredFields).toEqual([]);
  });

  it.each([
    { what: 'name alone', entry: { name: 'read', action: 'SCMP_ACT_ALLOW' }, names: ['read'] },
    { what: 'names alone', entry: { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }, names: ['read', 'write'] },
    { what: 'names with an empty name (Go\'s zero value: not "both")', entry: { name: '', names: ['read'], action: 'SCMP_ACT_ALLOW' }, names: ['read'] },
    { what: 'name with empty names', entry: { name: 'read', names: [], action: 'SCMP_ACT_ALLOW' }, names: ['read'] },
    { what: 'name with null names', entry: { name: 'read', names: null, action: 'SCMP_ACT_ALLOW' }, names: ['read'] },
  ])('entry names: $what', ({ entry, names }) => {
    expect(entryOf(entry).names).toEqual(names);
  });

  it.each([
    { what: '2^64 - 1 (u64 max) exactly', literal: '18446744073709551615', value: 18446744073709551615n },
    { what: '2^53 + 1 (JSON.parse would round it to 2^53)', literal: '9007199254740993', value: 9007199254740993n },
    { what: '2^63', literal: '9223372036854775808', value: 9223372036854775808n },
    { what: '0xffffffff (personality)', literal: '4294967295', value: 4294967295n },
    { what: 'zero', literal: '0', value: 0n },
  ])('reads value $what', ({ literal, value }) => {
    expect(parseProfile(oneArg(literal)).syscalls[0]!.args[0]).toEqual({ index: 0, op: 'SCMP_CMP_EQ', value, valueTwo: 0n });
  });

  it('reads a MASKED_EQ mask and valueTwo above 2^53 exactly, and the path of each condition separately', () => {
    const text = oneArg('18446744073709551615', ',"valueTwo":18446744073709551614', 'SCMP_CMP_MASKED_EQ');
    expect(parseProfile(text).syscalls[0]!.args).toEqual([
      { index: 0, op: 'SCMP_CMP_MASKED_EQ', value: 18446744073709551615n, valueTwo: 18446744073709551614n },
    ]);
    const two =
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[' +
      '{"index":1,"value":9007199254740993,"op":"SCMP_CMP_EQ"},{"index":2,"value":1,"valueTwo":9007199254740995,"op":"SCMP_CMP_MASKED_EQ"}]}]}';
    expect(parseProfile(two).syscalls[0]!.args).toEqual([
      { index: 1, op: 'SCMP_CMP_EQ', value: 9007199254740993n, valueTwo: 0n },
      { index: 2, op: 'SCMP_CMP_MASKED_EQ', value: 1n, valueTwo: 9007199254740995n },
    ]);
  });

  it.each([
    { what: 'errno by name', entry: { errno: 'EPERM' }, errno: 1, errnoRet: undefined },
    { what: 'errno as a decimal string', entry: { errno: '13' }, errno: 13, errnoRet: undefined },
    { what: 'errno and errnoRet both kept (podman prefers errno)', entry: { errno: 'EACCES', errnoRet: 1 }, errno: 13, errnoRet: 1 },
    { what: 'an empty errno is no errno', entry: { errno: '' }, errno: undefined, errnoRet: undefined },
    { what: 'a null errnoRet is no errnoRet', entry: { errnoRet: null }, errno: undefined, errnoRet: undefined },
    { what: 'errnoRet 65535 (the largest SECCOMP_RET_DATA)', entry: { errnoRet: 65535 }, errno: undefined, errnoRet: 65535 },
  ])('entry errno: $what', ({ entry, errno, errnoRet }) => {
    const e = entryOf({ names: ['read'], action: 'SCMP_ACT_ERRNO', ...entry });
    expect(e.errno).toBe(errno);
    expect(e.errnoRet).toBe(errnoRet);
  });

  it.each([
    { what: 'defaultErrno "ENOSYS"', fields: { defaultErrno: 'ENOSYS' }, defaultErrno: 38, defaultErrnoRet: undefined },
    { what: 'defaultErrno "EPERM" with defaultErrnoRet 38', fields: { defaultErrno: 'EPERM', defaultErrnoRet: 38 }, defaultErrno: 1, defaultErrnoRet: 38 },
    { what: 'defaultErrno as a number string', fields: { defaultErrno: '95' }, defaultErrno: 95, defaultErrnoRet: undefined },
  ])('default errno: $what', ({ fields, defaultErrno, defaultErrnoRet }) => {
    const p = parseProfile(profile(fields));
    expect(p.defaultErrno).toBe(defaultErrno);
    expect(p.defaultErrnoRet).toBe(defaultErrnoRet);
  });

  it('reads includes/excludes: arches, caps and minKernel ("" is no minKernel)', () => {
    const e = entryOf({
      names: ['ptrace'],
      action: 'SCMP_ACT_ALLOW',
      includes: { arches: ['amd64'], caps: ['CAP_SYS_PTRACE'], minKernel: '4.10' },
      excludes: { minKernel: '' },
    });
    expect(e.includes).toEqual({ arches: ['amd64'], caps: ['CAP_SYS_PTRACE'], minKernel: { major: 4, minor: 10, text: '4.10' } });
    expect(e.excludes).toEqual({ arches: [], caps: [] });
  });

  it('reads a null syscalls, args, architectures and archMap as empty (Go zero values)', () => {
    const p = parseProfile(profile({ syscalls: null, architectures: null, archMap: null }));
    expect(p.syscalls).toEqual([]);
    expect(p.architectures).toEqual([]);
    expect(p.archMap).toEqual([]);
    expect(entryOf({ names: ['read'], action: 'SCMP_ACT_ALLOW', args: null }).args).toEqual([]);
  });

  it('keeps flags, listenerPath, listenerMetadata and a comment', () => {
    const p = parseProfile(
      profile({
        flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC'],
        listenerPath: '/run/agent.sock',
        listenerMetadata: 'meta',
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', comment: 'reads' }],
      }),
    );
    expect(p.flags).toEqual(['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC']);
    expect(p.listenerPath).toBe('/run/agent.sock');
    expect(p.listenerMetadata).toBe('meta');
    expect(p.syscalls[0]!.comment).toBe('reads');
  });

  it.each([
    {
      what: 'unknown keys at every level, with their JSON paths, in reading order',
      text: JSON.stringify({
        defaultAction: 'SCMP_ACT_ERRNO',
        comment: 'top',
        archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: [], note: 1 }],
        syscalls: [
          {
            names: ['read'],
            action: 'SCMP_ACT_ALLOW',
            since: '1.0',
            args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ', why: 'x' }],
            includes: { caps: [], os: 'linux' },
            excludes: { kernel: '5.0' },
          },
        ],
      }),
      ignored: ['comment', 'archMap[0].note', 'syscalls[0].since', 'syscalls[0].args[0].why', 'syscalls[0].includes.os', 'syscalls[0].excludes.kernel'],
    },
    {
      what: 'unknown keys inside an OCI config.json, under linux.seccomp',
      text: JSON.stringify({
        ociVersion: '1.0.2',
        linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', foo: 1, syscalls: [{ names: ['read'], action: 'SCMP_ACT_LOG', bar: 2 }] } },
      }),
      ignored: ['linux.seccomp.foo', 'linux.seccomp.syscalls[0].bar'],
    },
    { what: 'none in a plain profile', text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }), ignored: [] },
  ])('ignoredFields: $what', ({ text, ignored }) => {
    expect(parseProfile(text).ignoredFields).toEqual(ignored);
  });
});

/** `n` good entries, so that the next one is syscalls[n]. */
const goodEntries = (n: number): unknown[] => Array.from({ length: n }, () => ({ names: ['read'], action: 'SCMP_ACT_ALLOW' }));

describe('parseProfile refuses bad input with the JSON path at fault', () => {
  it.each([
    {
      what: 'an unknown default action',
      text: profile({ defaultAction: 'SCMP_ACT_DENY' }),
      detail: `defaultAction: unknown action "SCMP_ACT_DENY" (one of ${ACTIONS})`,
    },
    {
      what: 'an unknown entry action',
      text: profile({ syscalls: [...goodEntries(2), { names: ['read'], action: 'SCMP_ACT_ALLOWED' }] }),
      detail: `syscalls[2].action: unknown action "SCMP_ACT_ALLOWED" (one of ${ACTIONS})`,
    },
    {
      what: 'a lower-case action (the runtimes match exactly)',
      text: profile({ defaultAction: 'scmp_act_allow' }),
      detail: `defaultAction: unknown action "scmp_act_allow" (one of ${ACTIONS})`,
    },
    {
      what: 'an unknown operator in syscalls[12]',
      text: profile({ syscalls: [...goodEntries(12), { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_FOO' }] }] }),
      detail: `syscalls[12].args[0].op: unknown operator "SCMP_CMP_FOO" (one of ${OPERATORS})`,
    },
    {
      what: 'an unknown arch in architectures',
      text: profile({ architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_FOO'] }),
      detail: `architectures[1]: unknown arch "SCMP_ARCH_FOO" (one of ${ARCHES})`,
    },
    {
      what: 'an arch without its SCMP_ARCH_ prefix in architectures',
      text: profile({ architectures: ['x86_64'] }),
      detail: `architectures[0]: unknown arch "x86_64" (one of ${ARCHES})`,
    },
    {
      what: 'an unknown arch in archMap subArchitectures',
      text: profile({ archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_I386'] }] }),
      detail: `archMap[0].subArchitectures[1]: unknown arch "SCMP_ARCH_I386" (one of ${ARCHES})`,
    },
    {
      what: 'an unknown arch in archMap architecture',
      text: profile({ archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: [] }, { architecture: 'SCMP_ARCH_NATIVE' }] }),
      detail: `archMap[1].architecture: unknown arch "SCMP_ARCH_NATIVE" (one of ${ARCHES})`,
    },
    {
      what: 'an unknown flag',
      text: profile({ flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }),
      detail: `flags[0]: unknown flag "SECCOMP_FILTER_FLAG_NEW_LISTENER" (one of ${FLAGS})`,
    },
    {
      what: 'argument index 6',
      text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }),
      detail: 'syscalls[0].args[0].index: 6 does not fit: must be an argument index from 0 to 5',
    },
    {
      what: 'a negative argument index',
      text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: -1, value: 1, op: 'SCMP_CMP_EQ' }] }] }),
      detail: 'syscalls[0].args[0].index: -1 does not fit: must be an argument index from 0 to 5',
    },
    {
      what: 'no defaultAction',
      text: JSON.stringify({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }),
      detail: 'missing defaultAction: a profile must say what happens to the syscalls it does not name',
    },
    {
      what: 'no defaultAction in an OCI config.json',
      text: JSON.stringify({ linux: { seccomp: { syscalls: [] } } }),
      detail: 'linux.seccomp: missing defaultAction: a profile must say what happens to the syscalls it does not name',
    },
    {
      what: 'an OCI config.json without linux.seccomp',
      text: JSON.stringify({ ociVersion: '1.0.2', linux: { namespaces: [] } }),
      detail: 'linux: has no seccomp object: this OCI config loads no filter',
    },
    {
      what: 'a bad value inside an OCI config.json (the path starts at the config)',
      text: JSON.stringify({ linux: { seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'ALLOW' }] } } }),
      detail: `linux.seccomp.syscalls[0].action: unknown action "ALLOW" (one of ${ACTIONS})`,
    },
    {
      what: 'value 2^64 (does not fit 64 bits)',
      text: oneArg('18446744073709551616'),
      detail: 'syscalls[0].args[0].value: 18446744073709551616 does not fit: must be an unsigned 64-bit integer',
    },
    {
      what: 'valueTwo 2^64',
      text: oneArg('1', ',"valueTwo":18446744073709551616', 'SCMP_CMP_MASKED_EQ'),
      detail: 'syscalls[0].args[0].valueTwo: 18446744073709551616 does not fit: must be an unsigned 64-bit integer',
    },
    {
      what: 'a negative value',
      text: oneArg('-1'),
      detail: 'syscalls[0].args[0].value: -1 does not fit: must be an unsigned 64-bit integer',
    },
    { what: 'value 1.5', text: oneArg('1.5'), detail: 'syscalls[0].args[0].value: must be an unsigned 64-bit integer, not 1.5' },
    {
      what: 'value 1e3 (an integer in exponent form: Go refuses it for a uint64)',
      text: oneArg('1e3'),
      detail: 'syscalls[0].args[0].value: must be an unsigned 64-bit integer, not 1e3',
    },
    { what: 'value 1.0', text: oneArg('1.0'), detail: 'syscalls[0].args[0].value: must be an unsigned 64-bit integer, not 1.0' },
    {
      what: 'value as a string',
      text: oneArg('"1"'),
      detail: 'syscalls[0].args[0].value: must be an unsigned 64-bit integer, not the string "1"',
    },
    {
      what: 'both name and names',
      text: profile({ syscalls: [{ name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW' }] }),
      detail: 'syscalls[0]: has both name and names: use one',
    },
    {
      what: 'neither name nor names',
      text: profile({ syscalls: [...goodEntries(1), { action: 'SCMP_ACT_ALLOW' }] }),
      detail: 'syscalls[1]: names no syscall (give names or name)',
    },
    {
      what: 'an empty names list and no name',
      text: profile({ syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] }),
      detail: 'syscalls[0]: names no syscall (give names or name)',
    },
    {
      what: 'an empty syscall name in names',
      text: profile({ syscalls: [{ names: ['read', ''], action: 'SCMP_ACT_ALLOW' }] }),
      detail: 'syscalls[0].names[1]: empty syscall name',
    },
    {
      what: 'an entry without action',
      text: profile({ syscalls: [{ names: ['read'] }] }),
      detail: 'syscalls[0]: missing action',
    },
    {
      what: 'a condition without op',
      text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1 }] }] }),
      detail: 'syscalls[0].args[0]: missing op',
    },
    {
      what: 'both architectures and archMap',
      text: profile({ architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: [] }] }),
      detail: 'has both architectures and archMap: use one',
    },
    {
      what: 'minKernel "4" (moby needs MAJOR.MINOR)',
      text: profile({ syscalls: [{ names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }] }),
      detail: 'syscalls[0].includes.minKernel: invalid kernel version "4" (expected MAJOR.MINOR, each 0 to 255, as "5.8")',
    },
    {
      what: 'minKernel "4.8.1" (moby: exactly two parts)',
      text: profile({ syscalls: [{ names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8.1' } }] }),
      detail: 'syscalls[0].includes.minKernel: invalid kernel version "4.8.1" (expected MAJOR.MINOR, each 0 to 255, as "5.8")',
    },
    {
      what: 'minKernel "x.y" in excludes',
      text: profile({ syscalls: [{ names: ['ptrace'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: 'x.y' } }] }),
      detail: 'syscalls[0].excludes.minKernel: invalid kernel version "x.y" (expected MAJOR.MINOR, each 0 to 255, as "5.8")',
    },
    {
      what: 'minKernel as a number (moby: it must be a JSON string)',
      text: profile({ syscalls: [{ names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: 4.8 } }] }),
      detail: 'syscalls[0].includes.minKernel: must be a string, not number 4.8',
    },
    {
      what: 'errnoRet 70000 (past SECCOMP_RET_DATA)',
      text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] }),
      detail: 'syscalls[0].errnoRet: 70000 does not fit: must be an integer from 0 to 65535',
    },
    {
      what: 'defaultErrnoRet 70000',
      text: profile({ defaultErrnoRet: 70000 }),
      detail: 'defaultErrnoRet: 70000 does not fit: must be an integer from 0 to 65535',
    },
    {
      what: 'a negative errnoRet',
      text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: -1 }] }),
      detail: 'syscalls[0].errnoRet: -1 does not fit: must be an integer from 0 to 65535',
    },
    {
      what: 'an unknown errno name',
      text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errno: 'EFOO' }] }),
      detail: 'syscalls[0].errno: unknown errno "EFOO" (a name such as EPERM, or a number)',
    },
    {
      what: 'a lower-case errno name (containers-common matches exactly)',
      text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errno: 'eperm' }] }),
      detail: 'syscalls[0].errno: unknown errno "eperm" (a name such as EPERM, or a number)',
    },
    {
      what: 'an unknown defaultErrno name',
      text: profile({ defaultErrno: 'ENOTHING' }),
      detail: 'defaultErrno: unknown errno "ENOTHING" (a name such as EPERM, or a number)',
    },
    {
      what: 'errno as a number instead of a string',
      text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errno: 1 }] }),
      detail: 'syscalls[0].errno: must be a string, not number 1',
    },
    {
      what: 'args as an object',
      text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: { index: 0, value: 1, op: 'SCMP_CMP_EQ' } }] }),
      detail: 'syscalls[0].args: must be an array, not an object',
    },
    {
      what: 'names as a string',
      text: profile({ syscalls: [{ names: 'read', action: 'SCMP_ACT_ALLOW' }] }),
      detail: 'syscalls[0].names: must be an array, not the string "read"',
    },
    {
      what: 'name as an array',
      text: profile({ syscalls: [{ name: ['read'], action: 'SCMP_ACT_ALLOW' }] }),
      detail: 'syscalls[0].name: must be a string, not an array',
    },
    {
      what: 'a number in names',
      text: profile({ syscalls: [{ names: ['read', 0], action: 'SCMP_ACT_ALLOW' }] }),
      detail: 'syscalls[0].names[1]: must be a string, not number 0',
    },
    {
      what: 'syscalls as an object',
      text: profile({ syscalls: { read: 'SCMP_ACT_ALLOW' } }),
      detail: 'syscalls: must be an array, not an object',
    },
    {
      what: 'a syscalls element that is not an object',
      text: profile({ syscalls: ['read'] }),
      detail: 'syscalls[0]: must be a JSON object, not the string "read"',
    },
    {
      what: 'includes.caps as a string',
      text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { caps: 'CAP_SYS_ADMIN' } }] }),
      detail: 'syscalls[0].includes.caps: must be an array, not the string "CAP_SYS_ADMIN"',
    },
    {
      what: 'a defaultAction that is not a string',
      text: profile({ defaultAction: 0 }),
      detail: 'defaultAction: must be a string, not number 0',
    },
    { what: 'a JSON array', text: '[]', detail: 'must be a JSON object, not an array' },
    { what: 'JSON null', text: 'null', detail: 'must be a JSON object, not null' },
  ])('$what', ({ text, detail }) => {
    const error = parseError(text);
    expect(error.code).toBe('profile');
    expect(error.detail).toBe(detail);
    expect(error.message).toBe(detail);
  });

  it.each([
    {
      what: 'a trailing comma, with the line and column of the fault',
      text: '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n}\n',
      line: 3,
      column: 1,
      detail: 'not valid JSON: a property must follow ",", not "}"',
    },
    {
      what: 'a profile cut short (49 characters: the fault is just past them)',
      text: '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [',
      line: 1,
      column: 50,
      detail: 'not valid JSON: unexpected end of input',
    },
    {
      what: 'a single-quoted string',
      text: "{'defaultAction': 'SCMP_ACT_ERRNO'}",
      line: 1,
      column: 2,
      detail: 'not valid JSON: expected a property name in double quotes, found "\'"',
    },
  ])('invalid JSON is a syntax error at line:column: $what', ({ text, line, column, detail }) => {
    const error = parseError(text);
    expect(error.code).toBe('syntax');
    expect(error.detail).toBe(detail);
    expect([error.line, error.column]).toEqual([line, column]);
    expect(error.message).toBe(`${line}:${column}: ${detail}`);
  });
});

/** Limits moby's reader puts on values, which cbpf keeps (resolution.md §1). */
describe('values moby refuses', () => {
  // moby parses each part with ParseUint(p,10,8) (0-255) and rejects "0.0".
  it.each(['0.0', '256.1'])('minKernel "%s" is refused', (minKernel) => {
    expect(() => parseProfile(profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { minKernel } }] }))).toThrow(ParseError);
  });

  // A negative number for a uint field is a decode error; Go's ParseUint refuses "-0".
  it('value -0 is refused', () => {
    expect(() => parseProfile(oneArg('-0'))).toThrow(ParseError);
  });

  it('a config whose linux is not an object says what it is', () => {
    expect(parseError(JSON.stringify({ linux: 5 })).detail).toBe('linux: must be a JSON object, not number 5');
  });
});
