/**
 * The profile target: random seccomp profiles and contexts, each compiled
 * (compileProfile, run by the caller's interpreter), decided by the reference
 * evaluator (decideProfile) and, when its helper runs here, built by the real
 * libseccomp (with runc's stub in front), on records aimed at every syscall
 * number the filter knows and every constant it compares. A disagreement, or
 * a profile one side refuses and the other builds, is shrunk by dropping
 * entries, names, conditions and arches while it still fails. Two faults of
 * libseccomp 2.5.4's code generation that cbpf does not model are expected,
 * not reported: a lost syscall-number load (archesWithoutSyscallLoad: the
 * runtime then decides as if the number were the arch) and a stale
 * accumulator (ambiguousJumps: records whose path meets one are not compared
 * with libseccomp). Both are counted in ProfileCheck.
 */
import type { MakeEngine } from '../engine.js';
import { ParseError } from '../errors.js';
import type { Instruction } from '../instruction.js';
import type { ArchFilter } from '../profile/filter.js';
import { decideStub, multiplexedAs } from '../profile/filter.js';
import { buildFilter, compileProfile, contextOf, decideProfile, knownSyscall, type ProfileFilter, parseProfile, resolveProfile } from '../profile/index.js';
import type { RuleCondition } from '../profile/libseccomp-db.js';
import {
  ambiguousJumps,
  archesWithoutSyscallLoad,
  type LibseccompFilter,
  type LibseccompRefusal,
  libseccompProgram,
  passesThrough,
  runtimeDecision,
} from '../profile/oracle.js';
import type { Operator, ProfileAction, ProfileArch } from '../profile/read.js';
import { OPERATORS, PROFILE_ACTIONS } from '../profile/read.js';
import type { ProfileContextOptions, ResolvedProfile } from '../profile/resolve.js';
import { hexValue } from '../seccomp/actions.js';
import { ARCHES, type Arch, X32_SYSCALL_BIT } from '../seccomp/arches.js';
import { formatRecordJson } from '../seccomp/record-json.js';
import { encodeSeccompData, packRecords, type SeccompData } from '../seccomp/records.js';
import { SYSCALL_TABLES } from '../seccomp/syscall-tables.generated.js';
import { syscallNumber } from '../seccomp/syscalls.js';
import { verify } from '../verifier.js';
import type { FuzzTarget } from './differential.js';
import { chance, int, pick, type Random, seededRandom, u32 } from './random.js';

// ---- Profiles as JSON, with exact 64-bit values.

/** One argument condition as a profile writes it. */
export interface GeneratedArg {
  readonly index: number;
  readonly value: bigint;
  readonly valueTwo: bigint;
  readonly op: Operator;
}

/** includes/excludes. */
export interface GeneratedFilter {
  readonly arches?: readonly string[];
  readonly caps?: readonly string[];
  readonly minKernel?: string;
}

/** One entry of `syscalls[]`. */
export interface GeneratedEntry {
  readonly names: readonly string[];
  readonly action: ProfileAction;
  readonly errnoRet?: number;
  /** containers-common's errno string. */
  readonly errno?: string;
  readonly args: readonly GeneratedArg[];
  readonly includes?: GeneratedFilter;
  readonly excludes?: GeneratedFilter;
}

/** A profile as the generator makes it: Docker's JSON shape, with bigint values. */
export interface GeneratedProfile {
  readonly defaultAction: ProfileAction;
  readonly defaultErrnoRet?: number;
  readonly defaultErrno?: string;
  readonly architectures?: readonly ProfileArch[];
  readonly archMap?: readonly { readonly architecture: ProfileArch; readonly subArchitectures: readonly ProfileArch[] }[];
  readonly syscalls: readonly GeneratedEntry[];
}

/** A profile and the context it is resolved for. */
export interface ProfileCase {
  readonly profile: GeneratedProfile;
  readonly context: ProfileContextOptions;
}

/** The profile as JSON text; u64 values are written as exact integer literals. */
export function profileJson(profile: GeneratedProfile): string {
  const text = JSON.stringify(profile, (_, v) => (typeof v === 'bigint' ? `@u64:${v}@` : v), 2);
  return text.replace(/"@u64:(\d+)@"/g, '$1');
}

