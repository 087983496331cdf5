/**
 * The `cbpf` command: parses the command line, runs one command, and maps every
 * outcome to an exit code in this one place. Bad input is one line on stderr,
 * never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { type Command, mainHelp, parseCommandLine, UsageError } from './args.js';
import { ExitCode } from './exit-codes.js';
import { CommandFailure, type Io, isSystemError, processIo } from './io.js';

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Runs one command, loading only its own modules: loading every command's
 * modules before any began was a large share of a short command's time.
 */
async function run(command: Command, io: Io): Promise<void> {
  switch (command.kind) {
    case 'help':
      return io.stdout(command.text);
    case 'version':
      return io.stdout(`cbpf ${version()}\n`);
    case 'disasm':
      return (await import('./disasm.js')).runDisasm(command, io);
    case 'convert':
      return (await import('./convert.js')).runConvert(command, io);
    case 'info':
      return (await import('./info.js')).runInfo(command, io);
    case 'verify':
      return (await import('./verify.js')).runVerify(command, io);
    case 'emu':
      return (await import('./emu.js')).runEmu(command, io);
    case 'eval': {
      // Worker threads start while eval's code loads; a file that cannot be read is reported by the run.
      const traceBytes = await io.regularFileSize(command.records).catch(() => undefined);
      const workers = (await import('../../eval/pool.js')).earlyPool(command.workers, traceBytes);
      return (await import('./eval.js')).runEval(command, io, workers);
    }
    case 'audit':
      return (await import('./audit.js')).runAudit(command, io);
    case 'explain':
      return (await import('./explain.js')).runExplain(command, io);
    case 'diff':
      return (await import('./diff.js')).runDiff(command, io);
    case 'cost':
      return (await import('./cost.js')).runCost(command, io);
    case 'records':
      return (await import('./records.js')).runRecords(command, io);
    case 'compile':
      return (await import('./compile.js')).runCompile(command, io);
    case 'kernel-check':
      return (await import('./kernel-check.js')).runKernelCheck(command, io);
    case 'ps':
      return (await import('./ps.js')).runPs(command, io);
    case 'dump':
      return (await import('./dump.js')).runDump(command, io);
    case 'fuzz':
      return (await import('./fuzz.js')).runFuzz(command, io);
    case 'bench':
      return (await import('./bench.js')).runBench(command, io);
  }
}

/** Prints a usage error and where to find the help; the exit code for it. */
function usageFailure(error: UsageError, io: Io): ExitCode {
  io.stderr(`cbpf: ${error.message}\nTry 'cbpf ${error.command === undefined ? '' : `${error.command} `}--help'.\n`);
  return ExitCode.Usage;
}

/** Runs `cbpf` with `argv` (the arguments after the program name) and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<ExitCode> {
  if (argv.length === 0) {
    io.stderr(mainHelp()); // no command is a usage error, shown with what the commands are
    return ExitCode.Usage;
  }
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageFailure(error, io);
  }
  try {
    await run(command, io);
    await io.flush();
    return ExitCode.Ok;
  } catch (error) {
    // An option value that only the command could check, such as a syscall name of --arch.
    if (error instanceof UsageError) return usageFailure(error, io);
    // The reader of our output went away (`cbpf eval ... | head`): stop quietly, as `yes | head` does.
    if (isSystemError(error) && error.code === 'EPIPE') return ExitCode.Ok;
    // Writing failed (a full disk, a closed terminal): one line, not a stack trace.
    if (isSystemError(error)) {
      io.stderr(`cbpf: ${error.message}\n`);
      return ExitCode.Failure;
    }
    if (!(error instanceof CommandFailure)) throw error;
    io.stderr(`cbpf: ${error.message}\n`);
    return ExitCode.Failure;
  }
}
