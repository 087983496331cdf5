/**
 * Whether the Debian packages that regenerate committed data are here
 * (scripts/install-system-deps.sh installs them). Tests that need them skip
 * with this reason printed, never pass silently.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function missing(): string | undefined {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is not installed';
  }
  if (!existsSync('/usr/include/seccomp.h')) return 'libseccomp-dev is not installed (run scripts/install-system-deps.sh)';
  if (!existsSync('/usr/include/asm-generic/unistd.h')) return 'linux-libc-dev is not installed';
  return undefined;
}

/** Why libseccomp-based generators cannot run here, or undefined when they can. */
export const libseccompMissing = missing();
if (libseccompMissing) console.warn(`SKIPPING generator checks: ${libseccompMissing}`);