// ---- Generating profiles.

const COMMON = ['read', 'write', 'openat', 'close', 'mmap', 'mprotect', 'ioctl', 'fcntl', 'prctl', 'kill', 'futex', 'getpid', 'exit_group'];
const CONTAINER = ['clone', 'clone3', 'personality', 'unshare', 'setns', 'mount', 'ptrace', 'chmod', 'restart_syscall'];
/** Reached through socketcall(2) or ipc(2) on i386 and s390. */
const MULTIPLEXED = ['socket', 'bind', 'connect', 'accept', 'accept4', 'sendto', 'recvfrom', 'setsockopt', 'socketpair', 'recvmmsg', 'send'];
const IPC = ['semop', 'semget', 'semtimedop', 'msgsnd', 'shmat', 'shmdt', 'shmctl', 'socketcall', 'ipc'];
/** Known on some arches only. */
const ARCH_SPECIFIC = [
  'arch_prctl',
  'modify_ldt',
  'iopl',
  'ioperm',
  'vm86',
  'set_thread_area',
  'open',
  'time',
  '_llseek',
  'mmap2',
  'waitpid',
  'set_tls',
  'breakpoint',
  'cacheflush',
  'arm_fadvise64_64',
  's390_pci_mmio_read',
  's390_runtime_instr',
  'uselib',
  'map_shadow_stack',
  'memfd_secret',
];
/** The largest numbers (the stub's limits move with them). */
const NEWEST = ['futex_requeue', 'futex_wait', 'fchmodat2', 'cachestat', 'futex_waitv'];
/** Known nowhere: runc and crun skip them. */
const UNKNOWN = ['mseal', 'lsm_list_modules', 'not_a_syscall'];
const NAME_POOLS = [COMMON, CONTAINER, MULTIPLEXED, IPC, ARCH_SPECIFIC, NEWEST, UNKNOWN];

const FAMILIES: Readonly<Record<string, readonly ProfileArch[]>> = {
  x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  s390x: ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'],
};
const HOST_NAMES = ['amd64', 'arm64', 's390x', 'x86', 'arm'];
const CAPS = ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_SYS_PTRACE', 'CAP_CHOWN'];

const M64 = (1n << 64n) - 1n;
/** Values at the edges of the 32-bit halves. */
const EDGES = [
  0n,
  1n,
  2n,
  0x7fn,
  0x80n,
  0xffn,
  0x7fffffffn,
  0x80000000n,
  0xfffffffen,
  0xffffffffn,
  0x100000000n,
  0x100000001n,
  0x1ffffffffn,
  0xffffffff00000000n,
  0xffffffff00000001n,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  0xfffffffffffffffen,
  0xffffffffffffffffn,
];
const MASKS = [0n, 1n, 0xffn, 0xff00n, 0x80000000n, 0xffffffffn, 0x100000000n, 0xffffffff00000000n, 0x8000000000000000n, 0x7e020000n];

const u64 = (random: Random): bigint => (BigInt(u32(random)) << 32n) | BigInt(u32(random));

function value(random: Random): bigint {
  const r = random();
  if (r < 0.55) return pick(random, EDGES);
  if (r < 0.8) return BigInt(int(random, 0, 40));
  if (r < 0.9) return BigInt(u32(random));
  return u64(random);
}

function condition(random: Random, index: number): GeneratedArg {
  const op = pick(random, OPERATORS);
  if (op !== 'SCMP_CMP_MASKED_EQ') return { index, op, value: value(random), valueTwo: chance(random, 0.1) ? value(random) : 0n };
  const mask = chance(random, 0.7) ? pick(random, MASKS) : value(random);
  return { index, op, value: mask, valueTwo: chance(random, 0.7) ? value(random) & mask : value(random) };
}

function entryFilter(random: Random): GeneratedFilter | undefined {
  if (!chance(random, 0.15)) return undefined;
  const r = random();
  if (r < 0.4) return { arches: [pick(random, HOST_NAMES)] };
  if (r < 0.8) return { caps: [pick(random, CAPS)] };
  return { minKernel: pick(random, ['4.14', '5.8', '6.1']) };
}

