/**
 * Lowering: each cBPF instruction as wasm, in the interpreter's case order
 * (interp/interpret.ts), so the two files read side by side. A filter is
 * lowered into a frame (FilterFrame): a function of its own, with the record
 * pointer as parameter 0 and an entry number as parameter 1 (0: from pc 0,
 * else a resume point, see lowerFilter), A and X in locals 2 and 3 and M[0..15]
 * in 4..19; or inline in another function, in locals of that one's.
 */
import binaryen from 'binaryen';
import type { ResumePoint } from '../src/decision-table.js';
import type { Instruction } from '../src/instruction.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import type { VerifiedProgram } from '../src/verifier.js';
import { blockTargets, segments } from './layout.js';

const { i32 } = binaryen;

/** Where a lowered filter keeps its state, and how it ends. */
export interface FilterFrame {
  /** Locals: the record pointer, the entry number, A, X and M[0] (M[k] is local m0 + k). */
  readonly ptr: number;
  readonly entry: number;
  readonly a: number;
  readonly x: number;
  readonly m0: number;
  /**
   * Whether the locals start at zero, as in a function of its own. Inline,
   * they hold the last run's values: entry 0 then zeroes A and X, and a resume
   * point sets every M[k] the program stores to (M[k] it never stores it never reads).
   */
  readonly fresh: boolean;
  /** The statement that ends the filter with the constant `value`, or with A. */
  exit(value: number | 'A'): binaryen.ExpressionRef;
  /**
   * When given, the entry local holds an index into this list of entry
   * numbers rather than the entry number itself; CONSTANT_ROW in it jumps to
   * `constantExit`.
   */
  readonly entryByIndex?: readonly number[];
  /** Makes the statement that ends the filter with its table row's constant value (for CONSTANT_ROW in entryByIndex). */
  constantExit?(): binaryen.ExpressionRef;
}

/** In a frame's entryByIndex: a table row whose value is constant, which the jump takes to the frame's constantExit. */
export const CONSTANT_ROW = -1;

/** Locals after the parameters of a filter's own function: A, X, M[0..15]. */
export const FILTER_LOCALS: readonly number[] = Array(18).fill(i32);

/** The frame of a filter's own function `(ptr: i32, entry: i32) -> i32`: it returns its value. */
function functionFrame(m: binaryen.Module): FilterFrame {
  const a = 2;
  return { ptr: 0, entry: 1, a, x: 3, m0: 4, fresh: true, exit: (value) => m.return(value === 'A' ? m.local.get(a, i32) : m.i32.const(value | 0)) };
}

const label = (pc: number): string => `pc${pc}`;

/** binaryen.js's helpers for block expressions: there at run time, missing from its type declarations. */
const { Block } = binaryen as unknown as { Block: { appendChild(block: binaryen.ExpressionRef, child: binaryen.ExpressionRef): number } };

/**
 * A block named `name` holding `children`, of type none (no branch to it
 * carries a value). Made empty and then filled: given its children at once,
 * Binaryen works out a named block's type by searching everything inside it
 * for branches to it whenever a child cannot complete (a `br`, a `return`),
 * and with one block nested in the next per jump target that search made
 * lowering quadratic.
 */
function namedBlock(m: binaryen.Module, name: string, children: readonly binaryen.ExpressionRef[]): binaryen.ExpressionRef {
  const block = m.block(name, []);
  for (const child of children) Block.appendChild(block, child);
  return block;
}

/**
 * The record's 32-bit word at `offset`, from the record pointer in local `ptr`.
 * Big-endian records are byte-swapped (wasm loads are little-endian).
 */
export function makeRecordLoad(m: binaryen.Module, ptr: number, offset: number, byteOrder: ByteOrder): binaryen.ExpressionRef {
  const word = m.i32.load(offset, 4, m.local.get(ptr, i32));
  if (byteOrder === 'le') return word;
  const swap = (value: binaryen.ExpressionRef, rotate: 'rotl' | 'rotr', mask: number) => m.i32.and(m.i32[rotate](value, m.i32.const(8)), m.i32.const(mask));
  // bswap32(x) = (rotl(x, 8) & 0x00ff00ff) | (rotr(x, 8) & 0xff00ff00); x is read twice, from memory.
  return m.i32.or(swap(word, 'rotl', 0x00ff00ff), swap(m.i32.load(offset, 4, m.local.get(ptr, i32)), 'rotr', 0xff00ff00 | 0));
}

/** Builds wasm expressions for one program on module `m`. */
class Lowering {
  constructor(
    private readonly m: binaryen.Module,
    private readonly byteOrder: ByteOrder,
    private readonly frame: FilterFrame,
  ) {}

  private get(local: number) {
    return this.m.local.get(local, i32);
  }

