/**
 * A resolved profile as libseccomp holds it once the runtime has added every
 * rule (its per-arch databases, libseccomp-db.ts), with runc's ENOSYS stub
 * when the runtime adds one; and the profile's reference evaluator, which
 * decides a `seccomp_data` record from that, the way the generated filter
 * would, without any BPF. The compiler (compile.ts) turns the same databases
 * into BPF; the evaluator is its oracle, and libseccomp is both's.
 */
import { ParseError } from '../errors.js';
import { byteOrderOf, X32_SYSCALL_BIT } from '../seccomp/arches.js';
import type { SeccompData } from '../seccomp/records.js';
import { syscallNumber } from '../seccomp/syscalls.js';
import type { ProfileArchInfo } from './arches.js';
import { ArchRules, decideTree, type RuleCondition, RuleRefused } from './libseccomp-db.js';
import type { ResolvedProfile } from './resolve.js';

/** The socket calls that i386, s390, PPC and MIPS o32 also reach through socketcall(2): call number = index + 1. */
const SOCKET_CALLS = [
  'socket',
  'bind',
  'connect',
  'listen',
  'accept',
  'getsockname',
  'getpeername',
  'socketpair',
  'send',
  'recv',
  'sendto',
  'recvfrom',
  'shutdown',
  'setsockopt',
  'getsockopt',
  'sendmsg',
  'recvmsg',
  'accept4',
  'recvmmsg',
  'sendmmsg',
];
/** The System V IPC calls reached through ipc(2), with their call numbers. */
const IPC_CALLS: Readonly<Record<string, number>> = {
  semop: 1,
  semget: 2,
  semctl: 3,
  semtimedop: 4,
  msgsnd: 11,
  msgrcv: 12,
  msgget: 13,
  msgctl: 14,
  shmat: 21,
  shmdt: 22,
  shmget: 23,
  shmctl: 24,
};

/** The multiplexer (`socketcall` or `ipc`) and call number through which `name` is reached on arches that have one. */
export function multiplexedAs(name: string): { multiplexer: 'socketcall' | 'ipc'; call: number } | undefined {
  const socket = SOCKET_CALLS.indexOf(name);
  if (socket >= 0) return { multiplexer: 'socketcall', call: socket + 1 };
  const ipc = IPC_CALLS[name];
  return ipc === undefined ? undefined : { multiplexer: 'ipc', call: ipc };
}

/** `ERRNO(ENOSYS)`, what runc's stub returns. */
export const ERRNO_ENOSYS = 0x00050026;

/**
 * runc 1.1's ENOSYS stub, prepended to libseccomp's filter: on each listed
 * arch, a syscall numbered above every number the profile names returns
 * ENOSYS, so that syscalls newer than the profile fail as "not implemented"
 * rather than with the default action; s390's nr 0 too. x86_64 and x32 share
 * one audit arch and are told apart by the x32 bit.
 */
export interface EnosysStub {
  /** The largest number named, per arch that has a section (an arch whose largest is 0 has none). */
  readonly largest: ReadonlyMap<ProfileArchInfo, number>;
}

/** One arch's database in the filter. */
export interface ArchFilter {
  readonly info: ProfileArchInfo;
  readonly rules: ArchRules;
}

/** A rule the filter holds on a multiplexer for a socket or IPC syscall (libseccomp adds it). */
export interface Companion {
  readonly source: string;
  readonly name: string;
  readonly arch: string;
  readonly multiplexer: 'socketcall' | 'ipc';
  readonly call: number;
}

/** A resolved profile's filter: what the kernel will run, before it is BPF. */
export interface ProfileFilter {
  readonly resolved: ResolvedProfile;
  readonly arches: readonly ArchFilter[];
  readonly stub?: EnosysStub;
  /** Names of kept rules that some filter arch does not have, with those arches. */
  readonly missingOn: ReadonlyMap<string, readonly string[]>;
  readonly companions: readonly Companion[];
}