function entry(random: Random, names: readonly string[]): GeneratedEntry {
  const picked = [...new Set(Array.from({ length: int(random, 1, 3) }, () => pick(random, names)))];
  let action = pick(random, PROFILE_ACTIONS);
  if (action === 'SCMP_ACT_NOTIFY' && picked.includes('write')) action = 'SCMP_ACT_LOG'; // the runtimes refuse NOTIFY on write
  const count = chance(random, 0.45) ? 0 : int(random, 1, 3);
  const maxIndex = chance(random, 0.8) ? 2 : 5;
  const args: GeneratedArg[] = [];
  for (let i = 0; i < count; i++) {
    // Now and then the same argument again: the runtimes split such an entry into ORed rules.
    const index = i > 0 && chance(random, 0.25) ? args[0]!.index : int(random, 0, maxIndex);
    args.push(condition(random, index));
  }
  const includes = entryFilter(random);
  const excludes = entryFilter(random);
  return {
    names: picked,
    action,
    // An errno on another action than ERRNO or TRACE now and then (crun refuses it).
    ...(chance(random, errnoTaker(action) ? 0.5 : 0.03) ? { errnoRet: pick(random, [0, 1, 13, 38, 4094, 4095, 65535]) } : {}),
    ...(chance(random, errnoTaker(action) ? 0.15 : 0.01) ? { errno: pick(random, ['EPERM', 'ENOSYS', '38', 'EACCES']) } : {}),
    args,
    ...(includes ? { includes } : {}),
    ...(excludes ? { excludes } : {}),
  };
}

const errnoTaker = (action: ProfileAction): boolean => action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE';

/** A random subset of `items`, in order. */
const subset = <T>(random: Random, items: readonly T[], p = 0.6): T[] => items.filter(() => chance(random, p));

/** A random profile and context. */
export function generateProfileCase(random: Random): ProfileCase {
  const host = chance(random, 0.7) ? 'x86_64' : pick(random, ['aarch64', 's390x']);
  const family = FAMILIES[host]!;
  const r = random();
  let arches: Pick<GeneratedProfile, 'architectures' | 'archMap'> = {};
  if (r < 0.4) {
    arches = {
      archMap: Object.entries(FAMILIES)
        .filter(([h]) => h === host || chance(random, 0.5))
        .map(([, f]) => ({ architecture: f[0]!, subArchitectures: subset(random, f.slice(1), 0.7) })),
    };
  } else if (r < 0.8) {
    const extra: ProfileArch[] = [];
    // Another family's arch: same byte order (a filter for both), or rarely the other one (libseccomp refuses it).
    if (chance(random, 0.1)) extra.push(host === 'aarch64' ? 'SCMP_ARCH_X86_64' : 'SCMP_ARCH_AARCH64');
    if (chance(random, 0.04)) extra.push(host === 's390x' ? 'SCMP_ARCH_X86' : 'SCMP_ARCH_S390X');
    arches = { architectures: [...subset(random, family), ...extra] };
  }
  const names = [...new Set(Array.from({ length: int(random, 2, 10) }, () => pick(random, pick(random, NAME_POOLS))))];
  const syscalls = Array.from({ length: int(random, 1, 8) }, () => entry(random, names));
  // NOTIFY as the default now and then (crun takes it, runc refuses it).
  const others = PROFILE_ACTIONS.filter((a) => a !== 'SCMP_ACT_NOTIFY');
  const defaultAction = chance(random, 0.5) ? 'SCMP_ACT_ERRNO' : chance(random, 0.03) ? 'SCMP_ACT_NOTIFY' : pick(random, others);
  const profile: GeneratedProfile = {
    defaultAction,
    ...(chance(random, errnoTaker(defaultAction) ? 0.5 : 0.03) ? { defaultErrnoRet: pick(random, [1, 38, 0, 13, 4095]) } : {}),
    ...(chance(random, errnoTaker(defaultAction) ? 0.1 : 0.01) ? { defaultErrno: pick(random, ['EPERM', 'ENOSYS']) } : {}),
    ...arches,
    syscalls,
  };
  const caps = pick(random, ['docker', 'podman', 'none', undefined]);
  const context: ProfileContextOptions = {
    engine: pick(random, ['docker', 'docker', 'podman', 'none']),
    runtime: pick(random, ['runc', 'crun']),
    hostArch: host,
    kernel: pick(random, ['6.18', '6.18', '5.4', '4.14']),
    ...(caps ? { caps } : {}),
    ...(chance(random, 0.2) ? { capAdd: ['CAP_SYS_ADMIN'] } : {}),
    ...(chance(random, 0.25) ? { optimize: 2 } : {}),
  };
  return { profile, context };
}

