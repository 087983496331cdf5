/**
 * Lowering to JavaScript, for CompiledFilter.decide(): one record decided
 * where it lies. Copying a record into wasm memory and calling into wasm cost
 * several times the decision itself (docs/benchmarks.md), so a record the
 * decision tables cannot answer runs the filters as JavaScript instead. The
 * shape is lower.ts's, instruction by instruction: the same layout
 * (layout.ts), a labelled block per jump target, a jump is `break`, and the
 * entry is a `switch` that sets A, X and M[] and breaks to the resume point.
 * A and X are kept as signed 32-bit numbers, which V8 keeps in registers.
 * A lone filter too large to lower whole is lowered a resume point at a time,
 * as records reach them (lowerByEntry). Where records often need the filter,
 * the rows' chains are read as data before its code (rowChains).
 */
import type { ResumePoint } from '../src/decision-table.js';
import { isConditionalJump, type Program } from '../src/instruction.js';
import { BPF_ALU, BPF_LD, bpfClass } from '../src/opcodes.js';
import { ACTIONS, resolveStack, SECCOMP_RET_ACTION_FULL } from '../src/seccomp/actions.js';
import type { ByteOrder } from '../src/seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import { CHAIN_TEST, CHAIN_TEST_BYTES } from './chains.js';
import { blockTargets, segments, successors } from './layout.js';
import { readTableChains, runsOften, type TableArch } from './table-layout.js';

/**
 * A stack's value, as a signed 32-bit number, for the 64-byte record `r`
 * whose table row is at `w[row]` (`w`: wasm memory as words), each filter
 * run from the entry its column of the row gives; from pc 0 when `row` is -1
 * (outside the tables).
 */
export type StackRun = (r: Uint8Array, w: Int32Array, row: number) => number;

/** A stack's value for one 64-byte record. */
export type RecordDecide = (record: Uint8Array) => number;

/**
 * The most jump targets a function made here may have: V8 parses nested
 * blocks recursively (2,000 parsed here, 4,096 overflowed its stack), and
 * does not optimize a function that large anyway. The bundled Docker and
 * Podman profiles compile to 33 and 23; a lone filter with more is lowered
 * a resume point at a time (lowerByEntry), a stack with one runs in wasm.
 */
export const MAX_JS_TARGETS = 1000;

/** How a lowered filter ends: a statement that returns the constant `value`, or A. */
type Exit = (value: number | 'A') => string;

const label = (pc: number): string => `p${pc}`;

/** The record's 32-bit word at byte `k`, as a signed number. */
function load(k: number, byteOrder: ByteOrder): string {
  const [b0, b1, b2, b3] = byteOrder === 'le' ? [k, k + 1, k + 2, k + 3] : [k + 3, k + 2, k + 1, k];
  return `(r[${b0}] | r[${b1}] << 8 | r[${b2}] << 16 | r[${b3}] << 24)`;
}

/** A conditional jump: break to the true target when `condition` holds, else to the false one (or fall through). */
function branch(condition: string, pc: number, jt: number, jf: number): string {
  const [whenTrue, whenFalse] = [pc + 1 + jt, pc + 1 + jf];
  if (whenTrue === whenFalse) return whenTrue === pc + 1 ? '' : `break ${label(whenTrue)};`;
  if (whenTrue === pc + 1) return `if (!(${condition})) break ${label(whenFalse)};`;
  return `if (${condition}) break ${label(whenTrue)};${whenFalse === pc + 1 ? '' : ` break ${label(whenFalse)};`}`;
}

