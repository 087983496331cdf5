/**
 * The command line, parsed by a pure function: argv in, a Command out (or a
 * UsageError). Each command's help text lives next to its options.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DECISION_FORMATS, type DecisionFormat, EVAL_ENGINES, type EvalEngine, RECORD_FORMATS, type RecordFormat } from '../../eval/options.js';
import { SEVERITIES, type Severity } from '../analysis/severity.js';
import { FORMATS, type Format, INPUT_FORMATS, type InputFormat, isFormat, isInputFormat } from '../codecs/format-names.js';
import { ENGINE_NAMES, type EngineName } from '../engine.js';
import type { RecordMix } from '../fuzz/traces.js';
import { contextOf, type ProfileContext, ProfileContextError, type ProfileContextOptions } from '../profile/resolve.js';
import { ARCHES, type Arch, archByName, type ByteOrder } from '../seccomp/arches.js';

/** A command line that cannot be run; main() prints it with exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  /** `command`: the command whose options were wrong, when known (main() points to its help). */
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** How programs are read: every command that reads FILEs has these. */
export interface ReadsPrograms {
  /** Paths, or '-' for standard input; several for a stack, oldest filter first. */
  readonly inputs: readonly string[];
  readonly inputFormat: InputFormat | undefined;
  /** Arch for syscall names where a filter checks none; for emu, also the record's arch. */
  readonly arch: Arch;
  /** The container a profile FILE is resolved for. */
  readonly profile: ProfileContext;
}

/** What `cbpf fuzz` can check. */
export const FUZZ_TARGETS = ['jit', 'decide', 'table', 'standalone', 'kernel', 'verifier', 'codec', 'profile', 'inputs'] as const;
/** One of FUZZ_TARGETS. */
export type FuzzTargetName = (typeof FUZZ_TARGETS)[number];
/** The mixes `cbpf records` generates (src/fuzz/traces.ts). */
export const RECORD_MIXES = ['realistic', 'random'] as const satisfies readonly RecordMix[];
/** The formats `cbpf records` writes: 64-byte binary records or JSON lines. */
export const GENERATED_RECORD_FORMATS = ['bin', 'jsonl'] as const satisfies readonly RecordFormat[];
/** One of GENERATED_RECORD_FORMATS. */
export type GeneratedRecordFormat = (typeof GENERATED_RECORD_FORMATS)[number];

/** A parsed command line. */
export type Command =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }
  | ({ readonly kind: 'disasm'; readonly labels: boolean; readonly output: string | undefined } & ReadsPrograms)
  | ({ readonly kind: 'convert'; readonly to: Format; readonly output: string | undefined } & ReadsPrograms)
  | ({ readonly kind: 'info'; readonly json: boolean } & ReadsPrograms)
  | ({ readonly kind: 'verify'; readonly json: boolean; readonly stack: boolean } & ReadsPrograms)
  | ({
      readonly kind: 'emu';
      /** A syscall name of `arch`, or a number. */
      readonly nr: string | number;
      readonly args: readonly bigint[];
      readonly ip: bigint;
      readonly trace: boolean;
      readonly json: boolean;
    } & ReadsPrograms)
  | ({
      readonly kind: 'compile';
      readonly byteOrder: ByteOrder;
      readonly wat: boolean;
      readonly output: string | undefined;
    } & ReadsPrograms)
  | {
      readonly kind: 'bench';
      readonly quick: boolean;
      readonly json: boolean;
      /** A baseline to compare this run's ratios with; exit 1 on a regression. */
      readonly gate: string | undefined;
      /** Where to write this run's ratios as the new baseline. */
      readonly updateBaseline: string | undefined;
      /** Only these benchmark filters; all when empty. */
      readonly filters: readonly string[];
    }
  | {
      readonly kind: 'records';
      /** How many records to generate. */
      readonly count: number;
      readonly mix: RecordMix;
      /** The same count, mix and seed give the same records. */
      readonly seed: number;
      readonly format: GeneratedRecordFormat;
      readonly output: string | undefined;
    }
  | {
      readonly kind: 'fuzz';
      readonly budget: { readonly runs: number } | { readonly seconds: number };
      /** Undefined: pick one at random (and print it). */
      readonly seed: number | undefined;
      readonly targets: readonly FuzzTargetName[];
      /** Where to write a failure as a conformance case. */
      readonly save: string | undefined;
    }
  | ({
      readonly kind: 'kernel-check';
      readonly records: string | undefined;
      readonly recordFormat: RecordFormat | undefined;
      /** Records to generate per filter when no --records file is given. */
      readonly count: number;
      readonly engines: readonly EngineName[];
    } & ReadsPrograms)
  | { readonly kind: 'ps'; readonly json: boolean }
  | ({ readonly kind: 'audit'; readonly json: boolean; readonly failOn: Severity } & ReadsPrograms)
  | ({ readonly kind: 'explain'; readonly syscall: string | undefined; readonly allArches: boolean; readonly json: boolean } & ReadsPrograms)
  | ({
      readonly kind: 'diff';
      /** Stack A's files and stack B's (each oldest first). */
      readonly a: readonly string[];
      readonly b: readonly string[];
      readonly max: number;
      readonly json: boolean;
    } & ReadsPrograms)
  | {
      readonly kind: 'dump';
      /** The processes to read, or the command to run and capture. */
      readonly target: { readonly pids: readonly number[] } | { readonly command: readonly string[]; readonly first: boolean };
      readonly to: Format;
      readonly json: boolean;
      readonly output: string | undefined;
    }
  | ({
      readonly kind: 'cost';
      readonly records: string;
      readonly recordFormat: RecordFormat | undefined;
      readonly recordByteOrder: ByteOrder;
      readonly hostArch: Arch;
      readonly top: number;
      readonly json: boolean;
      readonly calibrate: boolean;
      readonly gate: string | undefined;
      readonly updateBaseline: string | undefined;
      readonly skipBad: boolean;
    } & ReadsPrograms)
  | ({
      readonly kind: 'eval';
      readonly records: string;
      readonly recordFormat: RecordFormat | undefined;
      readonly recordByteOrder: ByteOrder;
      readonly format: DecisionFormat;
      readonly summary: boolean;
      readonly engine: EvalEngine;
      readonly timing: boolean;
      readonly output: string | undefined;
      /** Where to write the decisions as binary, one little-endian u32 per record. */
      readonly out: string | undefined;
      readonly skipBad: boolean;
      /**
       * Threads deciding, the main thread among them (1: it alone); undefined:
       * one per core, when the trace is long enough (eval-policy.ts).
       */
      readonly workers: number | undefined;
    } & ReadsPrograms);