// ---- Records.

const tableNumbers = new Map<Arch, number[]>();
/** Every number in `arch`'s syscall table. */
function numbersOf(arch: Arch): number[] {
  let list = tableNumbers.get(arch);
  if (!list) {
    list = arch.table ? [...new Set(Object.values(SYSCALL_TABLES[arch.table] as Record<string, number>))].sort((a, b) => a - b) : [];
    tableNumbers.set(arch, list);
  }
  return list;
}

/** Per number, the argument conditions of every rule (and socketcall/ipc companion) the filter has on these arches. */
function conditionsByNumber(filter: ProfileFilter, group: readonly ArchFilter[]): Map<number, (readonly RuleCondition[])[]> {
  const byNr = new Map<number, (readonly RuleCondition[])[]>();
  const add = (nr: number | undefined, conditions: readonly RuleCondition[]) => {
    if (nr !== undefined && conditions.length > 0) byNr.set(nr, [...(byNr.get(nr) ?? []), conditions]);
  };
  for (const rule of filter.resolved.rules) {
    for (const { info } of group) {
      add(syscallNumber(info.arch, rule.name), rule.conditions);
      const mux = info.multiplexed ? multiplexedAs(rule.name) : undefined;
      if (mux) {
        const companion = [{ index: 0, op: 'SCMP_CMP_EQ', value: BigInt(mux.call), valueTwo: 0n } as const, ...rule.conditions.filter((c) => c.index !== 0)];
        add(syscallNumber(info.arch, mux.multiplexer), companion);
      }
    }
  }
  return byNr;
}

/** A value that satisfies `c` (where one exists). */
function satisfying(c: RuleCondition): bigint {
  switch (c.op) {
    case 'SCMP_CMP_NE':
      return c.value ^ 1n;
    case 'SCMP_CMP_LT':
      return c.value === 0n ? 0n : c.value - 1n;
    case 'SCMP_CMP_GT':
      return c.value === M64 ? M64 : c.value + 1n;
    case 'SCMP_CMP_MASKED_EQ':
      return c.valueTwo;
    default:
      return c.value;
  }
}

/** The lowest and highest set bits of each half of `mask`. */
function edgeBits(mask: bigint): bigint[] {
  const bits: bigint[] = [];
  for (const [from, to] of [
    [0n, 32n],
    [32n, 64n],
  ] as const) {
    const set: bigint[] = [];
    for (let b = from; b < to; b++) if ((mask >> b) & 1n) set.push(1n << b);
    if (set.length > 0) bits.push(set[0]!, set.at(-1)!);
  }
  return bits;
}

/** Values at and around what `c` compares: ±1, each high word 0, 1 and 0xffffffff, mask bits flipped. */
function boundary(c: RuleCondition): bigint[] {
  const bases = c.op === 'SCMP_CMP_MASKED_EQ' ? [c.valueTwo, c.valueTwo | (~c.value & M64), c.value] : [c.value];
  const out = new Set<bigint>();
  for (const b of bases) {
    for (const v of [b, b - 1n, b + 1n]) {
      const w = v & M64;
      const lowWord = w & 0xffffffffn;
      out.add(w);
      for (const h of [0n, 1n, 0xffffffffn]) out.add(lowWord | (h << 32n));
      out.add(w & 0xffffffff00000000n);
      out.add(w | 0xffffffffn);
    }
  }
  if (c.op === 'SCMP_CMP_MASKED_EQ') {
    for (const bit of edgeBits(c.value)) out.add(c.valueTwo ^ bit);
    const outside = ~c.value & M64;
    for (const bit of edgeBits(outside)) out.add(c.valueTwo ^ bit);
  }
  return [...out];
}