/** One instruction as a JavaScript statement, in the interpreter's case order (lower.ts beside it). */
function lowerInstruction(program: Program, pc: number, byteOrder: ByteOrder, exit: Exit): string {
  const { code, jt, jf, k } = program[pc]!;
  const K = k | 0; // signed, as A and X are
  const U = k >>> 0; // for unsigned compares and division
  // biome-ignore format: one line per opcode, read beside the interpreter
  switch (code) {
    case 0x20: return `A = ${load(k, byteOrder)};`; // ld [k]: k is an aligned offset below 64 (verify())
    case 0x80: return `A = ${SECCOMP_DATA_SIZE};`;
    case 0x81: return `X = ${SECCOMP_DATA_SIZE};`;
    case 0x00: return `A = ${K};`;
    case 0x01: return `X = ${K};`;
    case 0x60: return `A = m${k};`; // ld M[k]: k < 16 and written before (verify())
    case 0x61: return `X = m${k};`;
    case 0x02: return `m${k} = A;`;
    case 0x03: return `m${k} = X;`;
    case 0x04: return `A = (A + ${K}) | 0;`;
    case 0x0c: return 'A = (A + X) | 0;';
    case 0x14: return `A = (A - ${K}) | 0;`;
    case 0x1c: return 'A = (A - X) | 0;';
    case 0x24: return `A = Math.imul(A, ${K});`;
    case 0x2c: return 'A = Math.imul(A, X);';
    case 0x34: return `A = ((A >>> 0) / ${U}) | 0;`; // k != 0 (verify()); |0 truncates the quotient, below 2^32
    case 0x3c: return `if (X === 0) ${exit(0)} A = ((A >>> 0) / (X >>> 0)) | 0;`; // X = 0 ends the filter with 0
    case 0x44: return `A = A | ${K};`;
    case 0x4c: return 'A = A | X;';
    case 0x54: return `A = A & ${K};`;
    case 0x5c: return 'A = A & X;';
    case 0x64: return `A = A << ${k};`; // k < 32 (verify())
    case 0x6c: return 'A = A << X;'; // the count mod 32, as the kernel and wasm take it
    case 0x74: return `A = (A >>> ${k}) | 0;`;
    case 0x7c: return 'A = (A >>> X) | 0;';
    case 0x84: return 'A = -A | 0;';
    case 0xa4: return `A = A ^ ${K};`;
    case 0xac: return 'A = A ^ X;';
    case 0x07: return 'X = A;';
    case 0x87: return 'A = X;';
    case 0x05: return k === 0 ? '' : `break ${label(pc + 1 + k)};`;
    case 0x15: return branch(`A === ${K}`, pc, jt, jf);
    case 0x1d: return branch('A === X', pc, jt, jf);
    case 0x25: return branch(`(A >>> 0) > ${U}`, pc, jt, jf); // jgt, jge: unsigned
    case 0x2d: return branch('(A >>> 0) > (X >>> 0)', pc, jt, jf);
    case 0x35: return branch(`(A >>> 0) >= ${U}`, pc, jt, jf);
    case 0x3d: return branch('(A >>> 0) >= (X >>> 0)', pc, jt, jf);
    case 0x45: return branch(`(A & ${K}) !== 0`, pc, jt, jf);
    case 0x4d: return branch('(A & X) !== 0', pc, jt, jf);
    case 0x06: return exit(k);
    case 0x16: return exit('A');
    default:
      throw new Error(`unreachable: opcode 0x${code.toString(16)} passed verify()`);
  }
}

/** Whether A, as it is on reaching each pc of `insns`, may still be read: jumps go forward only, so one pass backwards. */
function liveA(insns: Program): boolean[] {
  const live = Array<boolean>(insns.length).fill(false);
  for (let pc = insns.length - 1; pc >= 0; pc--) {
    const insn = insns[pc]!;
    const cls = bpfClass(insn.code);
    // alu, conditional jumps, st, tax and ret A read A; loads into A and txa replace it
    const reads = cls === BPF_ALU || isConditionalJump(insn) || insn.code === 0x02 || insn.code === 0x07 || insn.code === 0x16;
    const replaces = cls === BPF_LD || insn.code === 0x87;
    live[pc] = reads || (!replaces && successors(insn, pc).some((to) => live[to]));
  }
  return live;
}

/**
 * Where `ld [k]` at pc is only compared, by `jeq #0` or `jset #K` at pc + 1
 * (which no jump enters) after which A is not read again, that comparison on
 * the record's bytes themselves, reading only those it depends on: a word
 * takes four bounds-checked byte reads here, the most of what a syscall's
 * argument checks cost (docs/benchmarks.md). Else undefined.
 */
function comparedLoad(insns: Program, pc: number, byteOrder: ByteOrder, live: readonly boolean[], targets: ReadonlySet<number>): string | undefined {
  const [ld, test] = [insns[pc]!, insns[pc + 1]];
  const jeqZero = test?.code === 0x15 && test.k === 0;
  if (ld.code !== 0x20 || !(jeqZero || test?.code === 0x45) || targets.has(pc + 1) || live[pc + 2 + test.jt] || live[pc + 2 + test.jf]) return undefined;
  const byte = (i: number) => `r[${byteOrder === 'le' ? ld.k + i : ld.k + 3 - i}]`; // the word's bits 8i to 8i + 7
  const bytes = [0, 1, 2, 3];
  if (jeqZero) return `(${bytes.map(byte).join(' | ')}) === 0`;
  // jset #K: some byte of A shares a bit with K's
  const masked = bytes.filter((i) => (test.k >>> (8 * i)) & 0xff).map((i) => `(${byte(i)} & ${(test.k >>> (8 * i)) & 0xff})`);
  return masked.length === 0 ? 'false' : `(${masked.join(' | ')}) !== 0`;
}

