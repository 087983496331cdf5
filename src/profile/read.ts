/**
 * Reading seccomp profiles: Docker's (moby) JSON profile, containers-common's
 * variant of it, and the OCI runtime spec's `linux.seccomp` object (alone or
 * inside a whole `config.json`). Every field is checked here, so that the
 * stages after it work on well-formed values; a bad one is a ParseError whose
 * detail starts with its JSON path: `syscalls[12].args[0].op: unknown operator
 * "SCMP_CMP_FOO"`. Fields no runtime reads are ignored, as Go's JSON decoder
 * ignores them, and listed in `ignoredFields` so that `cbpf info` can say so.
 */

import { parseJsonValue } from '../codecs/json.js';
import { valueOffset } from '../codecs/json-syntax.js';
import { quoted } from '../codecs/text.js';
import { ParseError } from '../errors.js';
import { errnoNumber } from '../seccomp/errno.js';

/** The actions a profile can name (runc's and crun's spellings). */
export const PROFILE_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;
/** One of PROFILE_ACTIONS. */
export type ProfileAction = (typeof PROFILE_ACTIONS)[number];

/** The comparison operators of an argument condition (libseccomp's `SCMP_CMP_*`). */
export const OPERATORS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
/** One of OPERATORS. */
export type Operator = (typeof OPERATORS)[number];

/** The arch names a profile can use (libseccomp's `SCMP_ARCH_*` as the runtimes spell them). */
export const PROFILE_ARCHES = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
] as const;
/** One of PROFILE_ARCHES. */
export type ProfileArch = (typeof PROFILE_ARCHES)[number];

/** The `seccomp(2)` flags a profile can ask for (they change how the filter is loaded, not what it decides). */
export const PROFILE_FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
] as const;

/** One argument condition: `args[index] op value` (MASKED_EQ: `(args[index] & value) == valueTwo`). */
export interface Condition {
  readonly index: number;
  readonly op: Operator;
  /** A u64. */
  readonly value: bigint;
  /** A u64; only MASKED_EQ reads it. */
  readonly valueTwo: bigint;
}

/** When an entry applies (moby's includes/excludes): all given parts must hold for `includes`; any for `excludes`. */
export interface EntryFilter {
  /** Host arches, as Go names them (amd64, arm64, s390x, ...). */
  readonly arches: readonly string[];
  /** Capability names (`CAP_SYS_ADMIN`). */
  readonly caps: readonly string[];
  /** A kernel version `major.minor`, when given. */
  readonly minKernel?: { readonly major: number; readonly minor: number; readonly text: string };
}

/** One entry of `syscalls[]`. */
export interface ProfileEntry {
  /** Its JSON path, for messages and reports: `syscalls[3]`. */
  readonly path: string;
  readonly names: readonly string[];
  readonly action: ProfileAction;
  /** The errno (ERRNO) or trace message (TRACE), when given. */
  readonly errnoRet?: number;
  /** containers-common's `errno`: an errno by name or number, which podman prefers to errnoRet. */
  readonly errno?: number;
  readonly args: readonly Condition[];
  readonly includes: EntryFilter;
  readonly excludes: EntryFilter;
  readonly comment?: string;
}

/** An arch and the arches that come with it when it is the host's (moby's `archMap`). */
export interface ArchMapEntry {
  readonly architecture: ProfileArch;
  readonly subArchitectures: readonly ProfileArch[];
}

/**
 * A profile as written, checked but not yet resolved for a host or a runtime.
 * An OCI `linux.seccomp` object is the same shape without archMap and
 * includes/excludes, so it resolves the same way.
 */
export interface Profile {
  readonly defaultAction: ProfileAction;
  readonly defaultErrnoRet?: number;
  /** containers-common's `defaultErrno`, which podman prefers to defaultErrnoRet. */
  readonly defaultErrno?: number;
  readonly architectures: readonly ProfileArch[];
  readonly archMap: readonly ArchMapEntry[];
  readonly syscalls: readonly ProfileEntry[];
  readonly flags: readonly string[];
  readonly listenerPath?: string;
  readonly listenerMetadata?: string;
  /** Read from an OCI runtime spec (config.json's linux.seccomp): no engine resolves it, the runtime takes it as it is. */
  readonly runtimeSpec: boolean;
  /** JSON paths of fields no runtime reads (ignored, as the runtimes ignore them). */
  readonly ignoredFields: readonly string[];
}

const TOP_FIELDS = ['defaultAction', 'defaultErrnoRet', 'defaultErrno', 'architectures', 'archMap', 'syscalls', 'flags', 'listenerPath', 'listenerMetadata'];
const ENTRY_FIELDS = ['name', 'names', 'action', 'errnoRet', 'errno', 'args', 'comment', 'includes', 'excludes'];
const ARG_FIELDS = ['index', 'value', 'valueTwo', 'op'];
const FILTER_FIELDS = ['arches', 'caps', 'minKernel'];
const U64_MAX = (1n << 64n) - 1n;
/** The largest errno or trace value: SECCOMP_RET_DATA is 16 bits. */
const RET_DATA_MAX = 0xffff;