/** Records for one (arch, nr) whose rules compare arguments. */
function argumentRecords(sets: readonly (readonly RuleCondition[])[], random: Random, thorough: boolean): bigint[][] {
  const pools: bigint[][] = Array.from({ length: 6 }, () => []);
  for (const set of sets) for (const c of set) pools[c.index]!.push(...boundary(c));
  const rows: bigint[][] = [];
  for (const set of sets) {
    const exact = Array.from({ length: 6 }, () => 0n);
    for (const c of set) exact[c.index] = satisfying(c);
    rows.push(exact);
    for (const c of set) {
      for (const v of boundary(c)) {
        const row = [...exact];
        row[c.index] = v;
        rows.push(row);
      }
    }
  }
  for (let i = 0; i < (thorough ? 24 : 8); i++) {
    rows.push(pools.map((pool) => (pool.length > 0 && chance(random, 0.85) ? pick(random, pool) : pick(random, [0n, 1n, u64(random)]))));
  }
  const cap = thorough ? 800 : 120;
  while (rows.length > cap) rows.splice(int(random, 0, rows.length - 1), 1);
  return rows;
}

/**
 * Records for `filter`: per arch, every number it has rules for and their
 * neighbours, its table's numbers (all when `thorough`, else a sample), -1,
 * numbers past the table, the other half of x86_64/x32; arguments at and
 * around every compared constant; and records of arches the filter lacks.
 */
export function profileRecords(filter: ProfileFilter, random: Random, thorough: boolean): SeccompData[] {
  const records: SeccompData[] = [];
  const groups = new Map<number, ArchFilter[]>();
  for (const a of filter.arches) groups.set(a.info.arch.auditArch, [...(groups.get(a.info.arch.auditArch) ?? []), a]);
  const plain = (): bigint[] => (chance(random, 0.7) ? [0n, 0n, 0n, 0n, 0n, 0n] : Array.from({ length: 6 }, () => pick(random, [0n, u64(random)])));
  for (const [audit, group] of groups) {
    const conditions = conditionsByNumber(filter, group);
    const nrs = new Set<number>([-1, 0, 1, X32_SYSCALL_BIT, X32_SYSCALL_BIT - 1, X32_SYSCALL_BIT + 1, 0x7fffffff, -0x80000000, 0xffff, 5000]);
    for (const { info, rules } of group) {
      const table = numbersOf(info.arch);
      const base = info.arch.name === 'x32' ? X32_SYSCALL_BIT : 0;
      for (const nr of rules.syscalls.keys()) for (const d of [-1, 0, 1]) nrs.add(nr + d);
      if (table.length > 0) for (const nr of thorough ? table : Array.from({ length: 16 }, () => pick(random, table))) nrs.add(nr);
      const largest = table.at(-1) ?? base;
      for (const d of [1, 2, 100]) nrs.add(largest + d);
      const stubLimit = filter.stub ? [...filter.stub.largest].find(([i]) => i === info)?.[1] : undefined;
      if (stubLimit !== undefined) for (const d of [-1, 0, 1]) nrs.add(stubLimit + d);
      // The other half of the shared x86_64/x32 audit arch.
      if (info.arch.name === 'x86_64') for (const nr of [...rules.syscalls.keys()].slice(0, 8)) nrs.add(nr | X32_SYSCALL_BIT);
      if (info.arch.name === 'x32') for (const nr of [...rules.syscalls.keys()].slice(0, 8)) nrs.add(nr & ~X32_SYSCALL_BIT);
    }
    for (const n of nrs) {
      const nr = n | 0;
      const sets = conditions.get(n >>> 0);
      const rows = sets ? argumentRecords(sets, random, thorough) : [plain()];
      for (const args of rows) records.push({ nr, arch: audit, instructionPointer: 0n, args });
    }
  }
  // Arches the filter does not check.
  const foreign = [...new Set(ARCHES.map((a) => a.auditArch))].filter((a) => !groups.has(a)).slice(0, 3);
  const someNr = filter.arches[0]?.rules.syscalls.keys().next().value ?? 0;
  for (const arch of [...foreign, 0x12345678, 0]) for (const nr of [0, 1, -1, someNr]) records.push({ nr, arch, instructionPointer: 0n, args: plain() });
  return records;
}

// ---- Checking one profile.

