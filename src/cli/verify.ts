/**
 * `cbpf verify`: the kernel's accept/reject for each filter, with the rule, pc
 * and errno. Every file gets its verdict: one that cannot be loaded is one
 * rejected line, and the others are still verified.
 */
import type { Instruction } from '../instruction.js';
import { type VerifiedProgram, type VerifyErrno, VerifyError, verify, verifyStack } from '../verifier.js';
import type { Command } from './args.js';
import { CommandFailure, displayName, type Io } from './io.js';
import { loadProgram, ProgramLoadFailure } from './load.js';

/** One object of `--json`. */
interface Verdict {
  readonly file: string;
  readonly valid: boolean;
  readonly errno: string | null;
  /** The verifier's rule, or why the file could not be loaded (ProgramLoadFailure's code). */
  readonly code: string | null;
  readonly pc: number | null;
  readonly message: string;
}

/** A verdict and its line of text output. */
interface Report {
  readonly verdict: Verdict;
  readonly line: string;
}

const report = (verdict: Verdict): Report => ({ verdict, line: `${displayName(verdict.file)}: ${verdict.message}` });

function verifyReport(file: string, check: () => unknown): Report {
  try {
    check();
    return report({ file, valid: true, errno: null, code: null, pc: null, message: 'ok' });
  } catch (error) {
    if (!(error instanceof VerifyError)) throw error;
    return report({ file, valid: false, errno: error.errno, code: error.code, pc: error.pc ?? null, message: error.message });
  }
}

/**
 * Load failures that are the kernel's own answer too: a file of no
 * instructions is a program of length 0, which seccomp() refuses with EINVAL.
 * Any other file that cannot be read or decoded never reaches the kernel, so
 * there is no errno to claim for it: its errno is null and its code says why.
 */
const LOAD_ERRNO: Readonly<Record<string, VerifyErrno>> = { 'empty-input': 'EINVAL' };

function loadFailureReport(file: string, failure: ProgramLoadFailure): Report {
  const errno = LOAD_ERRNO[failure.code] ?? null;
  const suffix = errno === null ? '' : ` [${errno}]`;
  return {
    verdict: { file, valid: false, errno, code: failure.code, pc: null, message: failure.detail + suffix },
    line: failure.message + suffix, // `file:line:col: detail` for a parse error, as other commands print it
  };
}

/** Verifies every file named (and, with --stack, the stack of them) and prints a verdict for each; throws `N of M rejected`. */
export async function runVerify(command: Extract<Command, { kind: 'verify' }>, io: Io): Promise<void> {
  const reports: Report[] = [];
  const accepted: VerifiedProgram[] = [];
  for (const path of command.inputs) {
    let program: Instruction[];
    try {
      ({ program } = await loadProgram(io, path, command));
    } catch (error) {
      if (!(error instanceof ProgramLoadFailure)) throw error;
      reports.push(loadFailureReport(path, error));
      continue;
    }
    reports.push(verifyReport(path, () => accepted.push(verify(program))));
  }
  if (command.stack && accepted.length === command.inputs.length) {
    reports.push(verifyReport(`stack of ${command.inputs.length}`, () => verifyStack(accepted)));
  }
  for (const { verdict, line } of reports) io.stdout(command.json ? `${JSON.stringify(verdict)}\n` : `${line}\n`);
  const rejected = reports.filter((r) => !r.verdict.valid).length;
  if (rejected > 0) throw new CommandFailure(`${rejected} of ${reports.length} rejected`);
}
