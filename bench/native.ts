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
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { translateToC } from './translate.js';

export type NativeKind = 'gcc -O2' | 'libpcap' | 'memory bound';

/** A built competitor: `run` times `rounds` passes over a record file. */
export interface NativeCompetitor {
  readonly kind: NativeKind;
  run(recordsPath: string, rounds: number): { roundsNs: number[]; decisions: Uint32Array };
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

/** Why `kind` cannot be built here, or undefined when it can. */
export function nativeUnavailableReason(kind: NativeKind): string | undefined {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'no C compiler (gcc)';
  }
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

/** Builds `kind` for `program` (cached in nativeBuildDir() by source hash); throws with the compiler's message on failure. */
export function buildNative(kind: NativeKind, program: VerifiedProgram): NativeCompetitor {
  const reason = nativeUnavailableReason(kind);
  if (reason) throw new Error(`${kind}: ${reason}`);
  const harness = join(packageRoot(), 'bench', 'native', 'harness.c');
  const source = competitorSource(kind, program);
  const hash = createHash('sha256').update(source).update(readFileSync(harness)).digest('hex').slice(0, 16);
  const dir = nativeBuildDir();
  const binary = join(dir, `competitor-${hash}`);
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `competitor-${hash}.c`);
    writeFileSync(file, source);
    const result = spawnSync(
      'gcc',
      ['-O2', '-w', `-DCOMPETITOR="${file}"`, '-o', `${binary}.${process.pid}.tmp`, harness, ...(kind === 'libpcap' ? ['-lpcap'] : [])],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`${kind}: gcc failed: ${result.stderr.trim()}`);
    renameSync(`${binary}.${process.pid}.tmp`, binary);
  }
  return {
    kind,
    run(recordsPath, rounds) {
      const decisionsPath = `${recordsPath}.${hash}.decisions`;
      const result = spawnSync(binary, [recordsPath, String(rounds), decisionsPath], { encoding: 'utf8' });
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