/** What the check compares, and how. */
export interface ProfileCheckOptions {
  /** Runs programs on records (the interpreter: core code has none). */
  readonly engine: MakeEngine;
  /** Ask libseccomp too (its helper must run here). */
  readonly libseccomp: boolean;
  /** The compiler under test (compileProfile; tests plant faults here). */
  readonly compile?: (filter: ProfileFilter) => Instruction[];
}

/** A disagreement: on a record (with the three values), or about whether the profile can be built at all. */
export interface ProfileMismatch {
  readonly summary: string;
  readonly record?: SeccompData;
  readonly compiled?: number;
  readonly evaluator?: number;
  /** What the runtime's filter returns: libseccomp's, behind runc's stub. */
  readonly runtime?: number;
}

/** What a check did. */
export interface ProfileCheck {
  readonly records: number;
  /** Records on which libseccomp's filter lost its syscall-number load (archesWithoutSyscallLoad) and so differs from cbpf's, as expected. */
  readonly lostLoad?: number;
  /** Records whose path through libseccomp's filter meets a jump with a stale accumulator (ambiguousJumps): not compared with libseccomp. */
  readonly staleAccumulator?: number;
  /** Why the profile cannot be built (both sides agreeing), when it cannot. */
  readonly refused?: string;
  readonly mismatch?: ProfileMismatch;
}

/** The refusal cbpf's buildFilter reports, in the oracle's terms: `default`, `arches`, or `rule K (NAME) errno E`. */
function cbpfRefusal(resolved: ResolvedProfile, error: ParseError): string {
  if (error.detail.includes('never returns')) return 'hangs';
  if (error.detail.includes('refuses the default action')) return 'default';
  if (error.detail.includes('refuses the arch')) return 'arches';
  const refuses = (count: number): boolean => {
    try {
      buildFilter({ ...resolved, rules: resolved.rules.slice(0, count) });
      return false;
    } catch {
      return true;
    }
  };
  // The first rule refused: the shortest prefix of the rules that buildFilter refuses.
  let [lo, hi] = [1, resolved.rules.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (refuses(mid)) hi = mid;
    else lo = mid + 1;
  }
  const errno = error.detail.includes('(EEXIST)') ? -17 : -Number(/errno (\d+)/.exec(error.detail)?.[1] ?? 0);
  return `rule ${lo - 1} (${resolved.rules[lo - 1]?.name}) errno ${errno}`;
}

/** libseccomp's refusal in the terms of cbpfRefusal. */
function oracleRefusal(resolved: ResolvedProfile, refused: LibseccompRefusal): string {
  if ('hangs' in refused) return 'hangs';
  if ('setup' in refused) return refused.setup;
  return `rule ${refused.rule} (${resolved.rules[refused.rule]?.name}) errno ${refused.errno}`;
}

