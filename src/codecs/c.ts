/**
 * C sources: tcpdump's `-dd` array lines (`{ 0x20, 0, 0, 0x00000004 },`) and
 * the `BPF_STMT(code, k)` / `BPF_JUMP(code, k, jt, jf)` macro form, optionally
 * inside one declaration (`struct sock_filter filter[] = { ... };`).
 *
 * Fields are C constant expressions over numbers, `| & ^ + - * << >> ~` and
 * parentheses, the kernel's names (`BPF_LD`, `SECCOMP_RET_ERRNO`, `EPERM`,
 * `AUDIT_ARCH_X86_64`), `offsetof(struct seccomp_data, args[1])`, and syscall
 * numbers as `__NR_read` or `SYS_read` for the arch checked on the way there.
 * Preprocessor lines and comments are skipped; text after the array is ignored.
 * Lines end with "\n" or "\r\n"; a lone "\r", U+2028 and U+2029 are whitespace
 * (see text.ts). Arithmetic is unsigned 32-bit and never wraps (see apply).
 */
import { ParseError } from '../errors.js';
import { checkFields, type Instruction, type Program } from '../instruction.js';
import { type Arch, archByName } from '../seccomp/arches.js';
import { fieldOffset } from '../seccomp/data.js';
import { type ArchDependent, constantValue, resolveArchDependent, syscallResolver } from './names.js';
import { checkCommentLine, checkRange, errorAt, excerpt, isNumberLiteral, numberValue, quoted } from './text.js';

interface Token {
  readonly text: string;
  readonly offset: number;
}

/**
 * One step of an expression, in postfix order: push a number, push a
 * syscall's number on the arch in force, or apply an operator to the values
 * on top. Evaluated with a stack, not by recursion, so that no length of
 * expression can overflow the call stack.
 */
type Step =
  | { readonly kind: 'number'; readonly value: bigint; readonly offset: number }
  | { readonly kind: 'syscall'; readonly resolve: (arch: Arch) => number; readonly offset: number }
  | { readonly kind: 'unary' | 'binary'; readonly op: string; readonly offset: number };

/** A parsed expression: its steps, whether its value depends on the arch, and where it starts. */
interface Expr {
  readonly steps: readonly Step[];
  readonly usesArch: boolean;
  readonly offset: number;
}

const TOKEN = /\s+|\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|#[^\n]*|0x[0-9a-f]+[ul]*|[0-9]+[ul]*|[A-Za-z_][A-Za-z0-9_]*|<<|>>|./gi;
const BINARY_LEVELS: ReadonlyArray<ReadonlyArray<string>> = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*']];
const U32 = 0xffffffffn;
/** Parentheses nested deeper than this are refused: each level is a few frames of the recursive descent. */
const MAX_NESTING = 256;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const t = m[0];
    if (t.startsWith('/*') && (t.length < 4 || !t.endsWith('*/'))) throw errorAt(text, m.index, 'syntax', 'unterminated /* comment');
    if (t.startsWith('//') || t.startsWith('#')) checkCommentLine(text, t, m.index);
    if (/^\s/.test(t) || t.startsWith('//') || t.startsWith('/*') || t.startsWith('#')) continue;
    tokens.push({ text: t, offset: m.index });
  }
  return tokens;
}

/** A constant in messages: decimal below 0x10000, hex above (as the disassembler writes them). */
const shown = (v: bigint): string => (v < 0x10000n ? String(v) : `0x${v.toString(16)}`);

/**
 * The C reader's arithmetic: unsigned 32-bit values as in C, except that
 * where C would wrap or drop bits silently, the expression is refused. Every
 * literal and every result lies in 0..0xffffffff: `a - b` with b > a, `-a`
 * with a > 0, a carry out of `+` or `*`, and bits shifted out by `<<` are
 * errors, and so are shifts by 32 or more (undefined in C). `~a` is the
 * 32-bit complement. Returns the value, or the reason it has none.
 */
function apply(op: string, l: bigint, r: bigint): bigint | string {
  let value: bigint;
  switch (op) {
    case '|':
      return l | r;
    case '^':
      return l ^ r;
    case '&':
      return l & r;
    case '<<':
    case '>>':
      if (r > 31n) return `${shown(l)} ${op} ${shown(r)}: a 32-bit value shifts by 0..31`;
      if (op === '>>') return l >> r;
      value = l << r;
      break;
    case '+':
      value = l + r;
      break;
    case '-':
      if (r > l) return `${shown(l)} - ${shown(r)} is negative: values are unsigned 32-bit and never wrap`;
      return l - r;
    default:
      value = l * r;
  }
  return value > U32 ? `${shown(l)} ${op} ${shown(r)} = ${shown(value)} does not fit in 32 bits` : value;
}

