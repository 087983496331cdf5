/** `cbpf verify`: the kernel's accept/reject for each filter, with the rule, pc and errno. */
import { VerifyError, verify, verifyStack, type VerifiedProgram } from '../verifier.js';
import type { Command } from './args.js';
import { CommandFailure, displayName, type Io } from './io.js';
import { loadProgram } from './load.js';

interface Verdict {
  readonly file: string;
  readonly valid: boolean;
  readonly errno: string | null;
  readonly code: string | null;
  readonly pc: number | null;
  readonly message: string;
}

function verdictOf(file: string, check: () => unknown): Verdict {
  try {
    check();
    return { file, valid: true, errno: null, code: null, pc: null, message: 'ok' };
  } catch (error) {
    if (!(error instanceof VerifyError)) throw error;
    return { file, valid: false, errno: error.errno, code: error.code, pc: error.pc ?? null, message: error.message };
  }
}

export async function runVerify(command: Extract<Command, { kind: 'verify' }>, io: Io): Promise<void> {
  const verdicts: Verdict[] = [];
  const accepted: VerifiedProgram[] = [];
  for (const path of command.inputs) {
    const { program } = await loadProgram(io, path, command.inputFormat, command.arch);
    verdicts.push(verdictOf(path, () => accepted.push(verify(program))));
  }
  if (command.stack && accepted.length === command.inputs.length) {
    verdicts.push(verdictOf(`stack of ${command.inputs.length}`, () => verifyStack(accepted)));
  }
  for (const v of verdicts) {
    io.stdout(command.json ? `${JSON.stringify(v)}\n` : `${displayName(v.file)}: ${v.message}\n`);
  }
  const rejected = verdicts.filter((v) => !v.valid).length;
  if (rejected > 0) throw new CommandFailure(`${rejected} of ${verdicts.length} rejected`);
}
