/**
 * The short path for library users: load a filter or a stack of them from
 * paths, bytes or text, decide a record written as people write one, and
 * evaluate a trace. The precise functions underneath (readProgram, verify,
 * encodeSeccompData, the engines) stay exported for those who need them.
 */

import { createReadStream } from 'node:fs';
import { interpreterEngine } from '../interp/engines.js';
import type { InputFormat } from '../src/codecs/format-names.js';
import { MAX_FILTER_BYTES, readPrograms } from '../src/codecs/formats.js';
import type { Engine } from '../src/engine.js';
import { InputError } from '../src/errors.js';
import { contextOf, type ProfileContextOptions } from '../src/profile/index.js';
import { archNamed } from '../src/seccomp/arches.js';
import { type RecordFields, recordFromFields } from '../src/seccomp/record-json.js';
import { packRecords } from '../src/seccomp/records.js';
import { type VerifiedProgram, verify, verifyStack } from '../src/verifier.js';
import { decideTrace, evaluate } from './evaluate.js';
import type { EvalOptions, EvalReport, TraceSource } from './options.js';
import { actionOf } from './summary.js';

/** Where a filter comes from: a path, its bytes (any format cbpf reads, detected), or its text. */
export type FilterSource = string | Uint8Array | { readonly text: string };

/** Options of loadStack(). */
export interface LoadOptions {
  /** The filters' format; detected from each one's bytes when absent. */
  readonly format?: InputFormat;
  /** The arch of syscall names in filters that check none (default 'x86_64'). */
  readonly arch?: string;
  /**
   * The container a seccomp profile is compiled for: engine (docker), runtime
   * (runc), caps (the engine's), capAdd, capDrop, hostArch (x86_64), kernel
   * (the running one's), as `cbpf --help` describes them.
   */
  readonly profile?: ProfileContextOptions;
}

/** A stack's decision on one record: its value, and the value in words (`ALLOW`, `ERRNO(1)`; hex for a value that is no action). */
export interface Decision {
  readonly value: number;
  readonly action: string;
}

/** The first MAX_FILTER_BYTES + 1 bytes of `path`: enough to tell a file too large for any filter, without reading an endless one. */
async function readFilterFile(path: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of createReadStream(path, { end: MAX_FILTER_BYTES })) {
    chunks.push(chunk as Buffer);
    length += chunk.length;
  }
  if (length > MAX_FILTER_BYTES) throw new InputError('filter-size', `${path}: larger than ${MAX_FILTER_BYTES >> 20} MiB, which no filter needs`);
  return Buffer.concat(chunks);
}

/** A verified stack of filters (installation order, oldest first), ready to decide records and traces. */
export class Stack {
  private engine: Engine | undefined;

  constructor(readonly filters: readonly VerifiedProgram[]) {
    verifyStack(filters);
  }

  /**
   * The stack's decision on `record`, given as JSON lines give one: `arch` a
   * name or number (default 'x86_64'), `nr` a syscall name or number, `ip` and
   * up to six `args` as numbers, bigints or decimal/0x strings, missing ones 0.
   * @throws InputError `record-fields` for a field that is not one of these.
   */
  decide(record: RecordFields): Decision {
    this.engine ??= interpreterEngine(this.filters);
    const value = this.engine.decide(packRecords([recordFromFields(record)]))[0]!;
    return { value, action: actionOf(value) };
  }

  /** Decides every record of `source` (see evaluate()), streamed: any size. */
  evaluate(source: TraceSource, options?: EvalOptions): Promise<EvalReport> {
    return evaluate(this.filters, source, options);
  }

  /** Every decision of `source` in one array: for traces that fit in memory. */
  decideTrace(source: TraceSource, options?: Omit<EvalOptions, 'values'>): Promise<Uint32Array> {
    return decideTrace(this.filters, source, options);
  }
}

/**
 * Loads, decodes and verifies a filter, or a stack of them (oldest first),
 * as the kernel would accept them.
 * @throws ParseError, DecodeError or VerifyError for a filter cbpf cannot read
 * or the kernel would refuse; a Node error for a path that cannot be read.
 */
export async function loadStack(sources: FilterSource | readonly FilterSource[], options: LoadOptions = {}): Promise<Stack> {
  const list: readonly FilterSource[] = Array.isArray(sources) ? sources : [sources as FilterSource];
  if (list.length === 0) throw new InputError('empty-stack', 'loadStack needs at least one filter');
  const arch = archNamed(options.arch ?? 'x86_64');
  const profile = contextOf(options.profile);
  const filters: VerifiedProgram[] = [];
  for (const source of list) {
    const bytes = typeof source === 'string' ? await readFilterFile(source) : source instanceof Uint8Array ? source : new TextEncoder().encode(source.text);
    for (const program of readPrograms(bytes, options.format, { arch, profile }).programs) filters.push(verify(program));
  }
  return new Stack(filters);
}
