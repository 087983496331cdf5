/**
 * Seccomp profiles as a program source: read (read.ts), resolved for a
 * container (resolve.ts), added to libseccomp's databases (filter.ts) and
 * compiled to cBPF (compile.ts). No binaryen here.
 */
import type { Instruction } from '../instruction.js';
import { syscallNumber } from '../seccomp/syscalls.js';
import { PROFILE_ARCH_INFO } from './arches.js';
import { compileProfile } from './compile.js';
import { buildFilter, type ProfileFilter } from './filter.js';
import { parseProfile } from './read.js';
import { type ProfileContext, resolveProfile } from './resolve.js';

export { compileProfile } from './compile.js';
export { buildFilter, decideProfile, type ProfileFilter } from './filter.js';
export { looksLikeProfile, type Profile, parseProfile } from './read.js';
export { DROP_REASONS, type ResolutionReport, resolutionReport } from './report.js';
export {
  contextOf,
  DOCKER_CAPS,
  PODMAN_CAPS,
  type ProfileContext,
  ProfileContextError,
  type ProfileContextOptions,
  type ResolvedProfile,
  RUNTIMES,
  resolveProfile,
} from './resolve.js';

/** True when libseccomp knows the syscall `name` on some arch (runc and crun skip the names it does not). */
export function knownSyscall(name: string): boolean {
  return PROFILE_ARCH_INFO.some((a) => syscallNumber(a.arch, name) !== undefined);
}

/** A profile compiled for one context: the program and what it came from. */
export interface CompiledProfile {
  readonly program: Instruction[];
  readonly filter: ProfileFilter;
}

/**
 * Reads the profile in `text`, resolves it for `context` and compiles it.
 * @throws ParseError `profile` (or `syntax`) for a profile no runtime would load.
 */
export function compileProfileText(text: string, context: ProfileContext): CompiledProfile {
  const filter = buildFilter(resolveProfile(parseProfile(text), context, knownSyscall));
  return { program: compileProfile(filter), filter };
}
