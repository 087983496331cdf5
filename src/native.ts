/**
 * cbpf's native helpers (native/*.c): built on demand with the system C
 * compiler into build/native/ (or $CBPF_NATIVE_DIR), and rebuilt when their
 * source is newer. Where
 * one cannot be built (not Linux on x86-64, no compiler), NativeUnavailable
 * says why, and the rest of cbpf works.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from './package-root.js';

/** A native helper cannot run here; the message says why. */
export class NativeUnavailable extends Error {
  override readonly name = 'NativeUnavailable';
}

const built = new Map<string, string>();

/**
 * The path of the helper built from `native/<name>.c` as `cbpf-<name>` in build/native/ (or $CBPF_NATIVE_DIR),
 * building it first if it is missing or older than its source.
 * @throws NativeUnavailable when this host cannot run or build it.
 */
export function nativeHelper(name: string): string {
  const known = built.get(name);
  if (known) return known;
  if (process.platform !== 'linux') throw new NativeUnavailable(`this is ${process.platform}, not Linux`);
  if (process.arch !== 'x64') throw new NativeUnavailable(`this is ${process.arch}, not x86-64`);
  if (!/^Seccomp:\s/m.test(readFileSync('/proc/self/status', 'utf8'))) throw new NativeUnavailable('this kernel has no seccomp');
  const root = packageRoot();
  const source = join(root, 'native', `${name}.c`);
  const binary = join(process.env.CBPF_NATIVE_DIR || join(root, 'build', 'native'), `cbpf-${name}`);
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    try {
      execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new NativeUnavailable(`no C compiler (gcc) to build native/${name}.c`);
    }
    mkdirSync(dirname(binary), { recursive: true });
    // Test files build it in parallel: each builds its own copy and renames it into place (atomic),
    // so no process ever runs a half-written binary.
    const building = `${binary}.${process.pid}.tmp`;
    const result = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-mno-red-zone', '-o', building, source], { encoding: 'utf8' });
    if (result.status !== 0) throw new NativeUnavailable(`building native/${name}.c failed: ${result.stderr.trim().split('\n')[0]}`);
    renameSync(building, binary);
  }
  built.set(name, binary);
  return binary;
}