/** Which pcs of `insns` a run entered at one of `starts` can reach: jumps go forward only, so one pass in order. */
function reachableFrom(insns: Program, starts: readonly number[]): boolean[] {
  const reached = insns.map((_, pc) => starts.includes(pc));
  insns.forEach((insn, pc) => {
    if (!reached[pc]) return;
    for (const to of successors(insn, pc)) reached[to] = true;
  });
  return reached;
}

/**
 * `insns` as statements that end with `exit`, entered at pc 0 when the
 * variable `entry` is 0, else at `entries[entry - 1]` (every pc > 0), which
 * the caller vouches is where a record's run passes with that state
 * (src/decision-table.ts); or, given `from`, only the code a run entered
 * there reaches, entered there; or, given 'entries', only the code runs
 * entered at the entries reach, entry 0 returning `start(r, w, row)`.
 * Undefined beyond MAX_JS_TARGETS.
 */
function lowerFilterToJs(
  insns: Program,
  byteOrder: ByteOrder,
  entries: readonly ResumePoint[],
  exit: Exit,
  from?: ResumePoint | 'entries',
): string | undefined {
  const starts = from === 'entries' ? entries : from ? [from] : undefined;
  const reached =
    starts &&
    reachableFrom(
      insns,
      starts.map((entry) => entry.pc),
    );
  const targets = blockTargets(
    insns,
    (starts ?? entries).map((entry) => entry.pc),
  ).filter((pc) => !reached || reached[pc]);
  if (targets.length > MAX_JS_TARGETS) return undefined;
  const stored = [...new Set(insns.filter((insn) => insn.code === 0x02 || insn.code === 0x03).map((insn) => insn.k))]; // st, stx M[k]
  const live = liveA(insns);
  const targetSet = new Set(targets);
  const compared = insns.map((_, pc) => comparedLoad(insns, pc, byteOrder, live, targetSet));
  const lower = (pc: number) => {
    if (compared[pc] !== undefined) return ''; // lowered with the comparison that follows
    const condition = compared[pc - 1];
    if (condition === undefined) return lowerInstruction(insns, pc, byteOrder, exit);
    const { jt, jf } = insns[pc]!;
    return branch(condition, pc, jt, jf);
  };
  const code = (start: number, end: number) => Array.from({ length: end - start }, (_, i) => (!reached || reached[start + i] ? lower(start + i) : ''));
  const state = (entry: ResumePoint) => [`A = ${entry.a | 0};`, `X = ${entry.x | 0};`, ...stored.map((k) => `m${k} = ${entry.m[k]! | 0};`)].join(' ');
  const cases = entries.map((entry, i) => `case ${i + 1}: ${state(entry)} break ${label(entry.pc)};`);
  const dispatch =
    from === 'entries'
      ? ['switch (entry) {', ...cases, 'default: return start(r, w, row);', '}']
      : from
        ? [`${state(from)} break ${label(from.pc)};`]
        : entries.length === 0
          ? []
          : ['switch (entry) {', ...cases, '}'];
  const lines = [`let A = 0, X = 0${stored.map((k) => `, m${k} = 0`).join('')};`];
  // Blocks open outermost first, so that the block of the first target closes first (layout.ts).
  lines.push(
    [...targets]
      .reverse()
      .map((pc) => `${label(pc)}: {`)
      .join(' '),
  );
  const [first, ...rest] = segments(insns, targets);
  lines.push(...dispatch, ...code(first!.start, first!.end));
  for (const segment of rest) lines.push('}', ...code(segment.start, segment.end));
  return lines.join('\n');
}

/**
 * A filter of a stack, as the table block holds it (table-layout.ts): the
 * instructions of a program verify() accepted when the module was built,
 * which the table kernel runs as they are too, and its resume points.
 */
export interface StackFilter {
  readonly instructions: Program;
  readonly entries: readonly ResumePoint[];
}

