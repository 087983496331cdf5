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
  constructor(readonly code: DecodeErrorCode, message: string) {
    super(message);
  }
}

/** What went wrong in a text input. */
export type ParseErrorCode =
  | 'empty-input'
  | 'unknown-format'
  | 'syntax'
  | 'unknown-mnemonic'
  | 'unknown-name'
  | 'undefined-label'
  | 'duplicate-label'
  | 'backward-jump'
  | 'jump-too-far'
  | 'out-of-range'
  | 'count-mismatch'
  | 'pc-mismatch'
  | 'bad-record';

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
  constructor(readonly code: EncodeErrorCode, message: string, readonly pc?: number) {
    super(message);
  }
}
