/**
 * What evaluate() takes and gives: its sources, sinks, options and report.
 * Values and types only, so that the CLI's argument parser can import them
 * without loading the evaluator.
 */
import type { ByteOrder } from '../src/seccomp/arches.js';
import type { EvalPool } from './pool.js';
import type { SummaryResult } from './summary.js';

/** The engines a run can ask for: `auto` (the decision tables, then the JIT once it pays), the interpreter alone, or the JIT from the start. */
export const EVAL_ENGINES = ['auto', 'interp', 'jit'] as const;
/** One of EVAL_ENGINES. */
export type EvalEngine = (typeof EVAL_ENGINES)[number];
/** How each decision is written as a line: its value in hex, its action in words, or a JSON object. */
export const DECISION_FORMATS = ['hex', 'action', 'json'] as const;
/** One of DECISION_FORMATS. */
export type DecisionFormat = (typeof DECISION_FORMATS)[number];
/** Trace formats: 64-byte binary records, JSON lines, or an strace log (`strace -f -e raw=all`). */
export const RECORD_FORMATS = ['bin', 'jsonl', 'strace'] as const;
/** One of RECORD_FORMATS. */
export type RecordFormat = (typeof RECORD_FORMATS)[number];

/** Records each engine decided in the calling thread. */
export interface TierCounts {
  readonly interpreted: number;
  readonly tabled: number;
  readonly jitted: number;
}

/**
 * Where the records come from: a path (a regular file is read in ranges, by
 * worker threads too; anything else is streamed), or the bytes of a trace as
 * an async iterable (a Node readable stream is one).
 */
export type TraceSource = string | AsyncIterable<Uint8Array>;

/** Where decisions go: bytes written in order, and waited for (backpressure). */
export interface DecisionSink {
  write(bytes: Uint8Array): void | Promise<void>;
}

/** Options of evaluate(); every one has a default. */
export interface EvalOptions {
  /** The trace's format; detected from its first bytes when absent. */
  readonly format?: RecordFormat;
  /** The byte order of binary records (default 'le'). */
  readonly byteOrder?: ByteOrder;
  /** The arch of JSON lines that name none (default 'x86_64'). */
  readonly arch?: string;
  /** Which engine decides (default 'auto': the decision tables, then the JIT once it pays). */
  readonly engine?: EvalEngine;
  /** Threads deciding: this one and `workers - 1` worker threads; default: as many as pay, up to one per core. */
  readonly workers?: number;
  /** Skip records that cannot be read (counted in the report) instead of failing at the first. */
  readonly skipBad?: boolean;
  /** Count the decisions (EvalReport.summary). */
  readonly summary?: boolean;
  /** A line of text per record, in `format` ('text' or 'json'). */
  readonly lines?: { readonly format: DecisionFormat; readonly sink: DecisionSink };
  /** Each record's value as a little-endian u32. */
  readonly values?: DecisionSink;
  /** Called after each piece of work: records decided so far, bytes of the source read, and its size when known. */
  readonly onProgress?: (records: number, bytesRead: number, totalBytes: number | undefined) => void;
  /** Worker threads started before the run, used instead of starting them during it; evaluate() stops them. */
  readonly pool?: EvalPool;
}

/** What a run did. */
export interface EvalReport {
  /** Records decided. */
  readonly records: number;
  /** The decisions counted, with `summary: true`. */
  readonly summary?: SummaryResult;
  /** Records skipped as unreadable (with `skipBad`), and where the first was. */
  readonly skipped: { readonly count: number; readonly first?: string };
  /** Lines of an strace log that were not syscalls (signals, exits, strace's notes). */
  readonly notSyscalls: number;
  /** Which engine decided how much, where, and when. */
  readonly timing: EvalTiming;
}

/** Where a run's records were decided, and when the JIT came. */
export interface EvalTiming extends TierCounts {
  readonly engine: EvalEngine;
  /** Seconds from the start. */
  readonly seconds: number;
  /** Where the JIT's modules came from: the on-disk cache, a compile in this run, a compile stopped, or none. */
  readonly jit: 'cached' | 'compiled' | 'stopped' | 'not-compiled' | 'not-used';
  /** Seconds from the start to the compile's start and end, when there was one. */
  readonly compileStarted?: number;
  readonly compiled?: number;
  /** Records decided on worker threads, how many there were, and seconds from the start until the first was up. */
  readonly workerRecords: number;
  readonly workerThreads: number;
  readonly workersUp?: number;
  /** Records the workers read from lines of text. */
  readonly recordsReadFromLines: number;
}
