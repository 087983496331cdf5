/**
 * cbpf's native helpers (native/*.c): built on demand with the system C
 * compiler (see buildDir for where), and rebuilt when their source is newer. Where
 * one cannot be built (not Linux on x86-64, no compiler), NativeUnavailable
 * says why, and the rest of cbpf works.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from './package-root.js';

/** A native helper cannot run here; the message says why. */
export class NativeUnavailable extends Error {
  override readonly name = 'NativeUnavailable';
}

const built = new Map<string, string>();

/**
 * Where helpers are built: $CBPF_NATIVE_DIR, else the package's build/native/,
 * else (a package installed by another user, which this one cannot write)
 * the user's cache folder.
 */
function buildDir(root: string): string {
  if (process.env.CBPF_NATIVE_DIR) return process.env.CBPF_NATIVE_DIR;
  const inPackage = join(root, 'build', 'native');
  try {
    mkdirSync(inPackage, { recursive: true });
    accessSync(inPackage, constants.W_OK);
    return inPackage;
  } catch {
    return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cbpf', 'native');
  }
}

/**
 * The path of the helper built from `native/<name>.c` as `cbpf-<name>` (in buildDir),
 * building it first if it is missing or older than its source; `libraries`
 * are linked in (`seccomp` for -lseccomp, whose headers must be installed).
 * @throws NativeUnavailable when this host cannot run or build it.
 */
export function nativeHelper(name: string, libraries: readonly string[] = []): string {
  const known = built.get(name);
  if (known) return known;
  if (process.platform !== 'linux') throw new NativeUnavailable(`this is ${process.platform}, not Linux`);
  if (process.arch !== 'x64') throw new NativeUnavailable(`this is ${process.arch}, not x86-64`);
  if (!/^Seccomp:\s/m.test(readFileSync('/proc/self/status', 'utf8'))) throw new NativeUnavailable('this kernel has no seccomp');
  const root = packageRoot();
  const source = join(root, 'native', `${name}.c`);
  const binary = join(buildDir(root), `cbpf-${name}`);
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    try {
      execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new NativeUnavailable(`no C compiler (gcc) to build native/${name}.c`);
    }
    for (const library of libraries) {
      if (!existsSync(`/usr/include/${library}.h`))
        throw new NativeUnavailable(`lib${library} headers are missing (scripts/install-system-deps.sh installs lib${library}-dev)`);
    }
    mkdirSync(dirname(binary), { recursive: true });
    // Test files build it in parallel: each builds its own copy and renames it into place (atomic),
    // so no process ever runs a half-written binary.
    const building = `${binary}.${process.pid}.tmp`;
    const result = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-mno-red-zone', '-o', building, source, ...libraries.map((l) => `-l${l}`)], {
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new NativeUnavailable(`building native/${name}.c failed: ${result.stderr.trim().split('\n')[0]}`);
    renameSync(building, binary);
  }
  built.set(name, binary);
  return binary;
}