/**
 * Adds every resolved rule to libseccomp's databases, arch by arch, as the
 * runtime's seccomp_rule_add_array calls do.
 * @throws ParseError `profile` when libseccomp would refuse an arch or a rule (the runtime then refuses to start the container).
 */
export function buildFilter(resolved: ResolvedProfile): ProfileFilter {
  const { runtime } = resolved.context;
  if (!validAction(resolved.defaultAction)) {
    throw new ParseError(
      'profile',
      `libseccomp refuses the default action ERRNO(${resolved.defaultAction & 0xffff}): an errno must be below 4095 (EINVAL), so ${runtime} would not start the container`,
      0,
      0,
    );
  }
  // seccomp_arch_add refuses an arch of the other byte order than the host's (EDOM), and the runtime with it.
  const host = resolved.arches[0]!;
  const foreign = resolved.arches.find((a) => byteOrderOf(a.arch) !== byteOrderOf(host.arch));
  if (foreign) {
    throw new ParseError(
      'profile',
      `libseccomp refuses the arch ${foreign.profileName}: its byte order is not the host's (${host.arch.name}; EDOM), so ${runtime} would not start the container`,
      0,
      0,
    );
  }
  const arches = resolved.arches.map((info) => ({ info, rules: new ArchRules(info.is64) }));
  const missingOn = new Map<string, string[]>();
  const companions: Companion[] = [];
  // Where an arch lacks a name, libseccomp still adds the rule to that arch's database under a pseudo-syscall
  // number (arches without socketcall/ipc; the others skip it): no code is generated for it, but it merges,
  // and may be refused (EEXIST), like any other entry.
  const pseudo = new Map(arches.map(({ info }) => [info, new ArchRules(info.is64)]));
  const pseudoNumbers = new Map<string, number>();
  for (const rule of resolved.rules) {
    try {
      if (!validAction(rule.action)) throw new RuleRefused(-22);
      for (const { info, rules } of arches) {
        const mux = info.multiplexed ? multiplexedAs(rule.name) : undefined;
        if (mux) {
          // The companion: the multiplexer with arg0 == call (replacing any arg0 condition), added before the direct rule.
          const conditions: RuleCondition[] = [
            { index: 0, op: 'SCMP_CMP_EQ', value: BigInt(mux.call), valueTwo: 0n },
            ...rule.conditions.filter((c) => c.index !== 0),
          ];
          rules.add(syscallNumber(info.arch, mux.multiplexer)!, rule.action, conditions);
          if (!companions.some((c) => c.source === rule.source && c.name === rule.name && c.arch === info.arch.name)) {
            companions.push({ source: rule.source, name: rule.name, arch: info.arch.name, ...mux });
          }
        }
        const nr = syscallNumber(info.arch, rule.name);
        if (nr !== undefined) {
          rules.add(nr, rule.action, rule.conditions);
        } else if (!mux) {
          if (!info.multiplexed) {
            if (!pseudoNumbers.has(rule.name)) pseudoNumbers.set(rule.name, pseudoNumbers.size);
            pseudo.get(info)!.add(pseudoNumbers.get(rule.name)!, rule.action, rule.conditions);
          }
          const list = missingOn.get(rule.name) ?? [];
          if (!list.includes(info.arch.name)) list.push(info.arch.name);
          missingOn.set(rule.name, list);
        }
      }
    } catch (error) {
      if (!(error instanceof RuleRefused)) throw error;
      if (error.errno === 'hangs') {
        const detail = `${rule.source}: libseccomp 2.5.4 never returns from adding the rule for ${rule.name} (a cycle in its rule merge), so ${resolved.context.runtime} would hang`;
        throw new ParseError('profile', detail, 0, 0);
      }
      const why = error.errno === -17 ? 'it overlaps an earlier rule for the same syscall with another action (EEXIST)' : `errno ${-error.errno}`;
      throw new ParseError(
        'profile',
        `${rule.source}: libseccomp refuses the rule for ${rule.name}: ${why}, so ${resolved.context.runtime} would not start the container`,
        0,
        0,
      );
    }
  }
  const stub = resolved.enosysStub ? enosysStub(resolved) : undefined;
  return { resolved, arches, ...(stub ? { stub } : {}), missingOn, companions };
}

