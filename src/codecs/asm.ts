/**
 * The assembler for the kernel's bpf_asm dialect (tools/bpf/bpf_asm), plus the
 * seccomp sugar of SPEC section 8 and two cbpf extensions that make every
 * program expressible, so the disassembler's output always assembles back:
 *
 * - a jump target may be an absolute pc (`jeq #257, 5, 6`) as well as a label;
 * - a line may start with its pc (`  5: ret #0`), which is checked;
 * - `.insn code, jt, jf, k` writes any instruction field by field.
 *
 * Comments are `; to end of line` and `/* ... *\/`. Mnemonics are case-insensitive.
 * Lines end with "\n" or "\r\n"; a lone "\r", U+2028 and U+2029 are whitespace
 * (see text.ts).
 */
import { ParseError } from '../errors.js';
import type { Instruction } from '../instruction.js';
import { MNEMONICS, type OperandForm, opcodeFor } from '../mnemonics.js';
import { ACTIONS, type ActionName, SECCOMP_RET_DATA } from '../seccomp/actions.js';
import { type Arch, archByName, byteOrderOf } from '../seccomp/arches.js';
import { fieldOffset, halfOffset } from '../seccomp/data.js';
import { errnoNumber } from '../seccomp/errno.js';
import { type ArchDependent, constantValue, resolveArchDependent, syscallResolver } from './names.js';
import { checkCommentLine, errorAt, excerpt, isNumberLiteral, literalInRange, quoted } from './text.js';

/** Options of `assemble`. */
export interface AssembleOptions {
  /** Arch for syscall names and `.lo`/`.hi` where the program has not checked one. Default x86_64. */
  readonly arch?: Arch;
}

/** A jump target as written: a label, or an absolute pc. */
type Target = { readonly label: string; readonly offset: number } | { readonly pc: number; readonly offset: number };

interface Draft {
  code: number;
  k: number;
  jt: number;
  jf: number;
  /** Conditional jumps: where to go when true / false; undefined means the next pc. */
  whenTrue?: Target;
  whenFalse?: Target;
  /** JA: the target that becomes k. */
  ja?: Target;
}

/** One operand with the offset in the whole text where it starts. */
interface Operand {
  readonly text: string;
  readonly offset: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A label (`name:`) or a pc (`5:`) at the start of a line. */
const LINE_PREFIX = /^\s*([A-Za-z_][A-Za-z0-9_]*|[0-9]+)\s*:/;
/** Negated conditions: `jne #k, L` is `jeq #k, next, L`. */
const NEGATED: Readonly<Record<string, string>> = { jne: 'jeq', jneq: 'jeq', jlt: 'jge', jle: 'jgt' };
/** Other spellings bpf_asm accepts for the same opcode. */
const ALIASES: Readonly<Record<string, string>> = { ldi: 'ld', ldxi: 'ldx', jmp: 'ja' };
const ACTION_CALL = /^([A-Z_]+)(?:\(\s*([^)]*?)\s*\))?$/;

/**
 * Replaces each comment (`; to end of line`, `/* ... *\/`) by spaces, line
 * breaks kept, so that offsets and positions stay true: whichever starts first
 * wins, so a `;` inside a block comment or a `/*` after a `;` is no comment.
 * Throws for an unterminated block comment, and as checkCommentLine does.
 */
function blankComments(text: string): string {
  const start = /\/\*|;/g;
  let out = '';
  let from = 0;
  for (let m = start.exec(text); m; m = start.exec(text)) {
    let end: number;
    if (m[0] === ';') {
      end = text.indexOf('\n', m.index);
      if (end === -1) end = text.length;
      checkCommentLine(text, text.slice(m.index, end), m.index);
    } else {
      end = text.indexOf('*/', m.index + 2);
      if (end === -1) throw errorAt(text, m.index, 'syntax', 'unterminated /* comment');
      end += 2;
    }
    out += text.slice(from, m.index) + text.slice(m.index, end).replace(/[^\n]/g, ' ');
    from = start.lastIndex = end;
  }
  return out + text.slice(from);
}

/** Splits `s` (starting at `offset`) at commas outside brackets and parentheses. */
function splitOperands(s: string, offset: number): Operand[] {
  const parts: Operand[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    if ((c === ',' && depth === 0) || i === s.length) {
      const raw = s.slice(start, i);
      const lead = raw.length - raw.trimStart().length;
      parts.push({ text: raw.trim(), offset: offset + start + lead });
      start = i + 1;
    }
  }
  return parts.length === 1 && parts[0]!.text === '' ? [] : parts;
}

class Assembler {
  private readonly drafts: Draft[] = [];
  private readonly labels = new Map<string, number>();
  private readonly pending: ArchDependent[] = [];

  constructor(private readonly text: string) {}

