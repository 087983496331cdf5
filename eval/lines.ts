/**
 * The text lines of `cbpf eval`'s decisions (`--format hex|action|json`),
 * made as bytes. A trace's decisions take few values and its records few
 * syscalls, so the text of each is encoded once per piece of work and copied
 * into the output for every record that has it; only a JSON line's record
 * number is written afresh. Made as a string a line at a time (JSON.stringify
 * of each record's object), a line cost several times more, most of it in
 * making and collecting strings (docs/benchmarks.md).
 */
import { formatAction, hexValue } from '../src/seccomp/actions.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import type { RecordBatch } from '../src/seccomp/records.js';
import type { OutputMaker, WantedOutput } from './batch.js';
import type { DecisionFormat } from './options.js';
import { actionOf, syscallNames } from './summary.js';

const encoder = new TextEncoder();

/** `make(key)`, made once per key and looked up after that. */
function memoized<K, V>(make: (key: K) => V): (key: K) => V {
  const made = new Map<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}

/** Texts up to this many bytes are copied byte by byte (Utf8Output.put). */
const SHORT_TEXT = 16;
/** The digits of a safe integer, at most. */
const MAX_DIGITS = 16;
const ZERO = 0x30;

/** UTF-8 text written into a byte buffer that grows as it fills. */
class Utf8Output {
  private bytes: Uint8Array;
  private length = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(64, capacity));
  }

  /** Makes room for `count` more bytes. */
  reserve(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + count));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /**
   * Appends `text` (room reserved). A short text is copied in a loop, a
   * longer one with set(): for a few bytes the call costs more than it copies,
   * for longer texts it is the faster (docs/benchmarks.md).
   */
  put(text: Uint8Array): void {
    const { bytes } = this;
    let at = this.length;
    if (text.length > SHORT_TEXT) {
      bytes.set(text, at);
      at += text.length;
    } else for (let i = 0; i < text.length; i++) bytes[at++] = text[i]!;
    this.length = at;
  }

  /** Appends the decimal digits of a non-negative safe integer (room for MAX_DIGITS reserved). */
  putDecimal(n: number): void {
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    const { bytes } = this;
    let at = this.length + digits;
    this.length = at;
    do {
      bytes[--at] = ZERO + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }

  /** The text written. */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

const JSON_START = encoder.encode('{"record":');
const EMPTY = new Uint8Array();
/** Bytes a line takes, about, to start a piece of work's output with room for all of them. */
const LINE_BYTES: Record<DecisionFormat, number> = { hex: 11, action: 8, json: 100 };

/** The lines of a piece of work's decisions in one format, added a batch at a time. */
export class DecisionLines {
  private readonly out: Utf8Output;
  /** A decision's hex or action line; a decision's JSON fields after the record number. */
  private readonly decision: (value: number) => Uint8Array;
  /** A JSON line's fields after the decision's, by arch and nr. */
  private readonly syscallsOfArch = memoized((arch: number) => memoized((nr: number) => encoder.encode(`,${jsonFields(syscallNames(arch, nr))}}\n`)));

  constructor(
    private readonly format: DecisionFormat,
    records: number,
  ) {
    this.out = new Utf8Output(records * LINE_BYTES[format]);
    this.decision = memoized((value: number) => {
      if (format === 'json') return encoder.encode(`,${jsonFields({ value: hexValue(value), action: formatAction(value) ?? null })}`);
      return encoder.encode(`${format === 'hex' ? hexValue(value) : actionOf(value)}\n`);
    });
  }

  /**
   * Adds the lines of `values`, the decisions of `batch`, whose first record
   * is record `first` of the trace. The text of the record before is reused
   * without a lookup when it is the same (most often, it is): a decision
   * value or an arch above 2^30 is a boxed number in V8, which a Map lookup
   * allocates: a lookup per line about doubled an action line's cost
   * (docs/benchmarks.md).
   */
  add(values: Uint32Array, batch: RecordBatch, first: number): void {
    const { out } = this;
    let lastValue = -1; // no decision value, nor arch, is -1: both are unsigned
    let decision: Uint8Array = EMPTY;
    if (this.format !== 'json') {
      for (let i = 0; i < values.length; i++) {
        if (values[i] !== lastValue) {
          lastValue = values[i]!;
          decision = this.decision(lastValue);
        }
        out.reserve(decision.length);
        out.put(decision);
      }
      return;
    }
    // {"record":N,"value":"0x…","action":…,"arch":…,"nr":…}: N, then the decision's fields, then the syscall's.
    const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    let lastArch = -1;
    let syscallOfArch = this.syscallsOfArch(lastArch); // replaced at the first record
    for (let i = 0; i < values.length; i++) {
      const at = i * SECCOMP_DATA_SIZE;
      const le = !batch.bigEndian[i];
      if (values[i] !== lastValue) {
        lastValue = values[i]!;
        decision = this.decision(lastValue);
      }
      const arch = view.getUint32(at + SECCOMP_DATA_ARCH, le);
      if (arch !== lastArch) {
        lastArch = arch;
        syscallOfArch = this.syscallsOfArch(lastArch);
      }
      const syscall = syscallOfArch(view.getInt32(at + SECCOMP_DATA_NR, le));
      out.reserve(JSON_START.length + MAX_DIGITS + decision.length + syscall.length);
      out.put(JSON_START);
      out.putDecimal(first + i);
      out.put(decision);
      out.put(syscall);
    }
  }

  /** The lines added, as UTF-8. */
  text(): Uint8Array {
    return this.out.written();
  }
}

/** An object's JSON without its braces: its fields, to write among others. */
const jsonFields = (fields: object): string => JSON.stringify(fields).slice(1, -1);

/** How a thread makes the `wanted` output: lines with DecisionLines, values as they are. */
export function outputMaker(wanted: WantedOutput): OutputMaker {
  const { format } = wanted;
  return { binary: wanted.binary, ...(format ? { lines: (count: number) => new DecisionLines(format, count) } : {}) };
}
