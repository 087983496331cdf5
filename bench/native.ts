/**
 * The benchmark's native competitors, each built with the system C compiler
 * around bench/native/harness.c (which times them and writes their decisions):
 *
 * - `gcc -O2`: the filter translated to C (translate.ts), the native roofline;
 * - `libpcap`: libpcap's own `bpf_filter()` interpreting the filter, on the
 *   records with each 32-bit word byte-swapped (it loads big-endian);
 * - `memory bound`: a loop that only reads each record's `nr`, over the same
 *   bytes: no filter can go faster.
 *
 * Where one cannot be built (no gcc, no libpcap-dev), it is unavailable with
 * the reason, never silently left out.
 *
 * It also builds the end-to-end competitor of `cbpf eval --summary`,
 * bench/native/end-to-end.c, which reads a record file itself (buildEndToEnd).
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { packageRoot } from '../src/package-root.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { translateToC } from './translate.js';

export type NativeKind = 'gcc -O2' | 'libpcap' | 'memory bound';

/** A built competitor: `run` times `rounds` passes over a record file. */
export interface NativeCompetitor {
  readonly kind: NativeKind;
  /** `rounds` timed passes over the records, after untimed ones for `warmUpMs` (one at least); the decisions of the last. */
  run(recordsPath: string, rounds: number, warmUpMs?: number): { roundsNs: number[]; decisions: Uint32Array };
}

const NO_PREPARE = 'static void prepare(uint8_t *records, size_t count) { (void)records; (void)count; }\n';

/** The competitor's C code: `prepare` and `decide`, included into the harness. */
function competitorSource(kind: NativeKind, program: VerifiedProgram): string {
  switch (kind) {
    case 'gcc -O2':
      return `${NO_PREPARE}${translateToC(program, 'decide')}`;
    case 'memory bound':
      return `${NO_PREPARE}static inline uint32_t decide(const uint8_t *d) { uint32_t nr; memcpy(&nr, d, 4); return nr; }\n`;
    case 'libpcap': {
      const insns = program.instructions.map((i) => `{ 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${i.k.toString(16)}u }`).join(',\n  ');
      return `#include <pcap/bpf.h>
static const struct bpf_insn program[] = {
  ${insns}
};
/* bpf_filter() loads words big-endian, as network packets are: swap every word of the records once. */
static void prepare(uint8_t *records, size_t count) {
  uint32_t *words = (uint32_t *)records;
  for (size_t i = 0; i < count * 16; i++) words[i] = __builtin_bswap32(words[i]);
}
static inline uint32_t decide(const uint8_t *d) { return bpf_filter(program, d, 64, 64); }
`;
    }
  }
}

/** Why nothing can be built here (no gcc), or undefined when it can. */
function compilerUnavailableReason(): string | undefined {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'no C compiler (gcc)';
  }
}

/** Why `kind` cannot be built here, or undefined when it can. */
export function nativeUnavailableReason(kind: NativeKind): string | undefined {
  const reason = compilerUnavailableReason();
  if (reason) return reason;
  if (kind === 'libpcap' && !existsSync('/usr/include/pcap/bpf.h')) return 'libpcap-dev is not installed (no /usr/include/pcap/bpf.h)';
  return undefined;
}

let buildDir: string | undefined;

/**
 * Where competitors are built and kept: build/bench-native in cbpf's folder (a
 * clone, or a package the user installed), else, where that folder is not the
 * user's to write (a package installed by root), a private temporary folder
 * removed at exit: a shared, predictable one could hold another user's binary.
 */
function nativeBuildDir(): string {
  if (buildDir) return buildDir;
  const own = join(packageRoot(), 'build', 'bench-native');
  try {
    mkdirSync(own, { recursive: true });
    accessSync(own, constants.W_OK);
    buildDir = own;
    return buildDir;
  } catch {
    const temporary = mkdtempSync(join(tmpdir(), 'cbpf-bench-native-'));
    process.once('exit', () => rmSync(temporary, { recursive: true, force: true }));
    buildDir = temporary;
    return buildDir;
  }
}

