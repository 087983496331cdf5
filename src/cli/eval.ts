/**
 * `cbpf eval`: every record of a trace through a stack of filters, streamed:
 * records are read, decided and written a batch at a time, so memory stays
 * bounded whatever the size of the trace.
 */
import { interpretBatch } from '../../interp/stack.js';
import type { RecordBatch } from '../seccomp/records.js';
import type { VerifiedProgram } from '../verifier.js';
import type { Command } from './args.js';
import { binaryDecisions, decisionLines, Summary } from './eval-batch.js';
import { EvalPool } from './eval-pool.js';
import type { WorkerResult } from './eval-worker.js';
import { describeInputError, loadFilters, type Io, type Writer } from './io.js';
import { recordBatches, type SkippedRecords } from './record-stream.js';


/**
 * How batches get decided: in this thread (`decide`), or by a pool of worker
 * threads that share the modules compiled here (binaryen loads only for the JIT).
 */
async function prepare(
  filters: readonly VerifiedProgram[],
  command: Extract<Command, { kind: 'eval' }>,
  wantLines: boolean,
  wantBinary: boolean,
): Promise<{ decide: (batch: RecordBatch) => Uint32Array; pool?: EvalPool }> {
  const interpret = (batch: RecordBatch) => interpretBatch(filters, batch);
  if (command.engine === 'interp' && command.workers === 0) return { decide: interpret };
  const jit = command.engine === 'jit' ? await import('../../jit/compiled.js') : undefined;
  if (command.workers === 0) {
    jit!.compile(filters, { byteOrder: command.recordByteOrder }); // the likely byte order now; others when met
    return { decide: (batch) => jit!.decideRecords(filters, batch) };
  }
  const modules = jit ? { le: jit.compile(filters, { byteOrder: 'le' }).module, be: jit.compile(filters, { byteOrder: 'be' }).module } : {};
  const pool = new EvalPool(command.workers, {
    engine: command.engine,
    filters: filters.map((f) => [...f.instructions]),
    modules,
    format: wantLines ? command.format : undefined,
    binary: wantBinary,
    summary: command.summary,
  });
  return { decide: interpret, pool };
}

export async function runEval(command: Extract<Command, { kind: 'eval' }>, io: Io): Promise<void> {
  const filters = await loadFilters(io, command.inputs, command.inputFormat, command.arch);
  const wantLines = command.output !== undefined || (!command.summary && command.out === undefined);
  const writers: Writer[] = [];
  const open = (path: string | undefined): Writer => {
    const writer = io.openWriter(path);
    writers.push(writer);
    return writer;
  };
  const lines = wantLines ? open(command.output) : undefined;
  const binary = command.out === undefined ? undefined : open(command.out);
  const summary = command.summary ? new Summary() : undefined;
  const skipped: SkippedRecords | undefined = command.skipBad ? { count: 0 } : undefined;
  /** Writes one batch's results, in input order. */
  const take = async (result: Omit<WorkerResult, 'id'>): Promise<void> => {
    if (lines && result.lines !== undefined) await lines.write(result.lines);
    if (binary && result.binary) await binary.write(result.binary);
    if (summary && result.summary) summary.merge(result.summary);
  };
  const started = performance.now();
  const { decide, pool } = await prepare(filters, command, wantLines, binary !== undefined);
  const ready = (performance.now() - started) / 1000;
  const deciding = performance.now();
  let total = 0;
  let lastProgress = performance.now();
  let failure: unknown;
  try {
    for await (const batch of recordBatches(io.readStream(command.records), command.recordFormat, command.recordByteOrder, skipped)) {
      if (pool) {
        for (const result of await pool.submit(batch, total)) await take(result);
      } else {
        const values = decide(batch);
        summary?.add(values, batch);
        await take({
          count: batch.count,
          ...(lines ? { lines: decisionLines(values, batch, command.format, total) } : {}),
          ...(binary ? { binary: binaryDecisions(values) } : {}),
        });
      }
      total += batch.count;
      if (io.stderrIsTTY && performance.now() - lastProgress > 500) {
        lastProgress = performance.now();
        io.stderr(`\r${total} records, ${(total / ((performance.now() - deciding) / 1000) / 1e6).toFixed(2)} M records/s   `);
      }
    }
  } catch (error) {
    failure = error; // reported below, once everything decided before it is written
  }
  try {
    // Batches still with the workers were decided before any failure: write them too. drain() also stops the workers.
    for (const result of (await pool?.drain()) ?? []) await take(result);
  } finally {
    for (const writer of writers) await writer.close();
    if (io.stderrIsTTY && total > 0) io.stderr('\n');
  }
  if (failure !== undefined) throw describeInputError(command.records, failure);
  const seconds = (performance.now() - deciding) / 1000;
  if (summary) io.stdout(command.format === 'json' ? `${JSON.stringify(summary.result())}\n` : summary.format());
  if (skipped && skipped.count > 0) io.stderr(`cbpf: skipped ${skipped.count} bad record${skipped.count === 1 ? '' : 's'} (the first: ${skipped.first})\n`);
  if (command.timing) {
    const how = command.workers > 0 ? ` on ${command.workers} worker${command.workers === 1 ? '' : 's'}` : '';
    const prepared = command.engine === 'jit' ? `loaded Binaryen and compiled in ${ready.toFixed(3)} s, ` : '';
    io.stderr(`${command.engine}${how}: ${prepared}decided ${total} records in ${seconds.toFixed(3)} s (${(total / seconds / 1e6).toFixed(2)} M records/s, reading and writing included)\n`);
  }
}