type Options = NonNullable<ParseArgsConfig['options']>;
type CommandName =
  | 'disasm'
  | 'asm'
  | 'convert'
  | 'info'
  | 'verify'
  | 'emu'
  | 'eval'
  | 'cost'
  | 'explain'
  | 'audit'
  | 'diff'
  | 'records'
  | 'compile'
  | 'kernel-check'
  | 'ps'
  | 'dump'
  | 'fuzz'
  | 'bench';

const ARCH_NAMES = ARCHES.map((a) => a.name).join(', ');
const COMMON: Options = {
  arch: { type: 'string', default: 'x86_64' },
  'input-format': { type: 'string' },
  'container-engine': { type: 'string' },
  runtime: { type: 'string' },
  caps: { type: 'string' },
  'cap-add': { type: 'string', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  'host-arch': { type: 'string' },
  kernel: { type: 'string' },
  optimize: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const PROFILE_HELP = `  A seccomp profile (Docker/OCI JSON) is compiled as the container would load it:
  --container-engine E  docker (moby 20.10, default), podman (containers-common 0.50)
                    or none (an OCI linux.seccomp object, as the runtime takes it)
  --runtime R       runc (1.1, default: adds its ENOSYS stub) or crun (1.8)
  --caps SET        docker, podman, none or CAP_A,CAP_B,...; default: the engine's
  --cap-add CAP, --cap-drop CAP   as docker run (repeatable; ALL for every one)
  --host-arch A     the host's arch (default x86_64)
  --kernel V        the host's kernel version, as 6.1 (default: the running kernel's)
  --optimize 1|2    libseccomp's layout: 1 one syscall after another (runc 1.1, crun), 2 a
                    binary tree of syscall numbers (runc 1.2 above 32 rules); same decisions`;
const COMMON_HELP = `  --input-format F  read FILE as F (${INPUT_FORMATS.join(', ')}); default: detected
  --arch A          arch for syscall names where the filter checks none (default x86_64)
${PROFILE_HELP}
  -h, --help        show this help`;
const OUTPUT: Options = { output: { type: 'string', short: 'o' } };
const OUTPUT_HELP = '  -o FILE           write to FILE instead of standard output (- is standard output)';

interface CommandSpec {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  readonly help: string;
  /** How many FILEs the command takes: one, one or more (a stack of filters), or none. */
  readonly files: 'one' | 'many' | 'none';
}

const COMMANDS: Readonly<Record<CommandName, CommandSpec>> = {
  disasm: {
    summary: 'show a filter as bpf_asm with syscall and action names',
    usage: 'cbpf disasm FILE [--labels] [-o OUT]',
    options: { ...COMMON, ...OUTPUT, labels: { type: 'boolean' } },
    help: `  --labels          jump to labels instead of absolute pcs\n${OUTPUT_HELP}\n${COMMON_HELP}`,
    files: 'one',
  },
  asm: {
    summary: 'assemble bpf_asm text (raw little-endian output by default)',
    usage: 'cbpf asm FILE [--to FORMAT] [-o OUT]',
    options: { ...COMMON, ...OUTPUT, to: { type: 'string', default: 'raw' } },
    help: `  --to FORMAT       ${FORMATS.join(', ')} (default raw)\n${OUTPUT_HELP}\n${COMMON_HELP}`,
    files: 'one',
  },
  convert: {
    summary: 'convert a filter between formats',
    usage: 'cbpf convert FILE --to FORMAT [-o OUT]',
    options: { ...COMMON, ...OUTPUT, to: { type: 'string' } },
    help: `  --to FORMAT       ${FORMATS.join(', ')} (required)\n${OUTPUT_HELP}\n${COMMON_HELP}`,
    files: 'one',
  },
  info: {
    summary: "summarize a filter: arches, syscalls, actions, the kernel's cache",
    usage: 'cbpf info FILE [--json]',
    options: { ...COMMON, json: { type: 'boolean' } },
    help: `  --json            print one JSON object\n${COMMON_HELP}`,
    files: 'one',
  },
  verify: {
    summary: 'check filters as the kernel does (exit 1 if any is rejected)',
    usage: 'cbpf verify FILE... [--stack] [--json]',
    options: { ...COMMON, json: { type: 'boolean' }, stack: { type: 'boolean' } },
    help: `  --stack           also check that the FILEs fit in one stack (oldest first)
  --json            one JSON object per file: file, valid, errno, code, pc, message
${COMMON_HELP}`,
    files: 'many',
  },
  emu: {
    summary: 'one decision through a stack of filters, optionally traced',
    usage: 'cbpf emu FILTER... --nr NAME|N [--arch A] [--args A0,A1,...] [--ip N] [--trace] [--json]',
    options: {
      ...COMMON,
      nr: { type: 'string' },
      args: { type: 'string' },
      ip: { type: 'string' },
      trace: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    help: `  --nr NAME|N       the syscall, by name for --arch or by number (required)
  --arch A          the record's arch, also used for names (default x86_64)
  --args A0,A1,...  up to six arguments, decimal or 0x (default 0)
  --ip N            the instruction pointer (default 0)
  --trace           print every executed instruction with A and X
  --json            print one JSON object
  --input-format F  read FILTERs as F (${INPUT_FORMATS.join(', ')}); default: detected
${PROFILE_HELP}
  -h, --help        show this help`,
    files: 'many',
  },
  eval: {
    summary: 'decide every record of a trace through a stack of filters',
    usage: 'cbpf eval FILTER... --records FILE|- [--format hex|action|json] [--summary] [-o OUT]',
    options: {
      ...COMMON,
      ...OUTPUT,
      records: { type: 'string' },
      'records-format': { type: 'string' },
      'records-byte-order': { type: 'string', default: 'le' },
      format: { type: 'string', default: 'hex' },
      summary: { type: 'boolean' },
      engine: { type: 'string', default: 'auto' },
      timing: { type: 'boolean' },
      out: { type: 'string' },
      'skip-bad': { type: 'boolean' },
      workers: { type: 'string' },
    },
    help: `  --records FILE|-          the trace: 64-byte seccomp_data records, JSON lines, or an strace
                            log recorded with strace -f -e raw=all -o FILE CMD (required;
                            its syscalls are of --arch, but for processes in 32-bit mode)
  --records-format F        bin, jsonl or strace; default: detected
  --records-byte-order O    le or be, for binary records (default le)
  --format hex|action|json  one line per record (default hex: the 32-bit value)
  --summary                 print counts per action, arch and syscall, and the first records
                            of each decision other than ALLOW, instead of lines (with
                            --format json, as JSON; with -o, the lines still go to OUT)
  --out FILE                write the decisions to FILE as binary, one little-endian u32 per
                            record (lines then go only to -o, if given)
  --skip-bad                pass over bad records (a truncated last record, a bad JSON line,
                            an unknown syscall) and count them, instead of stopping at the first
  --workers N               threads deciding in parallel: the main thread and N-1 worker
                            threads, sharing the compiled modules (default: one per core, once
                            the trace is long enough to pay for starting them; 1: the main
                            thread alone)
  --engine auto|jit|interp  auto (default): the filters' decision tables, and the interpreter
                            where they cannot say, while the JIT compiles in the background, then
                            the JIT; jit: wait for the compiled code; interp: interpreter only
  --timing                  print which engine decided how many records, and the rate, on
                            standard error
${OUTPUT_HELP}
${COMMON_HELP}`,
    files: 'many',
  },
  cost: {
    summary: 'what a filter costs the kernel on a trace: instructions per syscall, the action cache',
    usage: 'cbpf cost FILTER... --records TRACE [--top N] [--json] [--calibrate] [--gate FILE] [--update-baseline FILE]',
    options: {
      ...COMMON,
      records: { type: 'string' },
      'records-format': { type: 'string' },
      'records-byte-order': { type: 'string', default: 'le' },
      'host-arch': { type: 'string', default: 'x86_64' },
      top: { type: 'string', default: '10' },
      json: { type: 'boolean' },
      calibrate: { type: 'boolean' },
      gate: { type: 'string' },
      'update-baseline': { type: 'string' },
      'skip-bad': { type: 'boolean' },
    },
    help: `  Each FILTER is costed on its own, side by side (a stack file holds a whole stack).
  --records TRACE          the syscalls: binary records, JSON lines or an strace log (required)
  --records-format F       bin, jsonl or strace (default: detected)
  --records-byte-order O   le (default) or be, for binary records
  --host-arch A            the arch the kernel runs on, which decides what its action cache
                           covers (default x86_64: x86_64 and i386 syscalls)
  --top N                  the N costliest syscalls of each filter (default 10)
  --json                   print one JSON object
  --calibrate              time real syscalls under filters of known path length on this
                           machine (x86-64 Linux, gcc), and estimate nanoseconds per syscall
  --gate FILE              exit 1 when a mean cost per syscall rises above FILE's baseline
                           beyond its tolerance (one line per figure)
  --update-baseline FILE   write this run's costs to FILE as the baseline
  --skip-bad               skip records that cannot be read (counted), instead of stopping
${COMMON_HELP}`,
    files: 'many',
  },
  explain: {
    summary: 'what a filter or stack decides for every syscall, and under which argument conditions',
    usage: 'cbpf explain FILTER... [--arch A] [--syscall NAME] [--json]',
    options: { ...COMMON, syscall: { type: 'string' }, json: { type: 'boolean' } },
    help: `  Every arch the stack tells apart (or --arch, when given), each syscall of its table:
  the decision, or each decision with the argument conditions that lead to it; then the
  numbers no table names, and every other arch. Exact: computed over all records.
  --syscall NAME     only this syscall
  --json             one JSON object
${COMMON_HELP}`,
    files: 'many',
  },
  audit: {
    summary: 'findings a policy author would want to know, each with a record that shows it',
    usage: 'cbpf audit FILTER... [--fail-on low|medium|high] [--json]',
    options: { ...COMMON, 'fail-on': { type: 'string', default: 'high' }, json: { type: 'boolean' } },
    help: `  From the stack's exact explanation: an arch left unchecked, x32 numbers that reach what
  x86_64's do not, an equivalent syscall left open (open denied, openat allowed), a 64-bit
  argument compared on its low half only, dangerous syscalls allowed whatever their arguments,
  a default that allows, KILL_THREAD where KILL_PROCESS is likely meant, unreachable code.
  --fail-on S        exit 1 when a finding of severity S or above exists (default high)
  --json             one JSON object per finding
${COMMON_HELP}`,
    files: 'many',
  },
  diff: {
    summary: 'prove two filters or stacks equivalent, or show each syscall they decide differently',
    usage: 'cbpf diff A B [--max N] [--json] | cbpf diff --a FILE... --b FILE... [--max N] [--json]',
    options: {
      ...COMMON,
      a: { type: 'string', multiple: true },
      b: { type: 'string', multiple: true },
      max: { type: 'string', default: '20' },
      json: { type: 'boolean' },
    },
    help: `  A B               two filters (or stack files) to compare on every record
  --a FILE          stack A, a file at a time, oldest first (repeatable); --b FILE the same for B
  --max N           list at most N differences (default 20), each with a record that shows it
  --json            one object: equivalent, differences [{arch, nr, syscall, region, record, a, b}]
  Exit 0 when A and B decide every record alike (a proof over all records, not a sample),
  1 when they differ.
${COMMON_HELP}`,
    files: 'none',
  },
  records: {
    summary: 'generate a sample trace of x86_64 syscalls, for eval and kernel-check',
    usage: 'cbpf records --generate N [--mix realistic|random] [--seed S] [--format bin|jsonl] [-o OUT]',
    options: {
      ...OUTPUT,
      generate: { type: 'string' },
      mix: { type: 'string', default: 'realistic' },
      seed: { type: 'string', default: '1' },
      format: { type: 'string', default: 'bin' },
      help: { type: 'boolean', short: 'h' },
    },
    help: `  --generate N      write N x86_64 seccomp_data records (required)
  --mix M           realistic (default): syscalls in the proportions of a busy network service,
                    about 1% of them calls a container profile denies, with small arguments;
                    random: any nr from 0 to 511, any arguments
  --seed S          the seed (default 1): the same N, mix and seed give the same records
  --format F        bin (default): 64-byte little-endian records; jsonl: one JSON object a line
${OUTPUT_HELP}
                    (binary records are never written to a terminal)
  -h, --help        show this help`,
    files: 'none',
  },
  compile: {
    summary: 'compile a stack of filters to a standalone WebAssembly module',
    usage: 'cbpf compile FILTER... -o filter.wasm [--wat] [--byte-order le|be]',
    options: { ...COMMON, ...OUTPUT, wat: { type: 'boolean' }, 'byte-order': { type: 'string', default: 'le' } },
    help: `  --wat             write the module as WebAssembly text instead of binary
  --byte-order O    le or be: the byte order of the records it will read (default le)
${OUTPUT_HELP}
${COMMON_HELP}`,
    files: 'many',
  },
  'kernel-check': {
    summary: 'compare the verifier and the engines with the live kernel (x86-64 Linux)',
    usage: `cbpf kernel-check FILTER... [--records FILE] [--count N] [--engine ${ENGINE_NAMES.join('|')}|all]`,
    options: {
      ...COMMON,
      records: { type: 'string' },
      'records-format': { type: 'string' },
      count: { type: 'string', default: '100000' },
      engine: { type: 'string', default: 'all' },
    },
    help: `  --records FILE|-   x86_64 and i386 records to decide (64-byte little-endian, or JSON lines)
  --records-format F bin or jsonl; default: detected
  --count N          without --records: N realistic records plus N/10 aimed at the
                     filter's constants (default 100000)
  --engine E         ${ENGINE_NAMES.join(', ')}, or all (default all)
${COMMON_HELP}`,
    files: 'many',
  },
  ps: {
    summary: 'list the processes that run seccomp filters (from /proc)',
    usage: 'cbpf ps [--json]',
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    help: `  --json            one JSON object per process: pid, command, mode, filters
  -h, --help        show this help`,
    files: 'none',
  },
  dump: {
    summary: 'read the filters a process runs, or capture those a command installs',
    usage: 'cbpf dump PID... [--to FORMAT] [-o OUT] [--json] | cbpf dump [--first] [--json] -- COMMAND ARGS...',
    options: {
      ...OUTPUT,
      to: { type: 'string', default: 'stack' },
      json: { type: 'boolean' },
      first: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    help: `  PID...            running processes: their filters, oldest first, exactly as the kernel holds
                    them (needs CAP_SYS_ADMIN and permission to ptrace them; x86-64 Linux, gcc)
  -- COMMAND ARGS   run COMMAND under ptrace, following its forks and threads, and capture
                    every filter it installs (seccomp(2) or prctl), in order, per process
  --first           stop (kill) COMMAND at its first filter
  --to FORMAT       stack (default): one file that every command reads as the whole stack;
                    another format (${FORMATS.join(', ')}) when there is one filter
  --json            one JSON object per process: pid, command, mode, filters (each in the
                    json format); one process's object is a stack file
${OUTPUT_HELP}
  -h, --help        show this help`,
    files: 'none',
  },
  fuzz: {
    summary: 'differential fuzzing: JIT and decision tables vs interpreter, both vs the kernel, codecs, bad input',
    usage: `cbpf fuzz [--seconds N | --runs N] [--seed S] [--target ${FUZZ_TARGETS.join('|')}|all] [--save DIR]`,
    options: {
      seconds: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      target: { type: 'string', default: 'all' },
      save: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    help: `  --seconds N       run for N seconds (default 10)
  --runs N          run N iterations instead (targets take turns)
  --seed S          the seed (default: a random one, printed); the same seed replays the same run
  --target T        ${FUZZ_TARGETS.join(', ')}, or all (default): jit compares the JIT with the
                    interpreter on stacks of up to 8 filters; table the decision tables (every
                    value they hold) with the interpreter; standalone the module cbpf compile
                    writes, run through its ABI alone; kernel the interpreter with the live
                    kernel; verifier the verifier with the kernel; codec every format's round trip;
                    profile generated seccomp profiles: cbpf's filter, its evaluator and
                    libseccomp's filter (where libseccomp-dev is installed); inputs runs every command on malformed filters and traces (exit 0, or 1 with
                    one short line; never a stack trace, a hang or unbounded memory), on every core
  --save DIR        write a failure as a conformance case in DIR (test/fixtures/conformance
                    picks up *.cases files); for inputs, the failing case's files
  -h, --help        show this help`,
    files: 'none',
  },
  bench: {
    summary: 'measure the engines against their competitors, and gate on regressions',
    usage: 'cbpf bench [--quick] [--json] [--gate FILE] [--update-baseline FILE] [--filter NAME]...',
    options: {
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      gate: { type: 'string' },
      'update-baseline': { type: 'string' },
      filter: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    help: `  --quick                  100,000 records, realistic and worst-case mixes, 3 rounds (CI)
  --json                   print the report as JSON
  --gate FILE              compare the ratios of JIT batch over the interpreter, the JS code
                           generator and gcc -O2 with the baseline in FILE; a figure below it is
                           measured twice more, and exit 1 if it stays below (a regression)
  --update-baseline FILE   write this run's ratios to FILE as the baseline; if FILE exists,
                           lower each of its ratios to this run's where that is lower (run it
                           several times for a baseline that holds on a noisy machine; delete
                           FILE first to raise it)
  --filter NAME            only this filter (repeatable): allowlist-small, multiarch,
                           docker-linear, docker-tree, argument-heavy, large-4091
  -h, --help               show this help`,
    files: 'none',
  },
};

/** The top-level help. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const rows = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(width)}  ${spec.summary}`);
  return `cbpf: load, check and explain Linux seccomp classic BPF filters

Usage: cbpf COMMAND [options]   (FILE may be - for standard input)

Commands:
${rows.join('\n')}

Formats: ${FORMATS.join(', ')} (raw is little-endian; raw-be big-endian);
  seccomp profiles (Docker/OCI JSON) are read too, compiled as runc or crun loads them
Arches: ${ARCH_NAMES}

Run 'cbpf COMMAND --help' for a command's options. Exit codes: 0 ok, 1 bad input or failed check, 2 usage.
`;
}

function commandHelp(name: CommandName): string {
  const spec = COMMANDS[name];
  return `${spec.summary}\n\nUsage: ${spec.usage}\n\nOptions:\n${spec.help}\n`;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], option: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${option}: unknown value "${value}" (one of ${allowed.join(', ')})`);
  return value as T;
}

/** An --input-format value: any format cbpf reads. */
function inputFormat(value: string | undefined): InputFormat | undefined {
  if (value !== undefined && !isInputFormat(value)) throw new UsageError(`--input-format: unknown format "${value}" (one of ${INPUT_FORMATS.join(', ')})`);
  return value;
}

function format(value: string | undefined, option: string): Format | undefined {
  if (value === 'profile') throw new UsageError(`${option}: profiles are read, not written (write the compiled filter in one of ${FORMATS.join(', ')})`);
  if (value !== undefined && !isFormat(value)) throw new UsageError(`${option}: unknown format "${value}" (one of ${FORMATS.join(', ')})`);
  return value;
}

/** An unsigned integer option, decimal or 0x, below 2^bits. */
function unsigned(text: string, option: string, bits: number): bigint {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text.trim())) throw new UsageError(`${option}: "${text}" is not a decimal or 0x number`);
  const value = BigInt(text.trim());
  if (value >= 1n << BigInt(bits)) throw new UsageError(`${option}: ${text} does not fit in ${bits} bits`);
  return value;
}

/** The most threads `--workers` starts: far past any machine's cores, short of exhausting memory with idle workers. */
const MAX_WORKERS = 256;

/** `--workers N`: the threads deciding, the main thread among them, so at least 1. */
function threadCount(text: string): number {
  const count = unsigned(text, '--workers', 32);
  if (count === 0n) throw new UsageError('--workers: 0 threads cannot decide anything; 1 is the main thread alone');
  if (count > MAX_WORKERS) throw new UsageError(`--workers: ${count} threads is more than the ${MAX_WORKERS} cbpf starts`);
  return Number(count);
}

function emuRecord(values: Record<string, string | boolean | undefined>): { nr: string | number; args: bigint[]; ip: bigint } {
  const nrText = values.nr as string | undefined;
  if (nrText === undefined) throw new UsageError('emu needs --nr NAME|N');
  const nr = /^[a-z_]\w*$/i.test(nrText) ? nrText : Number(BigInt.asIntN(32, unsigned(nrText, '--nr', 32)));
  const argsText = values.args as string | undefined;
  const args = argsText === undefined ? [] : argsText.split(',').map((a, i) => unsigned(a, `--args (argument ${i})`, 64));
  if (args.length > 6) throw new UsageError(`--args: ${args.length} arguments given; a syscall has at most 6`);
  const ip = values.ip === undefined ? 0n : unsigned(values.ip as string, '--ip', 64);
  return { nr, args, ip };
}

function benchCommand(values: Record<string, string | boolean | string[] | undefined>): Command {
  return {
    kind: 'bench',
    quick: values.quick === true,
    json: values.json === true,
    gate: values.gate as string | undefined,
    updateBaseline: values['update-baseline'] as string | undefined,
    filters: (values.filter as string[] | undefined) ?? [],
  };
}

/** `cbpf diff`: A and B as two FILEs, or as stacks built with --a and --b. */
function diffCommand(values: Record<string, string | boolean | string[] | undefined>, positionals: readonly string[]): Command {
  const [a, b] = [values.a as string[] | undefined, values.b as string[] | undefined];
  let stacks: [readonly string[], readonly string[]];
  if (a || b) {
    if (!a || !b) throw new UsageError('diff needs both --a FILE... and --b FILE...');
    if (positionals.length > 0) throw new UsageError('diff takes A B, or --a and --b, not both');
    stacks = [a, b];
  } else {
    if (positionals.length !== 2) throw new UsageError(`diff takes two FILEs (A B), got ${positionals.length}`);
    stacks = [[positionals[0]!], [positionals[1]!]];
  }
  return {
    kind: 'diff',
    ...programReading(values, [...stacks[0], ...stacks[1]]),
    a: stacks[0],
    b: stacks[1],
    max: Number(unsigned(values.max as string, '--max', 32)),
    json: values.json === true,
  };
}

/** The command-line flag of each profile context option. */
const CONTEXT_FLAGS: Readonly<Record<keyof ProfileContextOptions, string>> = {
  engine: 'container-engine',
  runtime: 'runtime',
  caps: 'caps',
  capAdd: 'cap-add',
  capDrop: 'cap-drop',
  hostArch: 'host-arch',
  kernel: 'kernel',
  optimize: 'optimize',
};

/** The options every command that reads programs shares: inputs, format, arch and a profile's context. */
function programReading(values: Record<string, string | boolean | string[] | undefined>, inputs: readonly string[]): ReadsPrograms {
  const arch = archByName(values.arch as string);
  if (!arch) throw new UsageError(`--arch: unknown arch "${values.arch}" (one of ${ARCH_NAMES})`);
  let profile: ProfileContext;
  try {
    profile = contextOf({
      engine: values['container-engine'] as string | undefined,
      runtime: values.runtime as string | undefined,
      caps: values.caps as string | undefined,
      capAdd: values['cap-add'] as string[] | undefined,
      capDrop: values['cap-drop'] as string[] | undefined,
      hostArch: values['host-arch'] as string | undefined,
      kernel: values.kernel as string | undefined,
      ...(values.optimize === undefined ? {} : { optimize: Number(values.optimize) }),
    });
  } catch (error) {
    if (error instanceof ProfileContextError) throw new UsageError(`--${CONTEXT_FLAGS[error.option]}: ${error.message}`);
    throw error;
  }
  return { inputs, inputFormat: inputFormat(values['input-format'] as string | undefined), arch, profile };
}

/** `cbpf dump`: PIDs, or a command to run after `--` (`terminated`: the line had `--`). */
function dumpCommand(values: Record<string, string | boolean | undefined>, positionals: readonly string[], terminated: boolean): Command {
  const to = format(values.to as string, '--to')!;
  const common = { to, json: values.json === true, output: values.output as string | undefined };
  if (terminated) {
    if (positionals.length === 0) throw new UsageError('dump -- needs a COMMAND to run');
    return { kind: 'dump', ...common, target: { command: positionals, first: values.first === true } };
  }
  if (values.first) throw new UsageError('dump: --first is for a COMMAND run after --');
  if (positionals.length === 0) throw new UsageError('dump needs PID... or -- COMMAND ARGS...');
  const pids = positionals.map((text) => {
    if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`dump: "${text}" is not a process id (to run a command, put it after --)`);
    return Number(text);
  });
  return { kind: 'dump', ...common, target: { pids } };
}

function recordsCommand(values: Record<string, string | boolean | undefined>): Command {
  if (values.generate === undefined) throw new UsageError('records needs --generate N');
  return {
    kind: 'records',
    count: Number(unsigned(values.generate as string, '--generate', 32)),
    mix: oneOf(values.mix as string, RECORD_MIXES, '--mix')!,
    seed: Number(unsigned(values.seed as string, '--seed', 32)),
    format: oneOf(values.format as string, GENERATED_RECORD_FORMATS, '--format')!,
    output: values.output as string | undefined,
  };
}

function fuzzCommand(values: Record<string, string | boolean | undefined>): Command {
  if (values.seconds !== undefined && values.runs !== undefined) throw new UsageError('fuzz: give --seconds or --runs, not both');
  const budget =
    values.runs !== undefined
      ? { runs: Number(unsigned(values.runs as string, '--runs', 32)) }
      : { seconds: values.seconds === undefined ? 10 : Number(unsigned(values.seconds as string, '--seconds', 32)) };
  const target = oneOf(values.target as string, [...FUZZ_TARGETS, 'all'] as const, '--target')!;
  return {
    kind: 'fuzz',
    budget,
    seed: values.seed === undefined ? undefined : Number(unsigned(values.seed as string, '--seed', 32)),
    targets: target === 'all' ? FUZZ_TARGETS : [target],
    save: values.save as string | undefined,
  };
}

/** Parses argv (without node and the script). Throws UsageError on a bad command line. */
export function parseCommandLine(argv: readonly string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return { kind: 'help', text: mainHelp() };
  if (name === '--version' || name === '-V') return { kind: 'version' };
  if (!Object.hasOwn(COMMANDS, name)) throw new UsageError(`unknown command "${name}"`);
  try {
    return parseCommand(name as CommandName, rest);
  } catch (error) {
    throw error instanceof UsageError ? new UsageError(error.message, name) : error;
  }
}

/**
 * node:util's parseArgs error as one short line: its messages name the option
 * between quotes, then add advice on dashes that fits none of cbpf's options.
 */
function optionError(error: Error & { code?: string }): string {
  const option = /'(?:-\w, )?(-[^' ]+)/.exec(error.message)?.[1]; // '-o, --output <value>' names --output
  if (option === undefined) return error.message.split('\n')[0]!;
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}`;
  if (error.message.includes('argument missing')) return `${option} needs a value`;
  if (error.message.includes('does not take an argument')) return `${option} takes no value`;
  if (error.message.includes('ambiguous')) return `${option} needs a value; to give one that starts with a dash, write ${option}=VALUE`;
  return error.message.split('\n')[0]!;
}

/** The Command of `name`'s options and FILEs. */
function parseCommand(name: CommandName, rest: readonly string[]): Command {
  const spec = COMMANDS[name];
  let parsed: ReturnType<typeof parseArgs<{ options: Options; allowPositionals: true; strict: true; tokens: true }>>;
  try {
    parsed = parseArgs({ args: [...rest], options: spec.options, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError(`${name}: ${optionError(error as Error)}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { kind: 'help', text: commandHelp(name) };
  const count = parsed.positionals.length;
  if (name === 'dump') return dumpCommand(values, parsed.positionals, parsed.tokens.find((t) => t.kind === 'option-terminator') !== undefined);
  if (name === 'diff') return diffCommand(values, parsed.positionals);
  if (name === 'ps') {
    if (count > 0) throw new UsageError(`ps takes no argument, got ${count}`);
    return { kind: 'ps', json: values.json === true };
  }
  if (spec.files === 'none') {
    if (count > 0) throw new UsageError(`${name} takes no FILE, got ${count}`);
    if (name === 'records') return recordsCommand(values);
    return name === 'bench' ? benchCommand(values) : fuzzCommand(values);
  }
  if (spec.files === 'many' ? count === 0 : count !== 1) {
    throw new UsageError(`${name} takes ${spec.files === 'many' ? 'one or more FILEs' : 'one FILE'} (- for standard input), got ${count}`);
  }
  const common = programReading(values, parsed.positionals);
  const output = values.output as string | undefined;
  switch (name) {
    case 'disasm':
      return { kind: 'disasm', ...common, labels: values.labels === true, output };
    case 'asm':
      return { kind: 'convert', ...common, inputFormat: common.inputFormat ?? 'asm', to: format(values.to as string, '--to')!, output };
    case 'convert': {
      const to = format(values.to as string | undefined, '--to');
      if (to === undefined) throw new UsageError('convert needs --to FORMAT');
      return { kind: 'convert', ...common, to, output };
    }
    case 'info':
      return { kind: 'info', ...common, json: values.json === true };
    case 'verify':
      return { kind: 'verify', ...common, json: values.json === true, stack: values.stack === true };
    case 'emu':
      return { kind: 'emu', ...common, ...emuRecord(values), trace: values.trace === true, json: values.json === true };
    case 'compile':
      return {
        kind: 'compile',
        ...common,
        output,
        wat: values.wat === true,
        byteOrder: oneOf(values['byte-order'] as string, ['le', 'be'] as const, '--byte-order')!,
      };
    case 'kernel-check': {
      const count = Number(unsigned(values.count as string, '--count', 32));
      const engine = oneOf(values.engine as string, [...ENGINE_NAMES, 'all'] as const, '--engine')!;
      return {
        kind: 'kernel-check',
        ...common,
        records: values.records as string | undefined,
        count,
        recordFormat: oneOf(values['records-format'] as string | undefined, RECORD_FORMATS, '--records-format'),
        engines: engine === 'all' ? ENGINE_NAMES : [engine],
      };
    }
    case 'records':
    case 'fuzz':
    case 'bench':
      throw new Error(`unreachable: ${name} takes no FILE and returned above`);
    case 'audit':
      return { kind: 'audit', ...common, json: values.json === true, failOn: oneOf(values['fail-on'] as string, SEVERITIES, '--fail-on')! };
    case 'explain':
      return {
        kind: 'explain',
        ...common,
        syscall: values.syscall as string | undefined,
        allArches: !rest.some((a) => a === '--arch' || a.startsWith('--arch=')),
        json: values.json === true,
      };
    case 'cost': {
      const records = values.records as string | undefined;
      if (records === undefined) throw new UsageError('cost needs --records TRACE (or - for standard input)');
      if (records === '-' && common.inputs.includes('-')) throw new UsageError('cost: standard input cannot hold both a filter and the records');
      const hostArch = archByName(values['host-arch'] as string);
      if (!hostArch) throw new UsageError(`--host-arch: unknown arch "${values['host-arch']}" (one of ${ARCH_NAMES})`);
      return {
        kind: 'cost',
        ...common,
        records,
        recordFormat: oneOf(values['records-format'] as string | undefined, RECORD_FORMATS, '--records-format'),
        recordByteOrder: oneOf(values['records-byte-order'] as string, ['le', 'be'] as const, '--records-byte-order')!,
        hostArch,
        top: Number(unsigned(values.top as string, '--top', 32)),
        json: values.json === true,
        calibrate: values.calibrate === true,
        gate: values.gate as string | undefined,
        updateBaseline: values['update-baseline'] as string | undefined,
        skipBad: values['skip-bad'] === true,
      };
    }
    case 'eval': {
      const records = values.records as string | undefined;
      if (records === undefined) throw new UsageError('eval needs --records FILE (or - for standard input)');
      if (records === '-' && common.inputs.includes('-')) throw new UsageError('eval: standard input cannot hold both a filter and the records');
      if (output === '-' && values.out === '-')
        throw new UsageError('eval: standard output cannot take both the lines (-o -) and the binary decisions (--out -)');
      return {
        kind: 'eval',
        ...common,
        records,
        recordFormat: oneOf(values['records-format'] as string | undefined, RECORD_FORMATS, '--records-format'),
        recordByteOrder: oneOf(values['records-byte-order'] as string, ['le', 'be'] as const, '--records-byte-order')!,
        format: oneOf(values.format as string, DECISION_FORMATS, '--format')!,
        summary: values.summary === true,
        engine: oneOf(values.engine as string, EVAL_ENGINES, '--engine')!,
        timing: values.timing === true,
        output,
        out: values.out as string | undefined,
        skipBad: values['skip-bad'] === true,
        workers: values.workers === undefined ? undefined : threadCount(values.workers as string),
      };
    }
  }
}
