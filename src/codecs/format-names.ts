/**
 * The names of the program formats, apart from their codecs (formats.ts), so
 * that the command line checks `--format` without loading every codec.
 */

/** The program formats: raw sock_filter (little- or big-endian), C (-dd), -ddd, bpf_asm, JSON, and a stack of filters as one JSON object. */
export const FORMATS = ['raw', 'raw-be', 'c', 'ddd', 'asm', 'json', 'stack'] as const;
/** One of FORMATS. */
export type Format = (typeof FORMATS)[number];

/** What cbpf reads: every program format, and seccomp profiles (Docker/OCI JSON, compiled as a container runtime loads them). */
export const INPUT_FORMATS = [...FORMATS, 'profile'] as const;
/** One of INPUT_FORMATS. */
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** True when `name` is one of FORMATS. */
export function isFormat(name: string): name is Format {
  return (FORMATS as readonly string[]).includes(name);
}

/** True when `name` is one of INPUT_FORMATS. */
export function isInputFormat(name: string): name is InputFormat {
  return (INPUT_FORMATS as readonly string[]).includes(name);
}