  private k(value: number) {
    return this.m.i32.const(value | 0);
  }

  private makeLoad(offset: number) {
    return makeRecordLoad(this.m, this.frame.ptr, offset, this.byteOrder);
  }

  private setA(value: binaryen.ExpressionRef) {
    return this.m.local.set(this.frame.a, value);
  }

  /** A = A op (k or X). */
  private alu(op: 'add' | 'sub' | 'mul' | 'div_u' | 'or' | 'and' | 'shl' | 'shr_u' | 'xor', insn: Instruction, fromX: boolean) {
    return this.setA(this.m.i32[op](this.get(this.frame.a), fromX ? this.get(this.frame.x) : this.k(insn.k)));
  }

  /** A conditional jump: br to the true target when `condition` holds, else to the false one (or fall through). */
  private makeBranch(condition: binaryen.ExpressionRef, pc: number, insn: Instruction) {
    const { m } = this;
    const whenTrue = pc + 1 + insn.jt;
    const whenFalse = pc + 1 + insn.jf;
    if (whenTrue === whenFalse) return whenTrue === pc + 1 ? m.nop() : m.br(label(whenTrue));
    if (whenTrue === pc + 1) return m.br(label(whenFalse), m.i32.eqz(condition));
    const taken = m.br(label(whenTrue), condition);
    return whenFalse === pc + 1 ? taken : m.block(null, [taken, m.br(label(whenFalse))]);
  }

  /** One instruction as a wasm statement. */
  lowerInstruction(insn: Instruction, pc: number): binaryen.ExpressionRef {
    const { m } = this;
    const { code, k } = insn;
    const { a: A, x: X, m0: M0 } = this.frame;
    const a = () => this.get(A);
    const x = () => this.get(X);
    // biome-ignore format: one line per opcode, read beside the interpreter
    switch (code) {
      case 0x20: return this.setA(this.makeLoad(k)); // ld [k]: k is an aligned offset below 64 (verify())
      case 0x80: return this.setA(this.k(SECCOMP_DATA_SIZE)); // ld #len
      case 0x81: return m.local.set(X, this.k(SECCOMP_DATA_SIZE)); // ldx #len
      case 0x00: return this.setA(this.k(k)); // ld #k
      case 0x01: return m.local.set(X, this.k(k)); // ldx #k
      case 0x60: return this.setA(this.get(M0 + k)); // ld M[k]: k < 16 and written before (verify())
      case 0x61: return m.local.set(X, this.get(M0 + k));
      case 0x02: return m.local.set(M0 + k, a()); // st M[k]
      case 0x03: return m.local.set(M0 + k, x()); // stx M[k]
      case 0x04: return this.alu('add', insn, false);
      case 0x0c: return this.alu('add', insn, true);
      case 0x14: return this.alu('sub', insn, false);
      case 0x1c: return this.alu('sub', insn, true);
      case 0x24: return this.alu('mul', insn, false);
      case 0x2c: return this.alu('mul', insn, true);
      case 0x34: return this.alu('div_u', insn, false); // div #k: k != 0 (verify())
      case 0x3c: // div x: X = 0 returns 0 from the whole filter (i32.div_u would trap)
        return m.block(null, [m.if(m.i32.eqz(x()), this.frame.exit(0)), this.alu('div_u', insn, true)]);
      case 0x44: return this.alu('or', insn, false);
      case 0x4c: return this.alu('or', insn, true);
      case 0x54: return this.alu('and', insn, false);
      case 0x5c: return this.alu('and', insn, true);
      case 0x64: return this.alu('shl', insn, false); // lsh #k: k < 32 (verify())
      case 0x6c: return this.alu('shl', insn, true); // lsh x: i32.shl takes the count mod 32, as the kernel does
      case 0x74: return this.alu('shr_u', insn, false); // rsh #k: k < 32 (verify())
      case 0x7c: return this.alu('shr_u', insn, true); // rsh x: i32.shr_u takes the count mod 32
      case 0x84: return this.setA(m.i32.sub(this.k(0), a())); // neg
      case 0xa4: return this.alu('xor', insn, false);
      case 0xac: return this.alu('xor', insn, true);
      case 0x07: return m.local.set(X, a()); // tax
      case 0x87: return this.setA(x()); // txa
      case 0x05: return k === 0 ? m.nop() : m.br(label(pc + 1 + k)); // ja
      case 0x15: return this.makeBranch(m.i32.eq(a(), this.k(k)), pc, insn); // jeq #k
      case 0x1d: return this.makeBranch(m.i32.eq(a(), x()), pc, insn);
      case 0x25: return this.makeBranch(m.i32.gt_u(a(), this.k(k)), pc, insn); // jgt: unsigned
      case 0x2d: return this.makeBranch(m.i32.gt_u(a(), x()), pc, insn);
      case 0x35: return this.makeBranch(m.i32.ge_u(a(), this.k(k)), pc, insn); // jge
      case 0x3d: return this.makeBranch(m.i32.ge_u(a(), x()), pc, insn);
      case 0x45: return this.makeBranch(m.i32.and(a(), this.k(k)), pc, insn); // jset: any common bit
      case 0x4d: return this.makeBranch(m.i32.and(a(), x()), pc, insn);
      case 0x06: return this.frame.exit(k); // ret #k
      case 0x16: return this.frame.exit('A'); // ret a
      default:
        throw new Error(`unreachable: opcode 0x${code.toString(16)} passed verify()`);
    }
  }

