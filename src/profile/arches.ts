/**
 * The arches of profiles under their four names: the profile's
 * (`SCMP_ARCH_X86_64`), cbpf's (`x86_64`), libseccomp's (`x86_64`, for the (`amd64`: the host arch as moby's `includes.arches` and
 * `excludes.arches` name it), with what libseccomp's rules depend on.
 */
import { type Arch, archNamed } from '../seccomp/arches.js';
import type { ProfileArch } from './read.js';

/** One arch a profile can name. */
export interface ProfileArchInfo {
  readonly profileName: ProfileArch;
  readonly arch: Arch;
  /** libseccomp's name (seccomp_arch_resolve_name). */
  readonly libseccompName: string;
  /** The name `includes.arches` and `excludes.arches` use for this arch as the host (libseccomp's native name); absent where no container engine runs. */
  readonly hostName?: string;
  /** libseccomp compares 64-bit arguments on both halves only on 64-bit ABIs; 32-bit ones compare the low word. */
  readonly is64: boolean;
  /** libseccomp adds socketcall/ipc companions for socket and IPC rules here. */
  readonly multiplexed: boolean;
}

const info = (
  profileName: ProfileArch,
  cbpfName: string,
  libseccompName: string,
  hostName: string | undefined,
  is64: boolean,
  multiplexed: boolean,
): ProfileArchInfo => ({
  profileName,
  arch: archNamed(cbpfName),
  libseccompName,
  ...(hostName ? { hostName } : {}),
  is64,
  multiplexed,
});

/** Every arch a profile can name, in PROFILE_ARCHES order. */
export const PROFILE_ARCH_INFO: readonly ProfileArchInfo[] = [
  info('SCMP_ARCH_X86', 'i386', 'x86', 'x86', false, true),
  info('SCMP_ARCH_X86_64', 'x86_64', 'x86_64', 'amd64', true, false),
  info('SCMP_ARCH_X32', 'x32', 'x32', undefined, false, false),
  info('SCMP_ARCH_ARM', 'arm', 'arm', 'arm', false, false),
  info('SCMP_ARCH_AARCH64', 'aarch64', 'aarch64', 'arm64', true, false),
  info('SCMP_ARCH_MIPS', 'mips', 'mips', 'mips', false, true),
  info('SCMP_ARCH_MIPS64', 'mips64', 'mips64', 'mips64', true, false),
  info('SCMP_ARCH_MIPS64N32', 'mips64n32', 'mips64n32', undefined, false, false),
  info('SCMP_ARCH_MIPSEL', 'mipsel', 'mipsel', 'mipsel', false, true),
  info('SCMP_ARCH_MIPSEL64', 'mips64el', 'mipsel64', 'mipsel64', true, false),
  info('SCMP_ARCH_MIPSEL64N32', 'mipsel64n32', 'mipsel64n32', undefined, false, false),
  info('SCMP_ARCH_PPC', 'ppc', 'ppc', undefined, false, true),
  info('SCMP_ARCH_PPC64', 'ppc64', 'ppc64', 'ppc64', true, true),
  info('SCMP_ARCH_PPC64LE', 'ppc64le', 'ppc64le', 'ppc64le', true, true),
  info('SCMP_ARCH_S390', 's390', 's390', undefined, false, true),
  info('SCMP_ARCH_S390X', 's390x', 's390x', 's390x', true, true),
  info('SCMP_ARCH_PARISC', 'parisc', 'parisc', undefined, false, false),
  info('SCMP_ARCH_PARISC64', 'parisc64', 'parisc64', undefined, true, false),
  info('SCMP_ARCH_RISCV64', 'riscv64', 'riscv64', 'riscv64', true, false),
];

/** The arch a profile calls `name`. */
export function profileArch(name: ProfileArch): ProfileArchInfo {
  return PROFILE_ARCH_INFO.find((a) => a.profileName === name)!;
}

/** The profile arch that is cbpf's arch `name` (x86_64, i386, aarch64, s390x, ...), or undefined. */
export function profileArchOf(name: string): ProfileArchInfo | undefined {
  return PROFILE_ARCH_INFO.find((a) => a.arch.name === name);
}

/** The hosts a profile can be resolved for: the arches Docker and podman run on. */
export const HOST_ARCHES: readonly string[] = PROFILE_ARCH_INFO.filter((a) => a.hostName !== undefined).map((a) => a.arch.name);
