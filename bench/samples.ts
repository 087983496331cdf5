/**
 * The sample filters every test and benchmark uses, made by
 * scripts/gen-samples.sh with libseccomp and committed as raw x86_64 `.bpf`.
 */
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.js';

/** One bundled sample filter. */
export interface SampleFilter {
  readonly name: string;
  /** Absolute path of the raw little-endian `.bpf` file. */
  readonly path: string;
  readonly description: string;
}

const here = (file: string): string => join(packageRoot(), 'bench', 'samples', file);

/** Every bundled sample, smallest first. */
export const SAMPLE_FILTERS: readonly SampleFilter[] = [
  { name: 'allowlist-small', path: here('allowlist-small.bpf'), description: 'x86_64 arch check, 12 syscalls allowed, KILL_PROCESS otherwise' },
  { name: 'multiarch', path: here('multiarch.bpf'), description: 'x86_64 + i386 + x32, small allowlist with argument rules, ERRNO(EPERM) otherwise' },
  { name: 'docker-linear', path: here('docker-linear.bpf'), description: 'Docker-like allowlist of ~300 syscalls, linear jeq chain (libseccomp default)' },
  { name: 'docker-tree', path: here('docker-tree.bpf'), description: 'the same policy as a binary tree (SCMP_FLTATR_CTL_OPTIMIZE = 2)' },
];