/** The kernel's precedence as JavaScript: `value` replaces `result` when its action ranks lower (signed), as in resolveStack. */
const ranksLower = (value: string, result: string): string => `(${value} & ${SECCOMP_RET_ACTION_FULL | 0}) < (${result} & ${SECCOMP_RET_ACTION_FULL | 0})`;

/** A lone filter's exits: its values resolved as a stack of one (a constant one when lowering). */
const loneExit: Exit = (value) =>
  value === 'A' ? `return ${ranksLower('A', String(ACTIONS.ALLOW | 0))} ? A : ${ACTIONS.ALLOW | 0};` : `return ${resolveStack([value]) | 0};`;

/**
 * A lone filter too large to lower whole, as a function per resume point,
 * each of only the code that a run entered there reaches (in libseccomp's
 * shape, a syscall's argument checks), made the first time a record's row
 * enters there. A run from pc 0 (entry 0, or outside the tables), and an
 * entry whose code is too large still, goes to `fallback`. Where records
 * often need the filter, rows with a chain are decided before (rowChains).
 */
function lowerByEntry({ instructions, entries }: StackFilter, byteOrder: ByteOrder, fallback: StackRun): StackRun {
  const runs: StackRun[] = [];
  const lowerEntry = (entry: number): StackRun | undefined => {
    const body = entry === 0 ? undefined : lowerFilterToJs(instructions, byteOrder, [], loneExit, entries[entry - 1]);
    return body === undefined ? undefined : (new Function('r', `'use strict';\n${body}`) as StackRun);
  };
  const byEntry: StackRun = (r, w, row) => {
    const entry = row === -1 ? 0 : w[row + 1]!;
    let run = runs[entry];
    if (run === undefined) run = runs[entry] = lowerEntry(entry) ?? fallback;
    return run(r, w, row);
  };
  return byEntry;
}

/**
 * A stack of filters lowered to JavaScript (StackRun). One filter is
 * lowered as two functions, its values resolved as a stack of one where it
 * returns: the code its resume points reach, entered by the row's entry, and
 * the run from pc 0 (entry 0, or outside the tables), which the first calls;
 * the first is mostly small enough for V8 to inline into decide(). Several
 * are a function each, run newest first as the kernel runs them. A lone
 * filter with more than MAX_JS_TARGETS jump targets is lowered by entry
 * (lowerByEntry); a stack of several with one such filter runs `fallback`.
 * A lone filter's rows with a chain are decided by `chains` (rowChains)
 * before its code, where given.
 */
export function lowerStackToJs(filters: readonly StackFilter[], byteOrder: ByteOrder, fallback: StackRun, chains?: RowChains): StackRun {
  const entryOf = (i: number) => `row === -1 ? 0 : w[row + ${1 + i}]`;
  let source: string;
  if (filters.length === 1) {
    const [filter] = filters as [StackFilter];
    const whole =
      blockTargets(
        filter.instructions,
        filter.entries.map((entry) => entry.pc),
      ).length <= MAX_JS_TARGETS;
    const fromStart = whole ? lowerFilterToJs(filter.instructions, byteOrder, [], loneExit) : undefined;
    const resumed = whole ? lowerFilterToJs(filter.instructions, byteOrder, filter.entries, loneExit, 'entries') : undefined;
    const run =
      fromStart === undefined || resumed === undefined
        ? lowerByEntry(filter, byteOrder, fallback)
        : functionFrom(`return function run(r, w, row) {\nconst entry = ${entryOf(0)};\n${resumed}\n};`, {
            start: functionFrom(`return function start(r, w, row) {\n${fromStart}\n};`),
          });
    return chains ? chainsFirst(chains, run) : run;
  } else {
    const exit: Exit = (value) => `return ${value === 'A' ? 'A' : value | 0};`;
    const bodies = filters.map(({ instructions, entries }) => lowerFilterToJs(instructions, byteOrder, entries, exit));
    if (bodies.some((body) => body === undefined)) return fallback;
    const runs = filters.map((_, i) => `v = filter${i}(r, ${entryOf(i)}); if (${ranksLower('v', 'result')}) result = v;`).reverse();
    source = [
      ...bodies.map((body, i) => `function filter${i}(r, entry) {\n${body}\n}`),
      `return function decide(r, w, row) {\nlet result = ${ACTIONS.ALLOW | 0}, v = 0;\n${runs.join('\n')}\nreturn result;\n};`,
    ].join('\n');
  }
  return functionFrom(source);
}