/** Compares the compiled filter, the evaluator and libseccomp (when asked) for `resolved` on `records(filter)`. */
export function checkResolved(resolved: ResolvedProfile, records: (filter: ProfileFilter) => SeccompData[], options: ProfileCheckOptions): ProfileCheck {
  let filter: ProfileFilter | undefined;
  let ours: string | undefined;
  try {
    filter = buildFilter(resolved);
  } catch (error) {
    if (!(error instanceof ParseError && /libseccomp (refuses|.* never returns)/.test(error.detail))) throw error;
    ours = cbpfRefusal(resolved, error);
  }
  let oracle: LibseccompFilter | undefined;
  try {
    oracle = options.libseccomp ? libseccompProgram(resolved) : undefined;
  } catch (error) {
    return { records: 0, mismatch: { summary: `the libseccomp helper fails: ${(error as Error).message}` } };
  }
  const theirs = oracle && 'refused' in oracle ? oracleRefusal(resolved, oracle.refused) : undefined;
  if (oracle && ours !== theirs) {
    return {
      records: 0,
      mismatch: { summary: `libseccomp ${theirs ? `refuses: ${theirs}` : 'builds the filter'}, cbpf ${ours ? `refuses: ${ours}` : 'builds it'}` },
    };
  }
  if (!filter) return { records: 0, refused: ours! };
  let compiled: ReturnType<typeof verify>;
  try {
    compiled = verify((options.compile ?? compileProfile)(filter));
  } catch (error) {
    return { records: 0, mismatch: { summary: `the compiled program fails: ${(error as Error).message}` } };
  }
  const list = records(filter);
  const batch = packRecords(list);
  const mine = Uint32Array.from(options.engine([compiled]).decide(batch));
  const program = oracle && 'program' in oracle ? oracle.program : undefined;
  const lib = program ? Uint32Array.from(options.engine([verify(program)]).decide(batch)) : undefined;
  const lost = program ? archesWithoutSyscallLoad(program) : new Set<number>();
  const ambiguous = program ? ambiguousJumps(program) : new Set<number>();
  const { stub: _, ...withoutStub } = filter;
  let lostLoad = 0;
  let staleAccumulator = 0;
  for (let i = 0; i < list.length; i++) {
    const data = list[i]!;
    const evaluator = decideProfile(filter, data) >>> 0;
    let runtime = lib ? runtimeDecision(filter, data, () => lib[i]!) : undefined;
    const stubbed = filter.stub !== undefined && decideStub(filter.stub, data.arch >>> 0, data.nr) !== undefined;
    if (runtime !== undefined && !stubbed && passesThrough(program!, data, ambiguous)) {
      staleAccumulator++;
      runtime = undefined;
    }
    // Where libseccomp lost the syscall-number load, its checks see the arch as the number (runc's stub still sees the real one).
    const expected = lost.has(data.arch >>> 0) ? runtimeDecision(filter, data, () => decideProfile(withoutStub, { ...data, nr: data.arch | 0 })) : evaluator;
    if (expected !== evaluator) lostLoad++;
    if (mine[i] !== evaluator || (runtime !== undefined && runtime !== expected)) {
      const values = `compiled ${hexValue(mine[i]!)}, evaluator ${hexValue(evaluator)}${runtime === undefined ? '' : `, libseccomp ${hexValue(runtime)}`}`;
      const note = expected === evaluator ? '' : ` (libseccomp lost its syscall-number load here: expected ${hexValue(expected)})`;
      return {
        records: i + 1,
        mismatch: { summary: `${values}${note}`, record: data, compiled: mine[i]!, evaluator, ...(runtime === undefined ? {} : { runtime }) },
      };
    }
  }
  return { records: list.length, ...(lostLoad > 0 ? { lostLoad } : {}), ...(staleAccumulator > 0 ? { staleAccumulator } : {}) };
}

/** Parses, resolves and checks a case; undefined when no runtime would take it (resolveProfile refuses it). */
export function checkCase(c: ProfileCase, records: (filter: ProfileFilter) => SeccompData[], options: ProfileCheckOptions): ProfileCheck | undefined {
  let resolved: ResolvedProfile;
  try {
    resolved = resolveProfile(parseProfile(profileJson(c.profile)), contextOf(c.context), knownSyscall);
  } catch (error) {
    if (error instanceof ParseError) return undefined;
    throw error;
  }
  return checkResolved(resolved, records, options);
}

// ---- Shrinking.

const without = <T>(items: readonly T[], i: number): T[] => items.filter((_, j) => j !== i);