  /**
   * The jump to the frame's entry: `br_table` to a block per resume point that
   * sets A, X and M[] and branches to its pc (whose block is open here), or on
   * to pc 0 for entry 0; through the frame's entryByIndex if it has one, a
   * constant row to the frame's constantExit. `stored` are the M[k] the
   * program stores to.
   */
  private makeEntryDispatch(entries: readonly ResumePoint[], stored: readonly number[]): binaryen.ExpressionRef {
    const { m } = this;
    const { entry: ENTRY, a: A, x: X, m0: M0, fresh } = this.frame;
    const entryLabel = (i: number) => (i === entries.length ? 'start' : `entry${i + 1}`);
    const numbers = this.frame.entryByIndex ?? [0, ...entries.map((_, i) => i + 1)];
    const labels = numbers.map((n) => (n === CONSTANT_ROW ? 'constant' : n === 0 ? 'start' : entryLabel(n - 1)));
    const jump = m.switch(labels, 'start', this.get(ENTRY));
    const { constantExit } = this.frame;
    let nest = namedBlock(m, entryLabel(0), constantExit ? [namedBlock(m, 'constant', [jump]), constantExit()] : [jump]);
    entries.forEach((entry, i) => {
      const state = [m.local.set(A, this.k(entry.a)), m.local.set(X, this.k(entry.x))];
      for (const k of stored) if (!fresh || entry.m[k] !== 0) state.push(m.local.set(M0 + k, this.k(entry.m[k]!)));
      nest = namedBlock(m, entryLabel(i + 1), [nest, ...state, m.br(label(entry.pc))]);
    });
    return nest;
  }

  /** The whole program as a function body, laid out by layout.ts, entered at pc 0 or at `entries`. */
  lowerProgram(program: VerifiedProgram, entries: readonly ResumePoint[]): binaryen.ExpressionRef {
    const { m } = this;
    const insns = program.instructions;
    const targets = blockTargets(
      insns,
      entries.map((entry) => entry.pc),
    );
    const code = (start: number, end: number) => insns.slice(start, end).map((insn, i) => this.lowerInstruction(insn, start + i));
    const [first, ...rest] = segments(insns, targets);
    const stored = [...new Set(insns.filter((insn) => insn.code === 0x02 || insn.code === 0x03).map((insn) => insn.k))]; // st, stx M[k]
    const dispatch = entries.length > 0 ? [this.makeEntryDispatch(entries, stored)] : [];
    if (!this.frame.fresh) dispatch.push(m.local.set(this.frame.a, this.k(0)), m.local.set(this.frame.x, this.k(0))); // entry 0: the kernel's A = X = 0
    const block = (name: string | undefined, children: binaryen.ExpressionRef[]) =>
      name === undefined ? m.block(null, children) : namedBlock(m, name, children);
    let body = block(targets.length > 0 ? label(targets[0]!) : undefined, [...dispatch, ...code(first!.start, first!.end)]);
    rest.forEach((segment, i) => {
      const next = targets[i + 1];
      body = block(next === undefined ? undefined : label(next), [body, ...code(segment.start, segment.end)]);
    });
    // The last instruction is a RET (verify()), so control never reaches the end.
    return m.block(null, [body, m.unreachable()]);
  }
}

/**
 * `program` as a statement in `frame` that ends it with the program's value
 * for the record at the frame's pointer: run from pc 0 for entry 0, or from
 * `entries[entry - 1]` (every pc > 0), which the caller vouches is where the
 * record's run passes with that state (src/decision-table.ts). In a
 * functionFrame, it is the body of a function `(ptr: i32, entry: i32) -> i32`.
 */
export function lowerFilter(
  m: binaryen.Module,
  program: VerifiedProgram,
  byteOrder: ByteOrder,
  entries: readonly ResumePoint[] = [],
  frame: FilterFrame = functionFrame(m),
): binaryen.ExpressionRef {
  return new Lowering(m, byteOrder, frame).lowerProgram(program, entries);
}
