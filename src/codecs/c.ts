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
 */
import { ParseError } from '../errors.js';
import { checkFields, type Instruction, type Program } from '../instruction.js';
import { archByName, type Arch } from '../seccomp/arches.js';
import { fieldOffset } from '../seccomp/data.js';
import { constantValue, resolveArchDependent, syscallResolver, type ArchDependent } from './names.js';
import { checkRange, errorAt, isNumberLiteral, numberValue } from './text.js';

interface Token {
  readonly text: string;
  readonly offset: number;
}

/** A parsed expression: its value for an arch, and whether that value depends on the arch. */
interface Expr {
  readonly value: (arch: Arch) => bigint;
  readonly usesArch: boolean;
  readonly offset: number;
}

const TOKEN = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|#[^\n]*|0x[0-9a-f]+[ul]*|[0-9]+[ul]*|[A-Za-z_][A-Za-z0-9_]*|<<|>>|./gi;
const BINARY_LEVELS: ReadonlyArray<ReadonlyArray<string>> = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*']];
const U32 = 0xffffffffn;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const t = m[0];
    if (/^\s/.test(t) || t.startsWith('//') || t.startsWith('/*') || t.startsWith('#')) continue;
    tokens.push({ text: t, offset: m.index });
  }
  return tokens;
}

class CParser {
  private pos = 0;
  private readonly pending: ArchDependent[] = [];

  constructor(private readonly text: string, private readonly tokens: Token[]) {}

  private peek(ahead = 0): string | undefined {
    return this.tokens[this.pos + ahead]?.text;
  }

  private fail(token: Token | undefined, code: ParseError['code'], detail: string): never {
    throw errorAt(this.text, token?.offset ?? this.text.length, code, detail);
  }

  private expect(text: string): Token {
    const token = this.tokens[this.pos];
    if (token?.text !== text) this.fail(token, 'syntax', `expected "${text}", found ${token ? `"${token.text}"` : 'the end'}`);
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
    else if (this.pos < this.tokens.length) this.fail(this.tokens[this.pos], 'syntax', `unexpected "${this.peek()}" after the instructions`);
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
      const value = expr.value(archByName('x86_64')!);
      return checkRange(value, max, what, this.text, expr.offset);
    };
    if (k?.usesArch) {
      this.pending.push({ pc, resolve: (arch) => checkRange(k.value(arch), 0xffffffff, 'k', this.text, k.offset) });
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
      items.push(this.expression());
      if (this.peek() !== ',') break;
      this.pos++;
    }
    this.expect(close);
    return items;
  }

  private expression(level = 0): Expr {
    const ops = BINARY_LEVELS[level];
    if (!ops) return this.unary();
    let left = this.expression(level + 1);
    while (ops.includes(this.peek() ?? '')) {
      const op = this.tokens[this.pos++]!.text;
      const l = left;
      const r = this.expression(level + 1);
      left = {
        value: (arch) => binary(op, l.value(arch), r.value(arch)),
        usesArch: l.usesArch || r.usesArch,
        offset: l.offset,
      };
    }
    return left;
  }

  private unary(): Expr {
    const token = this.tokens[this.pos];
    if (token?.text === '~' || token?.text === '-' || token?.text === '+') {
      this.pos++;
      const operand = this.unary();
      const apply = (v: bigint): bigint => (token.text === '~' ? U32 ^ v : token.text === '-' ? -v : v);
      return { value: (arch) => apply(operand.value(arch)), usesArch: operand.usesArch, offset: token.offset };
    }
    return this.primary();
  }

  private primary(): Expr {
    const token = this.tokens[this.pos];
    if (!token) return this.fail(token, 'syntax', 'expected an expression, found the end');
    this.pos++;
    const constant = (v: bigint): Expr => ({ value: () => v, usesArch: false, offset: token.offset });
    if (token.text === '(') {
      const inner = this.expression();
      this.expect(')');
      return inner;
    }
    const literal = token.text.replace(/[ul]+$/i, '');
    if (/^[0-9]/.test(token.text)) {
      if (!isNumberLiteral(literal)) this.fail(token, 'syntax', `cannot read number "${token.text}"`);
      return constant(numberValue(literal));
    }
    if (!/^[A-Za-z_]/.test(token.text)) this.fail(token, 'syntax', `expected an expression, found "${token.text}"`);
    if (token.text === 'offsetof') return constant(BigInt(this.offsetof()));
    const fixed = constantValue(token.text);
    if (fixed !== undefined) return constant(BigInt(fixed));
    const syscall = /^(?:__NR_|SYS_)(\w+)$/.exec(token.text);
    if (!syscall) this.fail(token, 'unknown-name', `unknown name "${token.text}"`);
    const resolve = syscallResolver(syscall[1]!, (arch) => errorAt(this.text, token.offset, 'unknown-name', `${token.text}: no such ${arch.name} syscall`));
    return { value: (arch) => BigInt(resolve(arch)), usesArch: true, offset: token.offset };
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
    if (offset === undefined) this.fail(start, 'unknown-name', `struct seccomp_data has no field "${field}"`);
    return offset;
  }
}

function binary(op: string, l: bigint, r: bigint): bigint {
  switch (op) {
    case '|': return l | r;
    case '^': return l ^ r;
    case '&': return l & r;
    case '<<': return (l << r) & U32;
    case '>>': return l >> r;
    case '+': return l + r;
    case '-': return l - r;
    default: return l * r;
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