/** The function that `source` returns, run in strict mode with `bindings` in scope. */
function functionFrom<T = StackRun>(source: string, bindings: Record<string, unknown> = {}): T {
  return new Function(...Object.keys(bindings), `'use strict';\n${source}`)(...Object.values(bindings)) as T;
}

/** A chain's fields, named by test (`maskLow0`, `leaf0`, …, `last`; `offset0`, … where the chains have no columns): signed 32-bit numbers, and `endsWhenDifferent0`, … booleans. */
type ChainFields = Record<string, number | boolean>;

/** The table block's chains as decide() reads them: `chains[i]` the i-th chain laid out, and `code`, statements that return the value of the chain at address `t` (a row's word `fromRowWords`). */
export interface RowChains {
  readonly fromRowWords: number;
  readonly chains: readonly ChainFields[];
  readonly code: string;
}

/**
 * The chains of the table block in `memory` (its `arches`) as data for
 * decide(), where the filter runs often (runsOften) and records
 * are little-endian (a chain's words are); else undefined. There, records
 * spread over many rows whose own code a jump reaches (a `switch` on the
 * entry, or lowerByEntry's call), and the CPU mispredicts most of those
 * jumps; a chain read as data takes the same code for every row, and its
 * tests' jumps go the same way for most records (docs/benchmarks.md). Each
 * chain is an object of one shape, found by its address in the row; its
 * value is the leaf of the first test that ends the run, else its last. A
 * test compares the record's 64-bit word, masked, as two 32-bit halves, of
 * which only the bytes some chain masks are read; where the chains have
 * columns, each word once, at its literal offset.
 */
export function rowChains(memory: ArrayBuffer, arches: readonly TableArch[], byteOrder: ByteOrder): RowChains | undefined {
  const table = readTableChains(memory, arches);
  if (!table || byteOrder !== 'le') return undefined;
  const { fromRowWords, length, columns } = table;
  const words = new Int32Array(memory);
  const rows = arches.flatMap(({ firstWord, length: count, strideWords }) => Array.from({ length: count }, (_, i) => firstWord + i * strideWords));
  if (!runsOften(rows.filter((row) => words[row] === -1).length, rows.length)) return undefined; // -1: NOT_CONSTANT, which worker threads do not load
  const addresses = rows.map((row) => words[row + fromRowWords]!).filter((address) => address !== 0);
  const first = Math.min(...addresses);
  const stride = length * CHAIN_TEST_BYTES + 8; // layoutChains: the tests, then the last value
  const field = (address: number, at: number) => words[(address + at) >>> 2]!;
  /** A chain's fields as [name, value], for each test in order and then `last`. */
  const fieldsAt = (address: number): [string, number | boolean][] => [
    ...Array.from({ length }, (_, t): [string, number | boolean][] => {
      const test = address + t * CHAIN_TEST_BYTES;
      return [
        ...(columns ? [] : [[`offset${t}`, field(test, CHAIN_TEST.offset)] as [string, number]]),
        [`maskLow${t}`, field(test, CHAIN_TEST.mask)],
        [`maskHigh${t}`, field(test, CHAIN_TEST.mask + 4)],
        [`valueLow${t}`, field(test, CHAIN_TEST.value)],
        [`valueHigh${t}`, field(test, CHAIN_TEST.value + 4)],
        [`endsWhenDifferent${t}`, field(test, CHAIN_TEST.endsWhenDifferent) !== 0],
        [`leaf${t}`, field(test, CHAIN_TEST.leaf)],
      ];
    }).flat(),
    ['last', field(address, length * CHAIN_TEST_BYTES)],
  ];
  // Made by one object literal, so that every chain has one shape with its fields in the object: a field added at a
  // time by name, past a dozen, left an object in dictionary mode (docker-linear's six tests: 150 ns a call).
  const names = fieldsAt(first).map(([name]) => name);
  const make = functionFrom<(values: (number | boolean)[]) => ChainFields>(`return (v) => ({ ${names.map((name, i) => `${name}: v[${i}]`).join(', ')} });`);
  const chains = Array.from({ length: (Math.max(...addresses) - first) / stride + 1 }, (_, i) => make(fieldsAt(first + i * stride).map(([, value]) => value)));
  /** The bits that some chain masks in the halves of test `t`'s word, or of every test's at byte `offset`. */
  const masked = (within: (t: number) => boolean): [number, number] =>
    chains.reduce(
      ([low, high], fields): [number, number] => {
        for (let t = 0; t < length; t++) if (within(t)) [low, high] = [low | (fields[`maskLow${t}`] as number), high | (fields[`maskHigh${t}`] as number)];
        return [low, high];
      },
      [0, 0],
    );
  /** A 32-bit word of the record as its bytes `at(0)` to `at(3)` (little-endian), only those `mask` has bits in. */
  const word = (at: (byte: number) => string, mask: number): string => {
    const bytes = [0, 1, 2, 3].filter((i) => (mask >>> (8 * i)) & 0xff).map((i) => (i === 0 ? `r[${at(0)}]` : `r[${at(i)}] << ${8 * i}`));
    return bytes.length === 0 ? '0' : `(${bytes.join(' | ')})`;
  };
  const loads = [...new Set(columns)].map((offset) => {
    const [low, high] = masked((t) => columns![t] === offset);
    return `const low${offset} = ${word((i) => `${offset + i}`, low)}, high${offset} = ${word((i) => `${offset + 4 + i}`, high)};`;
  });
  const tests = Array.from({ length }, (_, t) => {
    const [low, high] = columns
      ? [`low${columns[t]}`, `high${columns[t]}`]
      : masked((at) => at === t).map((mask, half) => word((i) => `c.offset${t} + ${4 * half + i}`, mask));
    const differs = `(((${low} & c.maskLow${t}) ^ c.valueLow${t}) | ((${high} & c.maskHigh${t}) ^ c.valueHigh${t})) !== 0`;
    return `if ((${differs}) === c.endsWhenDifferent${t}) return c.leaf${t};`;
  });
  const code = [`const c = chains[((t - ${first}) / ${stride}) | 0];`, ...loads, ...tests, 'return c.last;'].join('\n');
  return { fromRowWords, chains, code };
}