/** A unary operator's result, or the reason it has none (see apply). */
function applyUnary(op: string, v: bigint): bigint | string {
  if (op === '~') return U32 ^ v;
  if (op === '-' && v !== 0n) return `-${shown(v)} is negative: values are unsigned 32-bit and never wrap`;
  return v;
}

class CParser {
  private pos = 0;
  private readonly pending: ArchDependent[] = [];
  /** The steps of the expression being parsed, and whether one of them names a syscall. */
  private steps: Step[] = [];
  private usesArch = false;
  /** Parentheses open around the token at hand. */
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  private peek(ahead = 0): string | undefined {
    return this.tokens[this.pos + ahead]?.text;
  }

  private fail(token: Token | undefined, code: ParseError['code'], detail: string): never {
    throw errorAt(this.text, token?.offset ?? this.text.length, code, detail);
  }

  private expect(text: string): Token {
    const token = this.tokens[this.pos];
    if (token?.text !== text) this.fail(token, 'syntax', `expected "${text}", found ${token ? quoted(token.text) : 'the end'}`);
    this.pos++;
    return token;
  }

  private isItemStart(at = 0): boolean {
    const t = this.peek(at);
    return t === 'BPF_STMT' || t === 'BPF_JUMP' || t === '{';
  }

  run(defaultArch: Arch): Instruction[] {
    while (this.pos < this.tokens.length && !this.isItemStart()) this.pos++;
    if (this.pos >= this.tokens.length) throw new ParseError('empty-input', 'empty input: no instructions', 0, 0);
    const inArray = this.peek() === '{' && this.isItemStart(1);
    if (inArray) this.pos++;
    const program: Instruction[] = [];
    while (this.isItemStart()) {
      program.push(this.item(program.length));
      if (this.peek() !== ',') break;
      this.pos++;
    }
    if (inArray) this.expect('}');
    else if (this.pos < this.tokens.length) this.fail(this.tokens[this.pos], 'syntax', `unexpected ${quoted(this.peek()!)} after the instructions`);
    resolveArchDependent(program, this.pending, defaultArch);
    return program;
  }

  private item(pc: number): Instruction {
    const start = this.tokens[this.pos]!;
    let fields: Expr[];
    if (start.text === '{') {
      this.pos++;
      fields = this.list('}');
      if (fields.length !== 4) this.fail(start, 'syntax', `expected { code, jt, jf, k }, found ${fields.length} fields`);
      const [code, jt, jf, k] = fields as [Expr, Expr, Expr, Expr];
      fields = [code, k, jt, jf];
    } else {
      this.pos++;
      this.expect('(');
      fields = this.list(')');
      const want = start.text === 'BPF_STMT' ? 2 : 4;
      if (fields.length !== want) this.fail(start, 'syntax', `${start.text} takes ${want} arguments, found ${fields.length}`);
    }
    const [code, k, jt, jf] = fields;
    const field = (expr: Expr | undefined, what: string, max: number): number => {
      if (!expr) return 0;
      if (expr.usesArch && what !== 'k') this.fail(start, 'syntax', `${what} cannot depend on a syscall name`);
      return checkRange(this.evaluate(expr, archByName('x86_64')!), max, what, this.text, expr.offset);
    };
    if (k?.usesArch) {
      this.pending.push({ pc, resolve: (arch) => checkRange(this.evaluate(k, arch), 0xffffffff, 'k', this.text, k.offset) });
    }
    return {
      code: field(code, 'code', 0xffff),
      jt: field(jt, 'jt', 0xff),
      jf: field(jf, 'jf', 0xff),
      k: k?.usesArch ? 0 : field(k, 'k', 0xffffffff),
    };
  }

  private list(close: string): Expr[] {
    const items: Expr[] = [];
    while (this.peek() !== close) {
      const offset = this.tokens[this.pos]?.offset ?? this.text.length;
      this.steps = [];
      this.usesArch = false;
      this.expression();
      items.push({ steps: this.steps, usesArch: this.usesArch, offset });
      if (this.peek() !== ',') break;
      this.pos++;
    }
    this.expect(close);
    return items;
  }

