/**
 * Resolving a profile for one container: what Docker or podman keeps of it
 * for the host arch, the container's capabilities and the kernel (the OCI
 * `linux.seccomp` object they hand the runtime), then the rules the runtime
 * (runc or crun) adds to libseccomp, in the order it adds them. The steps
 * follow moby 20.10, containers/common 0.50, runc 1.1 and crun 1.8; see
 * docs/semantics.md ("Profiles") for each rule and its source.
 */
import { release } from 'node:os';
import { ParseError } from '../errors.js';
import { HOST_ARCHES, type ProfileArchInfo, profileArch, profileArchOf } from './arches.js';
import type { RuleCondition } from './libseccomp-db.js';
import type { Profile, ProfileAction, ProfileArch, ProfileEntry } from './read.js';

/**
 * The container engines whose profile handling cbpf reproduces: Docker (moby
 * 20.10) and podman (containers/common 0.50); `none` hands the profile to
 * the runtime as an OCI `linux.seccomp` object, as a config.json does.
 */
export const ENGINES = ['docker', 'podman', 'none'] as const;
/** One of ENGINES. */
export type Engine = (typeof ENGINES)[number];

/** The container runtimes whose loading cbpf reproduces. */
export const RUNTIMES = ['runc', 'crun'] as const;
/** One of RUNTIMES. */
export type Runtime = (typeof RUNTIMES)[number];

/** Docker 20.10's default capabilities (moby oci/caps/defaults.go). */
export const DOCKER_CAPS: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Podman's default capabilities (containers/common 0.50 pkg/config DefaultCapabilities). */
export const PODMAN_CAPS: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_CHROOT',
];

/** The Linux capabilities, by number (CAP_CHOWN is 0). */
export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** A kernel version as moby compares it: major, then minor. */
export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
}

/** Everything a profile's meaning depends on besides its text. */
export interface ProfileContext {
  readonly engine: Engine;
  readonly runtime: Runtime;
  /** The container's capabilities (its bounding set), as `CAP_*` names. */
  readonly caps: ReadonlySet<string>;
  /** The host's arch, by cbpf's name (x86_64, aarch64, s390x, ...). */
  readonly hostArch: string;
  readonly kernel: KernelVersion;
  /**
   * libseccomp's SCMP_FLTATR_CTL_OPTIMIZE: 1 tests syscalls one after another, 2 searches a binary
   * tree of their numbers (runc 1.2 asks for it above 32 rules). The decisions are the same.
   */
  readonly optimize: 1 | 2;
}

/** The context options as a command line gives them; every one has a default. */
export interface ProfileContextOptions {
  /** `docker` (default), `podman` or `none`. */
  readonly engine?: string;
  readonly runtime?: string;
  /** `docker`, `podman`, `none` or a comma-separated list of capability names; default: the engine's. */
  readonly caps?: string;
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  readonly hostArch?: string;
  /** `MAJOR.MINOR[...]`; default: the running kernel's. */
  readonly kernel?: string;
  /** libseccomp's optimize level, 1 (default) or 2 (a binary tree of syscall numbers). */
  readonly optimize?: number;
}

/** A context option that makes no sense: `option` says which, the message why. */
export class ProfileContextError extends Error {
  override readonly name = 'ProfileContextError';
  readonly code = 'profile-context';
  constructor(
    readonly option: keyof ProfileContextOptions,
    message: string,
  ) {
    super(message);
  }
}

/** The capability `name` in its canonical form (`CAP_SYS_ADMIN` for sys_admin or cap_sys_admin); `ALL` stays. */
export function capabilityName(name: string, option: keyof ProfileContextOptions = 'caps'): string {
  const upper = name.trim().toUpperCase();
  const full = upper === 'ALL' || upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (full !== 'ALL' && !CAPABILITIES.includes(full)) throw new ProfileContextError(option, `unknown capability ${JSON.stringify(name)}`);
  return full;
}