/**
 * `main` (a C file in bench/native) built with gcc -O2 around `source`,
 * included as COMPETITOR, and `flags`; kept in nativeBuildDir() under `name`
 * and a hash of all three, so that it is built once. Returns the binary's
 * path; throws with the compiler's message on failure.
 */
function buildCached(name: string, main: string, source: string, flags: readonly string[]): string {
  const mainPath = join(packageRoot(), 'bench', 'native', main);
  const hash = createHash('sha256').update(source).update(readFileSync(mainPath)).update(flags.join(' ')).digest('hex').slice(0, 16);
  const dir = resolve(nativeBuildDir()); // COMPETITOR is #included: a relative path would be taken from bench/native
  const binary = join(dir, `${name}-${hash}`);
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}-${hash}.c`);
    writeFileSync(file, source);
    const result = spawnSync('gcc', ['-O2', '-w', `-DCOMPETITOR="${file}"`, '-o', `${binary}.${process.pid}.tmp`, mainPath, ...flags], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`gcc failed: ${result.stderr.trim()}`);
    renameSync(`${binary}.${process.pid}.tmp`, binary);
  }
  return binary;
}

/** Builds `kind` for `program` (cached in nativeBuildDir() by source hash); throws with the compiler's message on failure. */
export function buildNative(kind: NativeKind, program: VerifiedProgram): NativeCompetitor {
  const reason = nativeUnavailableReason(kind);
  if (reason) throw new Error(`${kind}: ${reason}`);
  let binary: string;
  try {
    binary = buildCached('competitor', 'harness.c', competitorSource(kind, program), kind === 'libpcap' ? ['-lpcap'] : []);
  } catch (error) {
    throw new Error(`${kind}: ${(error as Error).message}`);
  }
  return {
    kind,
    run(recordsPath, rounds, warmUpMs = 0) {
      const decisionsPath = `${recordsPath}.${basename(binary)}.decisions`;
      const result = spawnSync(binary, [recordsPath, String(rounds), decisionsPath, String(warmUpMs)], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${kind}: ${result.stderr.trim() || `exited with ${result.status ?? result.signal}`}`);
      const bytes = readFileSync(decisionsPath);
      rmSync(decisionsPath);
      return {
        roundsNs: (JSON.parse(result.stdout) as { roundsNs: number[] }).roundsNs,
        decisions: new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4),
      };
    },
  };
}

/** What one run of the end-to-end program printed: nanoseconds from opening the file to the merged counts, the records, and records by decision value. */
export interface EndToEndRun {
  readonly ns: number;
  readonly records: number;
  readonly values: ReadonlyArray<readonly [value: number, records: number]>;
}

/** The end-to-end program built: `run` reads, decides and counts a record file on `threads` threads. */
export interface EndToEndProgram {
  run(recordsPath: string, threads: number): EndToEndRun;
}

/**
 * bench/native/end-to-end.c built to decide with `program` translated to C,
 * or, with no program, to only read (NO_FILTER: the machine's ceiling for
 * reading a file). Cached as buildNative's competitors are; throws with the
 * reason when gcc is missing or fails.
 */
export function buildEndToEnd(program: VerifiedProgram | undefined): EndToEndProgram {
  const reason = compilerUnavailableReason();
  if (reason) throw new Error(reason);
  const binary = program
    ? buildCached('end-to-end', 'end-to-end.c', translateToC(program, 'decide'), ['-pthread'])
    : buildCached('end-to-end', 'end-to-end.c', 'static int unused;\n', ['-pthread', '-DNO_FILTER']);
  return {
    run(recordsPath, threads) {
      const result = spawnSync(binary, [recordsPath, String(threads)], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`end-to-end: ${result.stderr.trim() || `exited with ${result.status ?? result.signal}`}`);
      return JSON.parse(result.stdout) as EndToEndRun;
    },
  };
}