type Path = readonly (string | number)[];

/** `syscalls[12].args[0].op` for ['syscalls', 12, 'args', 0, 'op']. */
export function formatPath(path: Path): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

/** True when `bytes` look like a profile: a JSON object with a `defaultAction` (or an OCI config with `linux.seccomp`). */
export function looksLikeProfile(text: string): boolean {
  return /^\s*\{/.test(text) && /"(?:defaultAction|seccomp)"\s*:/.test(text);
}

/** Reads and checks a profile; throws ParseError (code `profile`, or `syntax` for text that is not JSON) naming the JSON path at fault. */
export function parseProfile(text: string): Profile {
  const root = parseJsonValue(text);
  const fail = (path: Path, detail: string): never => {
    throw new ParseError('profile', path.length === 0 ? detail : `${formatPath(path)}: ${detail}`, 0, 0);
  };
  const ignored: string[] = [];
  const object = (value: unknown, path: Path, fields: readonly string[]): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, `must be a JSON object, not ${typeName(value)}`);
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) if (!fields.includes(key)) ignored.push(formatPath([...path, key]));
    return record;
  };
  const list = <T>(value: unknown, path: Path, item: (v: unknown, p: Path) => T): T[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) fail(path, `must be an array, not ${typeName(value)}`);
    return (value as unknown[]).map((v, i) => item(v, [...path, i]));
  };
  const string = (value: unknown, path: Path): string => {
    if (typeof value !== 'string') fail(path, `must be a string, not ${typeName(value)}`);
    return value as string;
  };
  const oneOf = <T extends string>(value: unknown, path: Path, allowed: readonly T[], what: string): T => {
    const text = string(value, path);
    if (!allowed.includes(text as T)) fail(path, `unknown ${what} ${quoted(text)} (one of ${allowed.join(', ')})`);
    return text as T;
  };
  /** An integer field read from its own digits, so that u64 values above 2^53 stay exact. */
  // When every number in the text is written as plain digits, JSON.parse read the safe ones exactly, and
  // only larger ones need their digits (finding a value's text costs a scan of the text).
  const onlyDigits = !/[0-9][.eE]|-[0-9]/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, '""'));
  const integer = (value: unknown, path: Path, max: bigint, what: string): bigint => {
    if (typeof value !== 'number') fail(path, `must be ${what}, not ${typeName(value)}`);
    if (onlyDigits && Number.isSafeInteger(value)) {
      const n = BigInt(value as number);
      if (n > max) fail(path, `${n} does not fit: must be ${what}`);
      return n;
    }
    const at = valueOffset(text, path);
    const literal = at === undefined ? String(value) : (/^-?[0-9.eE+-]+/.exec(text.slice(at, at + 40))?.[0] ?? String(value));
    if (!/^-?(0|[1-9][0-9]*)$/.test(literal)) fail(path, `must be ${what}, not ${literal}`);
    const n = BigInt(literal);
    if (literal.startsWith('-') || n > max) fail(path, `${literal} does not fit: must be ${what}`);
    return n;
  };
  const small = (value: unknown, path: Path, max: number, what: string): number => Number(integer(value, path, BigInt(max), what));
  /** containers-common's errno strings: a name (`EPERM`) or a decimal number. */
  const errnoString = (value: unknown, path: Path): number | undefined => {
    if (value === undefined || value === null || value === '') return undefined;
    const text = string(value, path);
    const n = /^[0-9]+$/.test(text) ? Number(text) : errnoNumber(text);
    if (n === undefined || n > RET_DATA_MAX) fail(path, `unknown errno ${quoted(text)} (a name such as EPERM, or a number)`);
    return n;
  };

  // The OCI runtime spec's config.json holds the profile at linux.seccomp.
  const isConfig = typeof root === 'object' && root !== null && !('defaultAction' in root) && 'linux' in root;
  const base: Path = isConfig ? ['linux', 'seccomp'] : [];
  if (isConfig) {
    const linux = (root as { linux: unknown }).linux;
    if (typeof linux !== 'object' || linux === null || Array.isArray(linux)) fail(['linux'], `must be a JSON object, not ${typeName(linux)}`);
    if ((linux as Record<string, unknown>).seccomp === undefined) fail(['linux'], 'has no seccomp object: this OCI config loads no filter');
  }
  const top = object(isConfig ? (root as { linux: Record<string, unknown> }).linux.seccomp : root, base, TOP_FIELDS);
  const at = (...parts: (string | number)[]): Path => [...base, ...parts];
  if (top.defaultAction === undefined) fail(base, 'missing defaultAction: a profile must say what happens to the syscalls it does not name');

  const entryFilter = (value: unknown, path: Path): EntryFilter => {
    if (value === undefined || value === null) return { arches: [], caps: [] };
    const fields = object(value, path, FILTER_FIELDS);
    const minKernel =
      fields.minKernel === undefined || fields.minKernel === ''
        ? undefined
        : kernelVersion(string(fields.minKernel, [...path, 'minKernel']), [...path, 'minKernel']);
    return {
      arches: list(fields.arches, [...path, 'arches'], string),
      caps: list(fields.caps, [...path, 'caps'], string),
      ...(minKernel ? { minKernel } : {}),
    };
  };
  const kernelVersion = (text: string, path: Path): { major: number; minor: number; text: string } => {
    // moby reads each part as a u8 and refuses 0.0.
    const match = /^([0-9]+)\.([0-9]+)$/.exec(text);
    if (!match || Number(match[1]) > 255 || Number(match[2]) > 255 || (Number(match[1]) === 0 && Number(match[2]) === 0)) {
      fail(path, `invalid kernel version ${quoted(text)} (expected MAJOR.MINOR, each 0 to 255, as "5.8")`);
    }
    return { major: Number(match![1]), minor: Number(match![2]), text };
  };
  const condition = (value: unknown, path: Path): Condition => {
    const fields = object(value, path, ARG_FIELDS);
    if (fields.op === undefined) fail(path, 'missing op');
    return {
      index: small(fields.index ?? 0, [...path, 'index'], 5, 'an argument index from 0 to 5'),
      value: fields.value === undefined ? 0n : integer(fields.value, [...path, 'value'], U64_MAX, 'an unsigned 64-bit integer'),
      valueTwo: fields.valueTwo === undefined ? 0n : integer(fields.valueTwo, [...path, 'valueTwo'], U64_MAX, 'an unsigned 64-bit integer'),
      op: oneOf(fields.op, [...path, 'op'], OPERATORS, 'operator'),
    };
  };
  const entry = (value: unknown, path: Path): ProfileEntry => {
    const fields = object(value, path, ENTRY_FIELDS);
    const names = list(fields.names, [...path, 'names'], string);
    if (fields.name !== undefined && fields.name !== '') {
      if (names.length > 0) fail(path, 'has both name and names: use one');
      names.push(string(fields.name, [...path, 'name']));
    }
    if (names.length === 0) fail(path, 'names no syscall (give names or name)');
    names.forEach((name, i) => {
      if (name === '') fail([...path, 'names', i], 'empty syscall name');
    });
    if (fields.action === undefined) fail(path, 'missing action');
    const errnoRet =
      fields.errnoRet === undefined || fields.errnoRet === null
        ? undefined
        : small(fields.errnoRet, [...path, 'errnoRet'], RET_DATA_MAX, 'an integer from 0 to 65535');
    const errno = errnoString(fields.errno, [...path, 'errno']);
    return {
      path: formatPath(path),
      names,
      action: oneOf(fields.action, [...path, 'action'], PROFILE_ACTIONS, 'action'),
      ...(errnoRet === undefined ? {} : { errnoRet }),
      ...(errno === undefined ? {} : { errno }),
      args: list(fields.args, [...path, 'args'], condition),
      includes: entryFilter(fields.includes, [...path, 'includes']),
      excludes: entryFilter(fields.excludes, [...path, 'excludes']),
      ...(typeof fields.comment === 'string' && fields.comment !== '' ? { comment: fields.comment } : {}),
    };
  };
  const archName = (value: unknown, path: Path): ProfileArch => oneOf(value, path, PROFILE_ARCHES, 'arch');
  const archMapEntry = (value: unknown, path: Path): ArchMapEntry => {
    const fields = object(value, path, ['architecture', 'subArchitectures']);
    return {
      architecture: archName(fields.architecture, [...path, 'architecture']),
      subArchitectures: list(fields.subArchitectures, [...path, 'subArchitectures'], archName),
    };
  };
  const defaultErrnoRet =
    top.defaultErrnoRet === undefined || top.defaultErrnoRet === null
      ? undefined
      : small(top.defaultErrnoRet, at('defaultErrnoRet'), RET_DATA_MAX, 'an integer from 0 to 65535');
  const defaultErrno = errnoString(top.defaultErrno, at('defaultErrno'));
  const profile: Profile = {
    defaultAction: oneOf(top.defaultAction, at('defaultAction'), PROFILE_ACTIONS, 'action'),
    ...(defaultErrnoRet === undefined ? {} : { defaultErrnoRet }),
    ...(defaultErrno === undefined ? {} : { defaultErrno }),
    architectures: list(top.architectures, at('architectures'), archName),
    archMap: list(top.archMap, at('archMap'), archMapEntry),
    syscalls: list(top.syscalls, at('syscalls'), entry),
    flags: list(top.flags, at('flags'), (v, p) => oneOf(v, p, PROFILE_FLAGS, 'flag')),
    ...(typeof top.listenerPath === 'string' && top.listenerPath !== '' ? { listenerPath: top.listenerPath } : {}),
    ...(typeof top.listenerMetadata === 'string' && top.listenerMetadata !== '' ? { listenerMetadata: top.listenerMetadata } : {}),
    runtimeSpec: isConfig,
    ignoredFields: ignored,
  };
  if (profile.architectures.length > 0 && profile.archMap.length > 0) fail(base, 'has both architectures and archMap: use one');
  return profile;
}

/** What a JSON value is, for messages. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${quoted(value)}`;
  return `${typeof value} ${String(value)}`;
}