/** Parses `6.18`, `6.18.3-amd64` and the like into a KernelVersion, or undefined. */
function parseKernel(text: string): KernelVersion | undefined {
  const match = /^([0-9]+)\.([0-9]+)/.exec(text);
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/** A kernel newer than any, for a running kernel whose release says no version: every minKernel holds. */
const NEWEST_KERNEL: KernelVersion = { major: 0xffff, minor: 0xffff };

/** The context `options` describe; the kernel version defaults to the running kernel's. */
export function contextOf(options: ProfileContextOptions = {}): ProfileContext {
  return profileContext(options, release);
}

/** The context `options` describe, defaults filled in (the running kernel's version needs `runningKernel`). */
export function profileContext(options: ProfileContextOptions, runningKernel: () => string): ProfileContext {
  const engine = options.engine ?? 'docker';
  if (!(ENGINES as readonly string[]).includes(engine))
    throw new ProfileContextError('engine', `unknown container engine ${JSON.stringify(engine)} (docker, podman or none)`);
  const runtime = options.runtime ?? 'runc';
  if (!(RUNTIMES as readonly string[]).includes(runtime)) throw new ProfileContextError('runtime', `unknown runtime ${JSON.stringify(runtime)} (runc or crun)`);
  const hostArch = options.hostArch ?? 'x86_64';
  if (profileArchOf(hostArch)?.hostName === undefined) {
    throw new ProfileContextError('hostArch', `unknown host arch ${JSON.stringify(hostArch)} (one of ${HOST_ARCHES.join(', ')})`);
  }
  // moby 20.10 knows the capabilities up to CAP_AUDIT_READ (37); podman those of the host's kernel.
  const known = engine === 'docker' ? CAPABILITIES.slice(0, CAPABILITIES.indexOf('CAP_AUDIT_READ') + 1) : CAPABILITIES;
  const names = (list: readonly string[], option: 'caps' | 'capAdd' | 'capDrop'): string[] =>
    list.flatMap((cap) => {
      const name = capabilityName(cap, option);
      if (name !== 'ALL' && !known.includes(name))
        throw new ProfileContextError(option, `unknown capability ${JSON.stringify(cap)} for ${engine} (it knows up to CAP_AUDIT_READ)`);
      return name === 'ALL' ? known : [name];
    });
  const set = options.caps ?? (engine === 'none' ? 'docker' : engine);
  const base = set === 'docker' ? DOCKER_CAPS : set === 'podman' ? PODMAN_CAPS : set === 'none' || set === '' ? [] : names(set.split(','), 'caps');
  // As docker run: adding ALL gives every one but those dropped; dropping ALL gives just those added; else drop, then add.
  const added = names(options.capAdd ?? [], 'capAdd');
  const dropped = names(options.capDrop ?? [], 'capDrop');
  const isAll = (cap: string): boolean => cap.trim().toUpperCase() === 'ALL';
  const caps = new Set(
    (options.capAdd ?? []).some(isAll)
      ? known.filter((cap) => !dropped.includes(cap))
      : (options.capDrop ?? []).some(isAll)
        ? added
        : [...base.filter((cap) => !dropped.includes(cap)), ...added],
  );
  let kernel: KernelVersion;
  if (options.kernel !== undefined) {
    const given = parseKernel(options.kernel);
    if (!given) throw new ProfileContextError('kernel', `invalid kernel version ${JSON.stringify(options.kernel)} (expected MAJOR.MINOR, as 6.1)`);
    kernel = given;
  } else {
    kernel = parseKernel(runningKernel()) ?? NEWEST_KERNEL;
  }
  const optimize = options.optimize ?? 1;
  if (optimize !== 1 && optimize !== 2) throw new ProfileContextError('optimize', 'the optimize level is 1 (one syscall after another) or 2 (a binary tree)');
  return { engine: engine as Engine, runtime: runtime as Runtime, caps, hostArch, kernel, optimize };
}

/** `SECCOMP_RET_*` values of the actions (KILL is KILL_THREAD). */
const ACTION_BASE: Record<ProfileAction, number> = {
  SCMP_ACT_KILL: 0x00000000,
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};
const EPERM = 1;

/** ERRNO and TRACE carry an errno; crun refuses one on any other action. */
const takesErrno = (action: ProfileAction): boolean => action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE';

/** The filter's return value for `action` (ERRNO and TRACE carry `errnoRet`, EPERM when absent). */
export function actionValue(action: ProfileAction, errnoRet: number | undefined): number {
  const base = ACTION_BASE[action];
  return (action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE' ? base | (errnoRet ?? EPERM) : base) >>> 0;
}

/** One rule as the runtime adds it to libseccomp: one syscall name, its action and at most one condition per argument. */
export interface ResolvedRule {
  readonly name: string;
  readonly action: number;
  readonly conditions: readonly RuleCondition[];
  /** The profile entry it comes from: `syscalls[12]`. */
  readonly source: string;
}

/** Why an entry or a name of it is not in the filter. */
export type DropReason =
  | 'arch-excluded'
  | 'arch-not-included'
  | 'caps-excluded'
  | 'caps-not-included'
  | 'kernel-too-old'
  | 'kernel-excluded'
  | 'default-action'
  | 'unknown-syscall';

/** One entry's fate in the resolution. */
export interface EntryResolution {
  readonly source: string;
  readonly names: readonly string[];
  /** Why the whole entry was dropped (moby's includes/excludes), or undefined when kept. */
  readonly dropped?: DropReason;
  /** Names the runtime skipped, with the reason (equal to the default action, unknown to libseccomp). */
  readonly skipped: readonly { readonly name: string; readonly reason: DropReason }[];
  /** How many separate ORed rules each name became, when its conditions repeat an argument (runc's and crun's split). */
  readonly splitInto?: number;
}

/** A profile resolved for one context: what the runtime hands libseccomp. */
export interface ResolvedProfile {
  readonly context: ProfileContext;
  /** The engine that resolved it (`none` for a runtime spec, whatever the context says). */
  readonly engine: Engine;
  readonly defaultAction: number;
  /** What a record of an arch the filter does not check gets. */
  readonly badArchAction: number;
  /** The filter's arches, the host's first. */
  readonly arches: readonly ProfileArchInfo[];
  /** In the order the runtime adds them. */
  readonly rules: readonly ResolvedRule[];
  /** runc's ENOSYS stub is prepended (see filter.ts). */
  readonly enosysStub: boolean;
  /** The arches the profile lists for the host (runc 1.1's stub has a section for these only). */
  readonly stubArches: readonly ProfileArchInfo[];
  /** Every syscall name of the entries kept, whatever became of it (the stub's largest numbers come from these). */
  readonly namedSyscalls: readonly string[];
  readonly entries: readonly EntryResolution[];
  readonly flags: readonly string[];
  /** The profile's fields no engine or runtime reads. */
  readonly ignoredFields: readonly string[];
}

/** Every name libseccomp knows, on any arch (a name it does not know is skipped, as runc skips it). */
export type KnownName = (name: string) => boolean;

/** Resolves `profile` for `context`: the arches and rules the runtime gives libseccomp. */
export function resolveProfile(profile: Profile, context: ProfileContext, known: KnownName): ResolvedProfile {
  const host = profileArchOf(context.hostArch)!;
  const engine: Engine = profile.runtimeSpec ? 'none' : context.engine;
  const docker = engine === 'docker';
  /** The errno the engine hands on: moby 20.10 has no defaultErrnoRet (the runtime then uses EPERM); containers-common prefers its errno strings. */
  const errnoOf = (errnoRet: number | undefined, errno: number | undefined, isDefault: boolean): number | undefined =>
    engine === 'podman' ? (errno ?? errnoRet) : docker && isDefault ? undefined : errnoRet;
  const runc = context.runtime === 'runc';
  const defaultErrno = errnoOf(profile.defaultErrnoRet, profile.defaultErrno, true);
  const defaultAction = actionValue(profile.defaultAction, defaultErrno);
  if (runc && profile.defaultAction === 'SCMP_ACT_NOTIFY')
    throw new ParseError('profile', 'defaultAction: runc refuses SCMP_ACT_NOTIFY as the default action', 0, 0);
  if (!runc && defaultErrno !== undefined && !takesErrno(profile.defaultAction)) {
    throw new ParseError('profile', `defaultErrnoRet: crun refuses an errno for ${profile.defaultAction} (only ERRNO and TRACE take one)`, 0, 0);
  }
  const flags = docker ? [] : profile.flags;
  if (runc && flags.length > 0) throw new ParseError('profile', `flags: runc 1.1 refuses seccomp flags (${flags.join(', ')})`, 0, 0);

  // Arches: archMap keeps the host's entry and its sub-arches; a flat list is taken as it is. The host's own comes first either way.
  const mapped = engine !== 'none' && (docker ? DOCKER_ARCHMAP_HOSTS : PODMAN_ARCHMAP_HOSTS).includes(host.arch.name);
  const listed: ProfileArch[] = profile.archMap.length > 0 ? (mapped ? archMapFor(profile, host.profileName) : []) : [...profile.architectures];
  const arches: ProfileArchInfo[] = [host];
  for (const name of listed) if (!arches.some((a) => a.profileName === name)) arches.push(profileArch(name));

  const entries: EntryResolution[] = [];
  const rules: ResolvedRule[] = [];
  for (const entry of profile.syscalls) {
    const dropped = engine === 'none' ? undefined : entryDropReason(entry, hostName(host, engine), engine, context);
    if (dropped) {
      entries.push({ source: entry.path, names: entry.names, dropped, skipped: [] });
      continue;
    }
    const errno = errnoOf(entry.errnoRet, entry.errno, false);
    if (!runc && errno !== undefined && !takesErrno(entry.action)) {
      throw new ParseError('profile', `${entry.path}.errnoRet: crun refuses an errno for ${entry.action} (only ERRNO and TRACE take one)`, 0, 0);
    }
    const action = actionValue(entry.action, errno);
    const skipped: { name: string; reason: DropReason }[] = [];
    // crun reads at most six conditions. Several conditions on one argument cannot share a rule: each condition becomes its own rule, and the rules are ORed.
    const args = runc ? entry.args : entry.args.slice(0, 6);
    const repeats = new Set(args.map((a) => a.index)).size !== args.length;
    const conditionSets: RuleCondition[][] = repeats ? args.map((a) => [a]) : [[...args]];
    for (const name of entry.names) {
      if (runc && entry.action === 'SCMP_ACT_NOTIFY' && name === 'write') {
        throw new ParseError('profile', `${entry.path}: runc refuses SCMP_ACT_NOTIFY on write (the container could not write to its listener)`, 0, 0);
      }
      if (action === defaultAction) skipped.push({ name, reason: 'default-action' });
      else if (!known(name)) skipped.push({ name, reason: 'unknown-syscall' });
      else for (const conditions of conditionSets) rules.push({ name, action, conditions, source: entry.path });
    }
    entries.push({ source: entry.path, names: entry.names, skipped, ...(repeats ? { splitInto: conditionSets.length } : {}) });
  }
  return {
    context,
    defaultAction,
    badArchAction: 0x00000000,
    arches,
    rules,
    enosysStub: context.runtime === 'runc' && runcAddsStub(profile),
    stubArches: listed.map(profileArch),
    namedSyscalls: [...new Set(profile.syscalls.filter((_, i) => entries[i]!.dropped === undefined).flatMap((e) => e.names))],
    entries,
    flags,
    engine,
    ignoredFields: profile.ignoredFields,
  };
}

/** The arches archMap gives the host: its own entry and that entry's sub-arches (none when no entry names it). */
function archMapFor(profile: Profile, host: ProfileArch): ProfileArch[] {
  const entry = profile.archMap.find((e) => e.architecture === host);
  return entry ? [entry.architecture, ...entry.subArchitectures] : [];
}

/** The hosts whose archMap entry each engine finds (moby's and containers-common's nativeToSeccomp tables); elsewhere the filter has the host's arch alone. */
const DOCKER_ARCHMAP_HOSTS = ['i386', 'x86_64', 'arm', 'aarch64', 'mips64', 'mips64el', 'ppc64', 'ppc64le', 's390x'];
const PODMAN_ARCHMAP_HOSTS = ['x86_64', 'aarch64', 'mips64', 'mips64el', 's390x'];

/** The host's name in includes/excludes arches: libseccomp's native name, which moby does not have for mips and riscv64. */
function hostName(host: ProfileArchInfo, engine: Engine): string {
  return engine === 'docker' && (host.arch.name === 'mips' || host.arch.name === 'riscv64') ? '' : host.hostName!;
}

/**
 * Why the engine drops an entry for this host and container, or undefined:
 * an entry goes when its excludes match (any arch, any cap, a kernel at
 * least minKernel) or its includes do not (the arch, every cap, a kernel at
 * least minKernel). containers-common 0.50 has no minKernel.
 */
function entryDropReason(entry: ProfileEntry, host: string, engine: Engine, context: ProfileContext): DropReason | undefined {
  const { includes, excludes } = entry;
  const kernelCounts = engine === 'docker';
  if (excludes.arches.includes(host)) return 'arch-excluded';
  if (excludes.caps.some((cap) => context.caps.has(cap))) return 'caps-excluded';
  if (kernelCounts && excludes.minKernel && compareKernel(context.kernel, excludes.minKernel) >= 0) return 'kernel-excluded';
  if (includes.arches.length > 0 && !includes.arches.includes(host)) return 'arch-not-included';
  if (!includes.caps.every((cap) => context.caps.has(cap))) return 'caps-not-included';
  if (kernelCounts && includes.minKernel && compareKernel(context.kernel, includes.minKernel) < 0) return 'kernel-too-old';
  return undefined;
}

function compareKernel(a: KernelVersion, b: KernelVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/**
 * runc prepends its ENOSYS stub unless the default action allows, logs or
 * traces. (runc also skips it for a defaultErrnoRet of 0x50026, a value cbpf's
 * reader refuses as an errno; a defaultErrnoRet of 38 keeps the stub, which
 * then returns what the default would.)
 */
function runcAddsStub(profile: Profile): boolean {
  return !(profile.defaultAction === 'SCMP_ACT_ALLOW' || profile.defaultAction === 'SCMP_ACT_LOG' || profile.defaultAction === 'SCMP_ACT_TRACE');
}