/** A lone filter's run: where the record's row has a chain, its value from `chains` (rowChains), else `rest`'s. */
function chainsFirst({ fromRowWords, chains, code }: RowChains, rest: StackRun): StackRun {
  const source = `return function run(r, w, row) {\nif (row !== -1) {\nconst t = w[row + ${fromRowWords}];\nif (t !== 0) {\n${code}\n}\n}\nreturn rest(r, w, row);\n};`;
  return functionFrom(source, { rest, chains });
}

/** Where a made decide() finds wasm memory as words: replaced when memory grows (which detaches the old view). */
export interface WordsView {
  words: Int32Array;
}

/**
 * decide() for one stack, as a function of its own: the record's size
 * checked (`check` throws unless it is 64 bytes), its table row looked up
 * with the arches' numbers as literals (`row`: the index in `w` of its value,
 * or -1 outside the tables), its value returned where it is constant, else
 * `run`'s; unsigned. Made with `new Function` for each stack, so that no call
 * site in it is shared with another stack's: a method calling each stack's
 * function saw them all, and V8 then inlined none (docs/benchmarks.md).
 * Signed 32-bit numbers throughout (a u32 above 2^31 would be a double), and
 * `Math.imul`, which V8 does not check for overflow as it does `*`.
 */
export function lowerDecide(
  arches: readonly TableArch[],
  byteOrder: ByteOrder,
  run: StackRun,
  memory: WordsView,
  check: (record: Uint8Array) => void,
): RecordDecide {
  const lookups = arches.map(
    (arch) =>
      `if (arch === ${arch.auditArch}) { const index = (${load(0, byteOrder)} - ${arch.firstNr}) | 0; ` +
      `if (index >= 0 && index < ${arch.length}) row = ${arch.firstWord} + Math.imul(index, ${arch.strideWords}); }`,
  );
  const source = [
    'return function decide(r) {',
    `if (r.length !== ${SECCOMP_DATA_SIZE}) check(r);`,
    'const w = memory.words;',
    `const arch = ${load(4, byteOrder)};`, // SECCOMP_DATA_ARCH, then SECCOMP_DATA_NR, as literals
    'let row = -1;',
    lookups.join(' else '),
    'if (row !== -1) { const value = w[row]; if (value !== -1) return value >>> 0; }', // -1: NOT_CONSTANT
    'return run(r, w, row) >>> 0;',
    '};',
  ].join('\n');
  return functionFrom<RecordDecide>(source, { run, memory, check });
}
