/**
 * The command line, parsed by a pure function: argv in, a Command out (or a
 * UsageError). Each command's help text lives next to its options.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FORMATS, isFormat, type Format } from '../codecs/formats.js';
import { ARCHES, archByName, type Arch } from '../seccomp/arches.js';

/** A command line that cannot be run; main() prints it with exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Options every program-reading command shares. */
interface ReadsProgram {
  /** A path, or '-' for standard input. */
  readonly input: string;
  readonly inputFormat: Format | undefined;
  readonly arch: Arch;
}

/** A parsed command line. */
export type Command =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }
  | ({ readonly kind: 'disasm'; readonly labels: boolean; readonly output: string | undefined } & ReadsProgram)
  | ({ readonly kind: 'convert'; readonly to: Format; readonly output: string | undefined } & ReadsProgram)
  | ({ readonly kind: 'info'; readonly json: boolean } & ReadsProgram);

type Options = NonNullable<ParseArgsConfig['options']>;

const ARCH_NAMES = ARCHES.map((a) => a.name).join(', ');
const COMMON: Options = {
  arch: { type: 'string', default: 'x86_64' },
  'input-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const COMMON_HELP = `  --input-format F  read FILE as F (${FORMATS.join(', ')}); default: detected
  --arch A          arch for syscall names where the filter checks none (default x86_64)
  -h, --help        show this help`;
const OUTPUT: Options = { output: { type: 'string', short: 'o' } };
const OUTPUT_HELP = '  -o FILE           write to FILE instead of standard output';

interface CommandSpec {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  readonly help: string;
}

const COMMANDS: Readonly<Record<'disasm' | 'asm' | 'convert' | 'info', CommandSpec>> = {
  disasm: {
    summary: 'show a filter as bpf_asm with syscall and action names',
    usage: 'cbpf disasm FILE [--labels] [-o OUT]',
    options: { ...COMMON, ...OUTPUT, labels: { type: 'boolean' } },
    help: `  --labels          jump to labels instead of absolute pcs\n${OUTPUT_HELP}\n${COMMON_HELP}`,
  },
  asm: {
    summary: 'assemble bpf_asm text (raw little-endian output by default)',
    usage: 'cbpf asm FILE [--to FORMAT] [-o OUT]',
    options: { ...COMMON, ...OUTPUT, to: { type: 'string', default: 'raw' } },
    help: `  --to FORMAT       ${FORMATS.join(', ')} (default raw)\n${OUTPUT_HELP}\n${COMMON_HELP}`,
  },
  convert: {
    summary: 'convert a filter between formats',
    usage: 'cbpf convert FILE --to FORMAT [-o OUT]',
    options: { ...COMMON, ...OUTPUT, to: { type: 'string' } },
    help: `  --to FORMAT       ${FORMATS.join(', ')} (required)\n${OUTPUT_HELP}\n${COMMON_HELP}`,
  },
  info: {
    summary: 'summarize a filter: arches, syscalls, actions',
    usage: 'cbpf info FILE [--json]',
    options: { ...COMMON, json: { type: 'boolean' } },
    help: `  --json            print one JSON object\n${COMMON_HELP}`,
  },
};

/** The top-level help. */
export function mainHelp(): string {
  const rows = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(9)} ${spec.summary}`);
  return `cbpf: load, check and explain Linux seccomp classic BPF filters

Usage: cbpf COMMAND [options]   (FILE may be - for standard input)

Commands:
${rows.join('\n')}

Formats: ${FORMATS.join(', ')} (raw is little-endian; raw-be big-endian)
Arches: ${ARCH_NAMES}

Run 'cbpf COMMAND --help' for a command's options. Exit codes: 0 ok, 1 bad input or failed check, 2 usage.
`;
}

function commandHelp(name: keyof typeof COMMANDS): string {
  const spec = COMMANDS[name];
  return `${spec.summary}\n\nUsage: ${spec.usage}\n\nOptions:\n${spec.help}\n`;
}

function format(value: string | undefined, option: string): Format | undefined {
  if (value === undefined) return undefined;
  if (!isFormat(value)) throw new UsageError(`${option}: unknown format "${value}" (one of ${FORMATS.join(', ')})`);
  return value;
}

/** Parses argv (without node and the script). Throws UsageError on a bad command line. */
export function parseCommandLine(argv: readonly string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return { kind: 'help', text: mainHelp() };
  if (name === '--version' || name === '-V') return { kind: 'version' };
  if (!Object.hasOwn(COMMANDS, name)) throw new UsageError(`unknown command "${name}"`);
  const commandName = name as keyof typeof COMMANDS;
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: COMMANDS[commandName].options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${name}: ${(error as Error).message.split('\n')[0]}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { kind: 'help', text: commandHelp(commandName) };
  if (parsed.positionals.length !== 1) {
    throw new UsageError(`${name} takes one FILE (or - for standard input), got ${parsed.positionals.length}`);
  }
  const arch = archByName(values.arch as string);
  if (!arch) throw new UsageError(`--arch: unknown arch "${values.arch}" (one of ${ARCH_NAMES})`);
  const common: ReadsProgram = {
    input: parsed.positionals[0]!,
    inputFormat: format(values['input-format'] as string | undefined, '--input-format'),
    arch,
  };
  const output = values.output as string | undefined;
  switch (commandName) {
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
  }
}