  private fail(offset: number, code: ParseError['code'], detail: string): never {
    throw errorAt(this.text, offset, code, detail);
  }

  run(defaultArch: Arch): Instruction[] {
    // Comments and line breaks other than "\n" become spaces of the same length: offsets stay true.
    const text = blankComments(this.text).replace(/[\r\u2028\u2029]/g, ' ');
    let lineStart = 0;
    for (const line of text.split('\n')) {
      this.line(line, lineStart);
      lineStart += line.length + 1;
    }
    if (this.drafts.length === 0) throw new ParseError('empty-input', 'empty input: no instructions', 0, 0);
    const program = this.drafts.map((draft, pc) => this.link(draft, pc));
    resolveArchDependent(program, this.pending, defaultArch);
    return program;
  }

  private line(line: string, at: number): void {
    let rest = line;
    let offset = at;
    for (let prefix = LINE_PREFIX.exec(rest); prefix; prefix = LINE_PREFIX.exec(rest)) {
      const name = prefix[1]!;
      const nameAt = offset + prefix[0].indexOf(name);
      if (/^[0-9]/.test(name)) {
        if (Number(name) !== this.drafts.length) {
          this.fail(nameAt, 'pc-mismatch', `line says pc ${excerpt(name)}, but this is instruction ${this.drafts.length}`);
        }
      } else {
        if (this.labels.has(name)) this.fail(nameAt, 'duplicate-label', `label ${quoted(name)} is defined twice`);
        this.labels.set(name, this.drafts.length);
      }
      rest = rest.slice(prefix[0].length);
      offset += prefix[0].length;
    }
    const body = /^(\s*)(\S+)([\s\S]*)$/.exec(rest);
    if (!body) return;
    const mnemonicAt = offset + body[1]!.length;
    const operands = splitOperands(body[3]!, mnemonicAt + body[2]!.length);
    this.drafts.push(this.instruction(body[2]!.toLowerCase(), operands, mnemonicAt));
  }

  private instruction(written: string, operands: Operand[], at: number): Draft {
    const pc = this.drafts.length;
    const draft: Draft = { code: 0, k: 0, jt: 0, jf: 0 };
    if (written === '.insn') return this.rawInstruction(draft, operands, at);
    const negated = Object.hasOwn(NEGATED, written) ? NEGATED[written] : undefined;
    const mnemonic = negated ?? (Object.hasOwn(ALIASES, written) ? ALIASES[written]! : written);
    const [first, ...targets] = operands;
    const form = this.operandForm(mnemonic, first, at);
    const code = opcodeFor(mnemonic, form);
    if (code === undefined) {
      if (!MNEMONICS.has(mnemonic)) this.fail(at, 'unknown-mnemonic', `unknown mnemonic ${quoted(written)}`);
      this.fail(first?.offset ?? at, 'syntax', `${quoted(written)} does not take ${describeForm(form)}`);
    }
    draft.code = code;
    if (form === 'target') {
      this.expectCount(operands, 1, written, at); // first: a `ja` with no target has none
      draft.ja = this.target(first!);
      return draft;
    }
    if (form === 'cond-imm' || form === 'cond-x') {
      if (targets.length < 1 || targets.length > 2) {
        this.fail(at, 'syntax', `${quoted(written)} takes a comparand and one or two jump targets`);
      }
      const [t, f] = targets.map((operand) => this.target(operand));
      draft.whenTrue = negated ? f : t;
      draft.whenFalse = negated ? t : f;
    } else {
      this.expectCount(operands, form === 'none' ? 0 : 1, written, at);
    }
    if (first && form !== 'x' && form !== 'cond-x' && form !== 'a' && form !== 'len' && form !== 'none') {
      draft.k = this.operandValue(form, first, pc, mnemonic === 'ret');
    }
    return draft;
  }

  private expectCount(operands: Operand[], count: number, mnemonic: string, at: number): void {
    if (operands.length !== count) {
      this.fail(operands[count]?.offset ?? at, 'syntax', `${quoted(mnemonic)} takes ${count} operand${count === 1 ? '' : 's'}, found ${operands.length}`);
    }
  }

  private rawInstruction(draft: Draft, operands: Operand[], at: number): Draft {
    this.expectCount(operands, 4, '.insn', at);
    const [code, jt, jf, k] = operands.map((operand, i) => {
      const [what, max] = (
        [
          ['code', 0xffff],
          ['jt', 0xff],
          ['jf', 0xff],
          ['k', 0xffffffff],
        ] as const
      )[i]!;
      if (!isNumberLiteral(operand.text)) this.fail(operand.offset, 'syntax', `.insn ${what} must be a number`);
      return literalInRange(operand.text, max, what, this.text, operand.offset);
    }) as [number, number, number, number];
    return { ...draft, code, jt, jf, k };
  }