  /** The value of `expr` on `arch`: a stack machine over its steps; throws at the step that breaks the rules of apply(). */
  private evaluate(expr: Expr, arch: Arch): bigint {
    const stack: bigint[] = [];
    for (const step of expr.steps) {
      let result: bigint | string;
      if (step.kind === 'number') result = step.value;
      else if (step.kind === 'syscall') result = BigInt(step.resolve(arch));
      else if (step.kind === 'unary') result = applyUnary(step.op, stack.pop()!);
      else {
        const r = stack.pop()!;
        result = apply(step.op, stack.pop()!, r);
      }
      if (typeof result === 'string') throw errorAt(this.text, step.offset, 'out-of-range', result);
      stack.push(result);
    }
    return stack.pop()!;
  }

  /** Binary operators of `level` and tighter, left to right: their steps in postfix order. */
  private expression(level = 0): void {
    const ops = BINARY_LEVELS[level];
    if (!ops) {
      this.unary();
      return;
    }
    this.expression(level + 1);
    while (ops.includes(this.peek() ?? '')) {
      const op = this.tokens[this.pos++]!;
      this.expression(level + 1);
      this.steps.push({ kind: 'binary', op: op.text, offset: op.offset });
    }
  }

  /** Prefix operators, read in a loop (any number of them), then what they apply to. */
  private unary(): void {
    const prefixes: Token[] = [];
    for (let t = this.tokens[this.pos]; t?.text === '~' || t?.text === '-' || t?.text === '+'; t = this.tokens[++this.pos]) prefixes.push(t);
    this.primary();
    for (let i = prefixes.length - 1; i >= 0; i--) this.steps.push({ kind: 'unary', op: prefixes[i]!.text, offset: prefixes[i]!.offset });
  }

  private primary(): void {
    const token = this.tokens[this.pos];
    if (!token) this.fail(token, 'syntax', 'expected an expression, found the end');
    this.pos++;
    const constant = (value: bigint): void => void this.steps.push({ kind: 'number', value, offset: token.offset });
    if (token.text === '(') {
      if (++this.depth > MAX_NESTING) this.fail(token, 'syntax', `parentheses nested more than ${MAX_NESTING} deep`);
      this.expression();
      this.expect(')');
      this.depth--;
      return;
    }
    const literal = token.text.replace(/[ul]+$/i, '');
    if (/^[0-9]/.test(token.text)) {
      if (!isNumberLiteral(literal)) this.fail(token, 'syntax', `cannot read number ${quoted(token.text)}`);
      const value = numberValue(literal);
      if (value === undefined || value > U32) this.fail(token, 'out-of-range', `number ${excerpt(token.text)} does not fit in 32 bits`);
      constant(value);
      return;
    }
    if (!/^[A-Za-z_]/.test(token.text)) this.fail(token, 'syntax', `expected an expression, found ${quoted(token.text)}`);
    if (token.text === 'offsetof') {
      constant(BigInt(this.offsetof()));
      return;
    }
    const fixed = constantValue(token.text);
    if (fixed !== undefined) {
      constant(BigInt(fixed));
      return;
    }
    const syscall = /^(?:__NR_|SYS_)(\w+)$/.exec(token.text);
    if (!syscall) this.fail(token, 'unknown-name', `unknown name ${quoted(token.text)}`);
    const resolve = syscallResolver(syscall[1]!, (arch) =>
      errorAt(this.text, token.offset, 'unknown-name', `${excerpt(token.text)}: no such ${arch.name} syscall`),
    );
    this.steps.push({ kind: 'syscall', resolve, offset: token.offset });
    this.usesArch = true;
  }

  /** `offsetof(struct seccomp_data, field)` after the `offsetof` token. */
  private offsetof(): number {
    this.expect('(');
    this.expect('struct');
    this.expect('seccomp_data');
    this.expect(',');
    const start = this.tokens[this.pos];
    let field = '';
    while (this.peek() !== undefined && this.peek() !== ')') field += this.tokens[this.pos++]!.text;
    this.expect(')');
    const offset = fieldOffset(field);
    if (offset === undefined) this.fail(start, 'unknown-name', `struct seccomp_data has no field ${quoted(field)}`);
    return offset;
  }
}

/** Parses a C array or macro list. `arch` names syscalls where the program has not checked one (default x86_64). */
export function parseC(text: string, options: { arch?: Arch } = {}): Instruction[] {
  return new CParser(text, tokenize(text)).run(options.arch ?? archByName('x86_64')!);
}

/** Formats a program as tcpdump `-dd` lines. */
export function formatC(program: Program): string {
  checkFields(program);
  const hex = (v: number, width: number): string => `0x${v.toString(16).padStart(width, '0')}`;
  return program.map((i) => `{ ${hex(i.code, 2)}, ${i.jt}, ${i.jf}, ${hex(i.k, 8)} },\n`).join('');
}
