/**
 * One error class per stage. Each carries a string-literal `code` that tests and
 * scripts match on (never the message text) and, where it applies, the pc or the
 * line and column of the offending input.
 */

/** Base of every error cbpf throws on purpose; anything else is a bug. */
export abstract class CbpfError extends Error {
  abstract readonly code: string;
}

/** Binary input (raw `sock_filter` bytes) that is not a whole program. */
export type DecodeErrorCode = 'empty-input' | 'raw-length' | 'record-length';

/** A binary input could not be decoded. */
export class DecodeError extends CbpfError {
  override readonly name = 'DecodeError';
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What went wrong in a text input. */
export type ParseErrorCode =
  | 'empty-input'
  | 'unknown-format'
  | 'syntax'
  | 'line-ending'
  | 'unknown-mnemonic'
  | 'unknown-name'
  | 'undefined-label'
  | 'duplicate-label'
  | 'backward-jump'
  | 'jump-too-far'
  | 'out-of-range'
  | 'count-mismatch'
  | 'pc-mismatch'
  | 'bad-record'
  | 'stack-size'
  /** A seccomp profile's value that no runtime accepts; the detail starts with its JSON path. */
  | 'profile';

/** A text input could not be parsed; `line` and `column` are 1-based (0 when not known). */
export class ParseError extends CbpfError {
  override readonly name = 'ParseError';
  constructor(
    readonly code: ParseErrorCode,
    readonly detail: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(line > 0 ? `${line}${column > 0 ? `:${column}` : ''}: ${detail}` : detail);
  }

  /** `line:column`, `line`, or '' when the position is not known. */
  get location(): string {
    return this.line > 0 ? `${this.line}${this.column > 0 ? `:${this.column}` : ''}` : '';
  }
}

/** A program that cannot be written in the requested form. */
export type EncodeErrorCode = 'out-of-range' | 'too-long';

/** A program could not be encoded without losing information. */
export class EncodeError extends CbpfError {
  override readonly name = 'EncodeError';
  constructor(
    readonly code: EncodeErrorCode,
    message: string,
    readonly pc?: number,
  ) {
    super(message);
  }
}

/** Which rule a value passed to a library function broke. */
export type InputErrorCode =
  /** A `seccomp_data` record that is not exactly 64 bytes. */
  | 'record-size'
  /** Batch bytes that are not a whole number of 64-byte records. */
  | 'batch-size'
  /** A batch's `count` that is not a non-negative integer, or disagrees with its bytes or its byte orders. */
  | 'batch-count'
  /** A record index outside its batch. */
  | 'record-index'
  /** An offset with no whole 64-byte record at it. */
  | 'record-offset'
  /** A byte order other than 'le' or 'be'. */
  | 'byte-order'
  /** A `seccomp_data` field that is not an integer of its width (nr s32 or u32, arch u32, ip and args u64 bigints). */
  | 'field-range'
  /** More than six syscall arguments. */
  | 'arg-count'
  /** An arch name cbpf does not know (see ARCHES). */
  | 'unknown-name'
  /** A record's fields as people write one (RecordFields) that do not make a record: the message says which and why. */
  | 'record-fields'
  /** A filter file larger than MAX_FILTER_BYTES. */
  | 'filter-size'
  /** A stack of no filters. */
  | 'empty-stack'
  /** A filter index outside the stack. */
  | 'filter-index'
  /** A resume point whose pc is outside the program or whose M is not 16 words. */
  | 'resume-point'
  /** A record slot count that is not a non-negative integer, or more than the slots handed out. */
  | 'slot-count'
  /** An output array too short for the batch's decisions. */
  | 'output-size';

/**
 * A library function was called with a value it does not accept: a record
 * that is not 64 bytes, a batch whose count disagrees with its bytes, an
 * unknown byte order. Checked before any work, so nothing is decided from
 * bytes the caller did not pass.
 */
export class InputError extends CbpfError {
  override readonly name = 'InputError';
  constructor(
    readonly code: InputErrorCode,
    message: string,
  ) {
    super(message);
  }
}
