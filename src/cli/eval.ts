/**
 * `cbpf eval`: the command line's adapter to the trace evaluator (eval/):
 * its arguments become options, its outputs writers, and the report text.
 */

import type { EvalReport, EvalTiming } from '../../eval/options.js';
import type { EvalPool } from '../../eval/pool.js';
import type { Command } from './args.js';
import { CommandFailure, describeInputError, type Io, type Writer } from './io.js';
import { loadFilters, traceSource } from './load.js';
import { Progress } from './progress.js';

type EvalCommand = Extract<Command, { kind: 'eval' }>;

/**
 * Runs `cbpf eval`, with `pool`'s worker threads beside the main thread if
 * given (started early: eval/pool.ts earlyPool), and stops them in any case.
 */
export async function runEval(command: EvalCommand, io: Io, pool?: EvalPool): Promise<void> {
  try {
    await evalCommand(command, io, pool);
  } finally {
    pool?.stop();
  }
}

async function evalCommand(command: EvalCommand, io: Io, pool: EvalPool | undefined): Promise<void> {
  const filters = await loadFilters(io, command.inputs, command);
  const [{ evaluate }, { formatSummary }] = await Promise.all([import('../../eval/evaluate.js'), import('../../eval/summary.js')]);
  const wantLines = command.output !== undefined || (!command.summary && command.out === undefined);
  if (command.out === '-' && io.stdoutIsTTY) throw new CommandFailure('refusing to write binary output to a terminal: use --out FILE or a pipe');
  const writers: Writer[] = [];
  const open = (path: string | undefined): Writer => {
    const writer = io.openWriter(path);
    writers.push(writer);
    return writer;
  };
  const lines = wantLines ? open(command.output) : undefined;
  const values = command.out === undefined ? undefined : open(command.out);
  let progress: Progress | undefined;
  let report: EvalReport | undefined;
  let failure: unknown;
  try {
    const source = await traceSource(io, command.records);
    report = await evaluate(filters, source, {
      format: command.recordFormat,
      byteOrder: command.recordByteOrder,
      arch: command.arch.name,
      engine: command.engine,
      ...(command.workers === undefined ? {} : { workers: command.workers }),
      skipBad: command.skipBad,
      summary: command.summary,
      ...(lines ? { lines: { format: command.format, sink: lines } } : {}),
      ...(values ? { values } : {}),
      onProgress: (records, bytesRead, totalBytes) => {
        progress ??= new Progress(io, totalBytes);
        progress.update(records, bytesRead);
      },
      ...(pool ? { pool } : {}),
    });
  } catch (error) {
    failure = error; // reported below, once every output is closed
  }
  progress?.finish();
  // Every writer is closed, even when one output failed; an output that failed is reported first, as what was lost.
  const closed = await Promise.allSettled(writers.map((writer) => writer.close()));
  const refused = closed.find((outcome) => outcome.status === 'rejected');
  if (refused) throw refused.reason;
  if (failure !== undefined) throw describeInputError(command.records, failure);
  if (!report) return;
  if (report.summary) io.stdout(command.format === 'json' ? `${JSON.stringify(report.summary)}\n` : formatSummary(report.summary));
  const { notSyscalls, skipped } = report;
  if (notSyscalls > 0) io.stderr(`cbpf: ${notSyscalls} line${notSyscalls === 1 ? ' was' : 's were'} not syscalls (signals, exits, strace's notes)\n`);
  if (skipped.count > 0) io.stderr(`cbpf: skipped ${skipped.count} bad record${skipped.count === 1 ? '' : 's'} (the first: ${skipped.first})\n`);
  if (command.timing) io.stderr(`${timingLine(report.timing, report.records)}\n`);
}

/** What `--timing` prints: which engine decided how much, where, and how fast. */
function timingLine(timing: EvalTiming, total: number): string {
  const parts: string[] = [];
  const at = (seconds: number) => seconds.toFixed(3);
  if (timing.jit === 'not-used') parts.push('JIT not used');
  else if (timing.jit === 'cached') parts.push('JIT loaded from the on-disk cache');
  else if (timing.jit === 'not-compiled') parts.push('JIT not compiled (the trace was too short for it to pay)');
  else if (timing.jit === 'stopped') parts.push('JIT compile stopped (the trace ended first)');
  else parts.push(`JIT compiled in the background in ${at(timing.compiled! - timing.compileStarted!)} s, ${at(timing.compileStarted!)} s in`);
  if (timing.workerThreads > 0) {
    const { workerRecords, workersUp } = timing;
    const up =
      workersUp === undefined || workerRecords === 0
        ? ''
        : ` (${(workerRecords / (timing.seconds - workersUp) / 1e6).toFixed(2)} M records/s from when the first was up, ${at(workersUp)} s in)`;
    parts.push(`${workerRecords} records on ${timing.workerThreads} worker thread${timing.workerThreads === 1 ? '' : 's'}${up}`);
    if (timing.recordsReadFromLines > 0) parts.push(`${timing.recordsReadFromLines} records read from lines of text there`);
  }
  const tabled = timing.engine === 'interp' ? '' : `${timing.tabled} by the decision tables (and the interpreter where they could not say), `;
  parts.push(`${timing.interpreted} interpreted, ${tabled}${timing.jitted} by the JIT in the main thread`);
  let line = `${timing.engine}: ${parts.join('; ')}; ${total} records in ${at(timing.seconds)} s (${(total / timing.seconds / 1e6).toFixed(2)} M records/s, reading and writing included)`;
  const jitReady = timing.jit === 'cached' ? 0 : timing.compiled;
  if (timing.engine === 'jit' && jitReady !== undefined) {
    const deciding = timing.seconds - jitReady;
    line += `, ${at(deciding)} s after the compile (${(total / deciding / 1e6).toFixed(2)} M records/s)`;
  }
  return line;
}