  /** Which operand form the first operand is written in, for this mnemonic. */
  private operandForm(mnemonic: string, first: Operand | undefined, at: number): OperandForm {
    const isCond = ['jeq', 'jgt', 'jge', 'jset'].includes(mnemonic);
    if (mnemonic === 'ja') return 'target';
    if (!first) return 'none';
    const t = first.text;
    const isX = t === 'x' || t === '%x' || t === 'X';
    if (isCond) return isX ? 'cond-x' : 'cond-imm';
    if (isX) return 'x';
    if (t === 'a' || t === '%a' || t === 'A') return 'a';
    if (t === '#len') return 'len';
    if (/^M\s*\[/.test(t)) return 'mem';
    if (/^4\s*\*\s*\(/.test(t)) return 'msh';
    if (/^\[\s*%?x\s*(\+|\])/i.test(t)) return 'ind';
    if (t.startsWith('[')) return 'abs';
    if (t.startsWith('#') || mnemonic === 'ret') return 'imm';
    return this.fail(first.offset ?? at, 'syntax', `cannot read operand ${quoted(t)}`);
  }

  /** The k of an operand in `form`; `bareAction` lets `ret ALLOW` omit the '#'. */
  private operandValue(form: OperandForm, operand: Operand, pc: number, bareAction: boolean): number {
    const t = operand.text;
    const inner = (pattern: RegExp, what: string): Operand => {
      const m = pattern.exec(t);
      if (!m) this.fail(operand.offset, 'syntax', `expected ${what}, found ${quoted(t)}`);
      return { text: m[1]!.trim(), offset: operand.offset + t.indexOf(m[1]!) };
    };
    switch (form) {
      case 'imm':
      case 'cond-imm':
        if (t.startsWith('#')) return this.constant({ text: t.slice(1).trim(), offset: operand.offset + 1 }, pc);
        if (bareAction) return this.constant(operand, pc);
        return this.fail(operand.offset, 'syntax', `expected "#" and a constant, found ${quoted(t)}`);
      case 'mem':
        return this.number(inner(/^M\s*\[(.*)\]$/, 'M[k]'), 'scratch index');
      case 'msh':
        return this.number(inner(/^4\s*\*\s*\(\s*\[(.*)\]\s*&\s*0xf\s*\)$/i, '4*([k]&0xf)'), 'offset');
      case 'ind': {
        const m = /^\[\s*%?x\s*(?:\+\s*(.*?))?\s*\]$/i.exec(t);
        if (!m) return this.fail(operand.offset, 'syntax', `expected [x + k], found ${quoted(t)}`);
        return m[1] === undefined ? 0 : this.number({ text: m[1], offset: operand.offset + t.indexOf(m[1]) }, 'offset');
      }
      case 'abs':
        return this.dataOffset(inner(/^\[(.*)\]$/, '[k]'), pc);
      default:
        return 0;
    }
  }

  private number(operand: Operand, what: string): number {
    if (!isNumberLiteral(operand.text)) this.fail(operand.offset, 'syntax', `expected a number for the ${what}, found ${quoted(operand.text)}`);
    return literalInRange(operand.text, 0xffffffff, what, this.text, operand.offset);
  }

  /** `[4]`, or seccomp sugar: `[nr]`, `[arch]`, `[args[1].lo]`, `[instruction_pointer.hi]`, `[ip.lo]`. */
  private dataOffset(operand: Operand, pc: number): number {
    const t = operand.text;
    if (isNumberLiteral(t)) return this.number(operand, 'offset');
    const m = /^(nr|arch|ip|instruction_pointer|args\s*\[\s*[0-5]\s*\])(?:\s*\.\s*(lo|hi))?$/.exec(t);
    if (!m) return this.fail(operand.offset, 'unknown-name', `unknown seccomp_data field ${quoted(t)}`);
    const field = m[1] === 'ip' ? 'instruction_pointer' : m[1]!.replace(/\s+/g, '');
    const base = fieldOffset(field)!;
    const half = m[2] as 'lo' | 'hi' | undefined;
    const is64 = base >= 8;
    if (is64 && !half) this.fail(operand.offset, 'syntax', `${field} is 64 bits: write ${field}.lo or ${field}.hi`);
    if (!is64 && half) this.fail(operand.offset, 'syntax', `${field} is 32 bits: it has no .${half}`);
    if (!half) return base;
    this.pending.push({ pc, resolve: (arch) => halfOffset(base, half, byteOrderOf(arch)) });
    return halfOffset(base, half, 'le');
  }

  /** A constant after '#': a number, a named constant, an action like `ERRNO(13)`, or a syscall name. */
  private constant(operand: Operand, pc: number): number {
    const t = operand.text;
    if (isNumberLiteral(t)) return this.number(operand, 'constant');
    const call = ACTION_CALL.exec(t);
    if (call && call[2] !== undefined) return this.actionWithData(call[1]!, call[2], operand);
    if (!IDENT.test(t)) return this.fail(operand.offset, 'syntax', `cannot read constant ${quoted(t)}`);
    const fixed = constantValue(t);
    if (fixed !== undefined) return fixed;
    const syscall = t.replace(/^(__NR_|SYS_)/, '');
    this.pending.push({
      pc,
      resolve: syscallResolver(syscall, (arch) =>
        errorAt(this.text, operand.offset, 'unknown-name', `unknown name ${quoted(t)} (not a constant, nor a ${arch.name} syscall)`),
      ),
    });
    return 0;
  }

  /** `ERRNO(13)`, `ERRNO(EACCES)`, `TRAP(5)`: an action with its 16 bits of data. */
  private actionWithData(name: string, dataText: string, operand: Operand): number {
    if (!Object.hasOwn(ACTIONS, name)) this.fail(operand.offset, 'unknown-name', `unknown action ${quoted(name)}`);
    const dataAt = operand.offset + operand.text.indexOf(dataText);
    const data = isNumberLiteral(dataText)
      ? literalInRange(dataText, SECCOMP_RET_DATA, `${name} data`, this.text, dataAt)
      : (errnoNumber(dataText) ?? this.fail(dataAt, 'unknown-name', `unknown errno name ${quoted(dataText)}`));
    return (ACTIONS[name as ActionName] | data) >>> 0;
  }

  private target(operand: Operand): Target {
    const t = operand.text;
    if (/^[0-9]+$/.test(t)) {
      // Past 2^53 a pc would not even be exact; no program comes near (the kernel loads 4,096 instructions).
      if (t.length > 15) this.fail(operand.offset, 'jump-too-far', `jump target pc ${quoted(t)} is past any program`);
      return { pc: Number(t), offset: operand.offset };
    }
    if (!IDENT.test(t)) this.fail(operand.offset, 'syntax', `expected a label or a pc as jump target, found ${quoted(t)}`);
    return { label: t, offset: operand.offset };
  }

  private resolveTarget(target: Target): number {
    if ('pc' in target) return target.pc;
    const pc = this.labels.get(target.label);
    if (pc === undefined) this.fail(target.offset, 'undefined-label', `label ${quoted(target.label)} is not defined`);
    return pc;
  }

  /** Turns written targets into jump offsets; cBPF jumps forward only, conditional ones at most 255. */
  private link(draft: Draft, pc: number): Instruction {
    const offsetTo = (target: Target | undefined, max: number): number => {
      if (target === undefined) return 0;
      const to = this.resolveTarget(target);
      const name = 'label' in target ? `${quoted(target.label)} (pc ${to})` : `pc ${to}`;
      if (to <= pc) this.fail(target.offset, 'backward-jump', `jump from pc ${pc} back to ${name}: cBPF jumps only forward`);
      if (to - pc - 1 > max) {
        this.fail(target.offset, 'jump-too-far', `jump from pc ${pc} to ${name} skips ${to - pc - 1} instructions; a conditional jump skips at most ${max}`);
      }
      return to - pc - 1;
    };
    if (draft.ja) return { code: draft.code, jt: 0, jf: 0, k: offsetTo(draft.ja, 0xffffffff) };
    const jt = draft.whenTrue || draft.whenFalse ? offsetTo(draft.whenTrue, 0xff) : draft.jt;
    const jf = draft.whenTrue || draft.whenFalse ? offsetTo(draft.whenFalse, 0xff) : draft.jf;
    return { code: draft.code, jt, jf, k: draft.k };
  }
}

/** True when `word` starts a bpf_asm instruction: a mnemonic, an alias, or `.insn`. */
export function isAsmMnemonic(word: string): boolean {
  const w = word.toLowerCase();
  return MNEMONICS.has(w) || Object.hasOwn(NEGATED, w) || Object.hasOwn(ALIASES, w) || w === '.insn';
}

function describeForm(form: OperandForm): string {
  const forms: Record<OperandForm, string> = {
    none: 'no operand',
    imm: 'a "#" constant',
    x: 'x',
    a: 'a',
    abs: 'a [k] load',
    ind: 'an [x + k] load',
    mem: 'M[k]',
    len: '#len',
    msh: '4*([k]&0xf)',
    target: 'a jump target',
    'cond-imm': 'a "#" comparand',
    'cond-x': 'x as comparand',
  };
  return forms[form];
}

/**
 * Assembles bpf_asm text into a program. Throws ParseError with the line and
 * column of the first problem; never truncates a jump or a number.
 */
export function assemble(text: string, options: AssembleOptions = {}): Instruction[] {
  return new Assembler(text).run(options.arch ?? archByName('x86_64')!);
}
