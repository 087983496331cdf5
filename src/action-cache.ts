/**
 * The kernel's constant-action cache (SPEC section 6; seccomp_cache_prepare,
 * Linux 5.11+). When a filter is attached, the kernel emulates it for every
 * syscall number of its native and compat arch with only `nr` and `arch`
 * known. The syscalls for which it returns exactly ALLOW skip the filters
 * from then on (a stack's bitmaps are ANDed). The emulator knows only a few
 * instructions: at any other it gives up on that syscall, which then runs
 * the filters every time.
 *
 * cbpf's decision tables (decision-table.ts) see further, for every action;
 * this is the kernel's narrower view, so that a filter's author can see which
 * syscalls take the fast path, and where the emulation stops for those that
 * the filter always allows but that miss it. Not modelled: kernels from 6.11
 * on let x86_64's uretprobe and uprobe through without any filter, whatever
 * it says.
 */
import { constantValue, NOT_CONSTANT } from './decision-table.js';
import { BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W } from './opcodes.js';
import { ACTIONS, actionName } from './seccomp/actions.js';
import { ARCHES, type Arch } from './seccomp/arches.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR } from './seccomp/data.js';
import { SYSCALL_TABLES } from './seccomp/syscall-tables.generated.js';
import type { VerifiedProgram } from './verifier.js';

/**
 * What the kernel's emulation finds for one syscall: it returns exactly ALLOW
 * (cached: the syscall skips the filter), returns another value at `pc`, or
 * gives up at `pc`, an instruction it does not know.
 */
export type CacheOutcome =
  | { readonly kind: 'cached' }
  | { readonly kind: 'returns'; readonly pc: number; readonly value: number }
  | { readonly kind: 'gives-up'; readonly pc: number };

/** The kernel's emulation (seccomp_is_const_allow) of `program` for syscall `nr` of the arch with audit value `auditArch`. */
export function kernelCacheOutcome(program: VerifiedProgram, auditArch: number, nr: number): CacheOutcome {
  const insns = program.instructions;
  let a = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const { code, jt, jf, k } = insns[pc]!; // k is unsigned, as a is kept
    switch (code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (k === SECCOMP_DATA_NR) a = nr >>> 0;
        else if (k === SECCOMP_DATA_ARCH) a = auditArch >>> 0;
        else return { kind: 'gives-up', pc };
        break;
      case BPF_RET | BPF_K:
        return k === ACTIONS.ALLOW ? { kind: 'cached' } : { kind: 'returns', pc, value: k };
      case BPF_JMP | BPF_JA:
        pc += k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += a === k ? jt : jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += a >= k ? jt : jf;
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        pc += a > k ? jt : jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a = (a & k) >>> 0;
        break;
      default:
        return { kind: 'gives-up', pc };
    }
  }
  throw new Error('the emulation ran off the end of a verified program'); // verify(): every path ends in a return
}

/** A syscall the filter always allows that the cache misses, and the instruction where the kernel's emulation ended. */
export interface MissedSyscall {
  readonly name: string;
  readonly pc: number;
  /** 'gives-up': an instruction the emulator does not know; 'returns': ALLOW with data, not exactly ALLOW. */
  readonly why: 'gives-up' | 'returns';
}

/**
 * Syscall numbers from here up lie past every kernel's bitmap (which ends at
 * its syscall count), so are never cached: x32's (bit 30 set) and ARM's
 * private calls (0xf0001 up).
 */
const PAST_EVERY_BITMAP = 0xf0000;

/** The cache of one filter on one arch's kernel, over the syscalls cbpf's table names for that arch (but those past every bitmap). */
export interface ArchCache {
  readonly arch: string;
  /** How many syscalls the arch's table names below PAST_EVERY_BITMAP. */
  readonly syscalls: number;
  /** The syscalls that skip the filter, by name, in number order. */
  readonly cached: string[];
  /** The syscalls the filter allows whatever their arguments, but runs for. */
  readonly missed: MissedSyscall[];
}

/** The kernel's cache of `program` on `arch`'s kernel (where that arch is native or compat). */
export function kernelActionCache(program: VerifiedProgram, arch: Arch): ArchCache {
  const syscalls = Object.entries(arch.table ? SYSCALL_TABLES[arch.table] : {})
    .filter(([, nr]) => nr < PAST_EVERY_BITMAP)
    .sort(([, x], [, y]) => x - y);
  const cached: string[] = [];
  const missed: MissedSyscall[] = [];
  for (const [name, nr] of syscalls) {
    const outcome = kernelCacheOutcome(program, arch.auditArch, nr);
    if (outcome.kind === 'cached') cached.push(name);
    else {
      const value = constantValue(program, arch.auditArch, nr);
      if (value !== NOT_CONSTANT && actionName(value) === 'ALLOW') missed.push({ name, pc: outcome.pc, why: outcome.kind });
    }
  }
  return { arch: arch.name, syscalls: syscalls.length, cached, missed };
}

/**
 * The arches whose syscalls a kernel built for `host` caches: its native
 * arch and its compat arch where it has one (seccomp_cache_prepare keeps a
 * bitmap for each). The table limits each bitmap: the kernel's own syscall
 * count is at least the table's highest number + 1, and the few numbers
 * between are not modelled (they run the filters here).
 */
const CACHED_BY_HOST: Readonly<Record<string, readonly string[]>> = {
  x86_64: ['x86_64', 'i386'],
  aarch64: ['aarch64', 'arm'],
  s390x: ['s390x'],
  riscv64: ['riscv64'],
  loongarch64: ['loongarch64'],
  ppc64le: ['ppc64le'],
  ppc64: ['ppc64'],
};

/** By audit arch, the number past the highest syscall the cache's bitmap covers, for a kernel built for `host`. */
export function cacheBitmaps(host: Arch): ReadonlyMap<number, number> {
  const bitmaps = new Map<number, number>();
  for (const name of CACHED_BY_HOST[host.name] ?? [host.name]) {
    const arch = ARCHES.find((a) => a.name === name);
    if (!arch?.table) continue;
    const numbers = Object.values(SYSCALL_TABLES[arch.table]).filter((nr) => nr < PAST_EVERY_BITMAP);
    bitmaps.set(arch.auditArch, Math.max(...numbers) + 1);
  }
  return bitmaps;
}

/**
 * Whether syscall `nr` of `auditArch` skips every filter of `filters` on a
 * kernel whose bitmaps are `bitmaps` (cacheBitmaps): only when the arch is
 * cached, `nr` lies in its bitmap, and each filter's emulation returns exactly
 * ALLOW (a stack's bitmaps are ANDed).
 */
export function skipsFilters(filters: readonly VerifiedProgram[], bitmaps: ReadonlyMap<number, number>, auditArch: number, nr: number): boolean {
  const end = bitmaps.get(auditArch);
  if (end === undefined || nr < 0 || nr >= end) return false;
  return filters.every((filter) => kernelCacheOutcome(filter, auditArch, nr).kind === 'cached');
}