/** libseccomp takes an ERRNO action only with an errno below MAX_ERRNO, 4095 (sys_chk_seccomp_action); every other action here is valid. */
function validAction(action: number): boolean {
  return (action & 0xffff0000) !== 0x00050000 || (action & 0xffff) < 4095;
}

/** The stub's sections: per listed arch, the largest number any kept entry names (skipped names count; multiplexed socket and IPC names do not). */
function enosysStub(resolved: ResolvedProfile): EnosysStub {
  const largest = new Map<ProfileArchInfo, number>();
  for (const info of resolved.stubArches) {
    let max = 0;
    for (const name of resolved.namedSyscalls) {
      if (info.multiplexed && multiplexedAs(name)) continue;
      const nr = syscallNumber(info.arch, name);
      if (nr !== undefined && nr > max) max = nr;
    }
    if (max > 0) largest.set(info, max);
  }
  return { largest };
}

/** What runc's stub returns for (arch, nr), or undefined when the record goes on to libseccomp's filter. */
export function decideStub(stub: EnosysStub, arch: number, nr: number): number | undefined {
  const n = nr >>> 0;
  for (const [info, max] of stub.largest) {
    if (info.arch.auditArch !== arch) continue;
    const isX32Number = (n & X32_SYSCALL_BIT) !== 0;
    // x86_64 and x32 share the audit arch: each section takes its own half of the numbers.
    if (info.arch.name === 'x86_64' && isX32Number) continue;
    if (info.arch.name === 'x32' && !isX32Number) continue;
    if ((info.arch.name === 's390' || info.arch.name === 's390x') && n === 0) return ERRNO_ENOSYS;
    return n > max ? ERRNO_ENOSYS : undefined;
  }
  return undefined;
}

/**
 * The reference evaluator: what the filter built from `filter` returns for
 * `data` (the stub first, then libseccomp's arch dispatch, x32 handling,
 * syscall lookup and argument tree).
 */
export function decideProfile(filter: ProfileFilter, data: SeccompData): number {
  const nr = data.nr >>> 0;
  if (filter.stub) {
    const stubbed = decideStub(filter.stub, data.arch, nr);
    if (stubbed !== undefined) return stubbed;
  }
  const { defaultAction, badArchAction } = filter.resolved;
  const here = filter.arches.filter((a) => a.info.arch.auditArch === data.arch >>> 0);
  if (here.length === 0) return badArchAction;
  const x86_64 = here.find((a) => a.info.arch.name === 'x86_64');
  const x32 = here.find((a) => a.info.arch.name === 'x32');
  let db: ArchFilter;
  if (x86_64 && x32) {
    db = nr >= X32_SYSCALL_BIT && nr !== 0xffffffff ? x32 : x86_64;
  } else if (x86_64) {
    // x32 numbers are a bad arch for an x86_64-only filter, except -1 (a syscall a tracer skipped).
    if (nr >= X32_SYSCALL_BIT && nr !== 0xffffffff) return badArchAction;
    db = x86_64;
  } else if (x32) {
    if (nr < X32_SYSCALL_BIT) return badArchAction;
    db = x32;
  } else {
    db = here[0]!;
  }
  const entry = db.rules.syscalls.get(nr);
  if (!entry) return defaultAction;
  if (!entry.chains) return entry.action;
  const word = (arg: number, high: boolean): number => Number(((data.args[arg] ?? 0n) >> (high ? 32n : 0n)) & 0xffffffffn);
  return decideTree(entry.chains, word) ?? defaultAction;
}