/** Smaller versions of `c`, the biggest cuts first. */
function* smaller(c: ProfileCase): Generator<ProfileCase> {
  const p = c.profile;
  const withEntries = (syscalls: GeneratedEntry[]): ProfileCase => ({ ...c, profile: { ...p, syscalls } });
  for (let i = 0; i < p.syscalls.length; i++) if (p.syscalls.length > 1) yield withEntries(without(p.syscalls, i));
  for (let i = 0; i < p.syscalls.length; i++) {
    const e = p.syscalls[i]!;
    const replace = (changed: GeneratedEntry) => withEntries(p.syscalls.map((x, j) => (j === i ? changed : x)));
    for (let n = 0; n < e.names.length; n++) if (e.names.length > 1) yield replace({ ...e, names: without(e.names, n) });
    for (let a = 0; a < e.args.length; a++) yield replace({ ...e, args: without(e.args, a) });
    const { includes: _i, ...noIncludes } = e;
    const { excludes: _x, ...noExcludes } = e;
    const { errnoRet: _r, errno: _e, ...noErrno } = e;
    if (e.includes) yield replace(noIncludes);
    if (e.excludes) yield replace(noExcludes);
    if (e.errnoRet !== undefined || e.errno !== undefined) yield replace(noErrno);
  }
  const { architectures, archMap, ...bare } = p;
  if (architectures) {
    yield { ...c, profile: bare };
    for (let i = 0; i < architectures.length; i++) yield { ...c, profile: { ...bare, architectures: without(architectures, i) } };
  }
  if (archMap) {
    yield { ...c, profile: bare };
    for (let i = 0; i < archMap.length; i++) {
      if (archMap.length > 1) yield { ...c, profile: { ...bare, archMap: without(archMap, i) } };
      const m = archMap[i]!;
      for (let s = 0; s < m.subArchitectures.length; s++) {
        yield { ...c, profile: { ...bare, archMap: archMap.map((x, j) => (j === i ? { ...m, subArchitectures: without(m.subArchitectures, s) } : x)) } };
      }
    }
  }
  if (c.context.runtime === 'runc') yield { ...c, context: { ...c.context, runtime: 'crun' } };
  if (c.context.optimize === 2) yield { ...c, context: { ...c.context, optimize: 1 } };
}

/** Shrinks `c` while `fails` holds, trying at most `budget` candidates. */
export function shrinkProfileCase(c: ProfileCase, fails: (c: ProfileCase) => boolean, budget: number): ProfileCase {
  let current = c;
  let left = budget;
  for (let improved = true; improved && left > 0; ) {
    improved = false;
    for (const candidate of smaller(current)) {
      if (left-- <= 0) break;
      if (fails(candidate)) {
        current = candidate;
        improved = true;
        break;
      }
    }
  }
  return current;
}

/** The size of a case, for reports: entries, names and conditions. */
export function caseSize(c: ProfileCase): string {
  const names = c.profile.syscalls.reduce((n, e) => n + e.names.length, 0);
  const args = c.profile.syscalls.reduce((n, e) => n + e.args.length, 0);
  return `${c.profile.syscalls.length} entries, ${names} names, ${args} conditions`;
}

/** A readable report: the profile, the context, the record and the values. */
export function describeProfileMismatch(c: ProfileCase, mismatch: ProfileMismatch): string {
  const lines = [`profile:\n${profileJson(c.profile)}`, `context: ${JSON.stringify(c.context)}`];
  if (mismatch.record) {
    lines.push(`record: ${Buffer.from(encodeSeccompData(mismatch.record)).toString('hex')}`, `        ${formatRecordJson(mismatch.record)}`);
  }
  lines.push(mismatch.summary);
  return `${lines.join('\n')}\n`;
}

// ---- The fuzz target.

/** The records of a shrinking step: a fixed sample, and the record that failed. */
const shrinkRecords =
  (extra: SeccompData | undefined) =>
  (filter: ProfileFilter): SeccompData[] => [...profileRecords(filter, seededRandom(1), false), ...(extra ? [extra] : [])];

/**
 * The profile target: one generated profile an iteration, compiled vs the
 * evaluator, and vs libseccomp when `options.libseccomp`.
 */
export function profileTarget(options: ProfileCheckOptions & { readonly shrinkBudget?: number }): FuzzTarget {
  return {
    name: 'profile',
    iterate(random) {
      const c = generateProfileCase(random);
      const check = checkCase(c, (filter) => profileRecords(filter, random, false), options);
      if (!check) return { programs: 0, records: 0 };
      if (!check.mismatch) return { programs: 1, records: check.records };
      const record = check.mismatch.record;
      const fails = (candidate: ProfileCase) => checkCase(candidate, shrinkRecords(record), options)?.mismatch !== undefined;
      const shrunk = shrinkProfileCase(c, fails, options.shrinkBudget ?? 2000);
      const last = checkCase(shrunk, shrinkRecords(record), options)?.mismatch ?? check.mismatch;
      return {
        programs: 1,
        records: check.records,
        failure: {
          summary: last.summary,
          report: `shrunk from ${caseSize(c)} to ${caseSize(shrunk)}\n${describeProfileMismatch(shrunk, last)}`,
        },
      };
    },
  };
}
