/**
 * `diff` by a bit-vector solver, for stacks the decision diagrams cannot hold:
 * arithmetic that mixes a record word's bits (multiplying or dividing one)
 * makes the diagram of each result bit exponential, while a solver (Z3,
 * compiled to WebAssembly) decides such formulas directly. Each stack
 * becomes one term for its return value over the record's sixteen words, and
 * the solver is asked for a record where the two terms differ: none is a
 * proof of equivalence, and each one found is a counterexample. Z3 loads only
 * when this runs (about 0.3 s and 35 MB), and its threads stop after.
 */
import { ACTIONS } from '../seccomp/actions.js';
import type { VerifiedProgram } from '../verifier.js';
import { AnalysisLimit } from './bdd.js';
import { recordOfWords } from './describe.js';
import { type Difference, type DiffOptions, type DiffResult, diffStacks, syscallOf } from './diff.js';

/** How long one question to the solver may take before the analysis gives up (saying so, never guessing). */
const SOLVER_TIMEOUT_MS = 30_000;

type Context = import('z3-solver').Context<'main'>;
type Bv = import('z3-solver').BitVec<32, 'main'>;
type Bool = import('z3-solver').Bool<'main'>;

/** The machine's state on one path into an instruction: A, X and the scratch words written so far. */
interface State {
  readonly a: Bv;
  readonly x: Bv;
  readonly mem: readonly (Bv | undefined)[];
}

/**
 * The term `filter` returns on the record whose words are `words`: the
 * program is a DAG (jumps go forward), so each instruction's state is the
 * choice among the states its predecessors hand it, guarded by how each got
 * there. Follows interp/interpret.ts case for case.
 */
function filterTerm(z: Context, filter: VerifiedProgram, words: readonly Bv[]): Bv {
  const insns = filter.instructions;
  const val = (n: number): Bv => z.BitVec.val(n >>> 0, 32) as Bv;
  const zero = val(0);
  const incoming: { guard: Bool; state: State }[][] = insns.map(() => []);
  incoming[0]!.push({ guard: z.Bool.val(true), state: { a: zero, x: zero, mem: [] } });
  const returns: { guard: Bool; value: Bv }[] = [];
  const merge = (edges: readonly { guard: Bool; state: State }[]): { guard: Bool; state: State } => {
    if (edges.length === 1) return edges[0]!;
    const guard = z.Or(...edges.map((e) => e.guard));
    const pick = (get: (s: State) => Bv | undefined): Bv | undefined => {
      let term: Bv | undefined;
      for (const { guard: g, state } of edges) {
        const v = get(state);
        if (v === undefined) continue; // a word no path to here wrote is not read (verify())
        term = term === undefined ? v : (z.If(g, v, term) as Bv);
      }
      return term;
    };
    const mem = Array.from({ length: 16 }, (_, i) => pick((s) => s.mem[i]));
    return { guard, state: { a: pick((s) => s.a)!, x: pick((s) => s.x)!, mem } };
  };
  for (let pc = 0; pc < insns.length; pc++) {
    const edges = incoming[pc]!;
    if (edges.length === 0) continue; // unreachable
    const { guard, state } = merge(edges);
    let { a, x } = state;
    const mem = [...state.mem];
    const { code, jt, jf, k } = insns[pc]!;
    const to = (target: number, g: Bool, s: State = { a, x, mem }): void => void incoming[target]!.push({ guard: g, state: s });
    const branch = (cond: Bool): void => {
      to(pc + 1 + jt, z.And(guard, cond));
      to(pc + 1 + jf, z.And(guard, z.Not(cond)));
    };
    // biome-ignore format: one line per opcode, read as a table
    switch (code) {
      case 0x20: a = words[k / 4]!; break; // ld [k]
      case 0x80: a = val(64); break;
      case 0x81: x = val(64); break;
      case 0x00: a = val(k); break;
      case 0x01: x = val(k); break;
      case 0x60: a = mem[k]!; break;
      case 0x61: x = mem[k]!; break;
      case 0x02: mem[k] = a; break;
      case 0x03: mem[k] = x; break;
      case 0x04: a = a.add(val(k)); break;
      case 0x0c: a = a.add(x); break;
      case 0x14: a = a.sub(val(k)); break;
      case 0x1c: a = a.sub(x); break;
      case 0x24: a = a.mul(val(k)); break;
      case 0x2c: a = a.mul(x); break;
      case 0x34: a = a.udiv(val(k)); break;
      case 0x3c: // div x: the whole filter returns 0 when X = 0
        returns.push({ guard: z.And(guard, x.eq(zero)), value: zero });
        to(pc + 1, z.And(guard, x.neq(zero)), { a: a.udiv(x), x, mem });
        continue;
      case 0x44: a = a.or(val(k)); break;
      case 0x4c: a = a.or(x); break;
      case 0x54: a = a.and(val(k)); break;
      case 0x5c: a = a.and(x); break;
      case 0x64: a = a.shl(val(k)); break;
      case 0x6c: a = a.shl(x.and(val(31))); break; // by X mod 32
      case 0x74: a = a.lshr(val(k)); break;
      case 0x7c: a = a.lshr(x.and(val(31))); break;
      case 0x84: a = a.neg(); break;
      case 0xa4: a = a.xor(val(k)); break;
      case 0xac: a = a.xor(x); break;
      case 0x07: x = a; break;
      case 0x87: a = x; break;
      case 0x05: to(pc + 1 + k, guard); continue;
      case 0x15: branch(a.eq(val(k))); continue;
      case 0x1d: branch(a.eq(x)); continue;
      case 0x25: branch(a.ugt(val(k))); continue;
      case 0x2d: branch(a.ugt(x)); continue;
      case 0x35: branch(a.uge(val(k))); continue;
      case 0x3d: branch(a.uge(x)); continue;
      case 0x45: branch(a.and(val(k)).neq(zero)); continue;
      case 0x4d: branch(a.and(x).neq(zero)); continue;
      case 0x06: returns.push({ guard, value: val(k) }); continue;
      case 0x16: returns.push({ guard, value: a }); continue;
      default:
        throw new Error(`unreachable: opcode 0x${code.toString(16)} passed verify()`);
    }
    to(pc + 1, guard);
  }
  // The guards of the returns are disjoint and cover every record.
  let term = returns.at(-1)!.value;
  for (const { guard, value } of returns.slice(0, -1).reverse()) term = z.If(guard, value, term) as Bv;
  return term;
}

/** The term a stack returns: the kernel's precedence, as resolveStack() (oldest first; a newer filter wins a tie). */
function stackTerm(z: Context, filters: readonly VerifiedProgram[], words: readonly Bv[]): Bv {
  const allow = z.BitVec.val(ACTIONS.ALLOW, 32) as Bv;
  const rank = (v: Bv): Bv => v.and(z.BitVec.val(0xffff0000, 32) as Bv);
  let result = allow;
  for (const filter of filters) {
    const v = filterTerm(z, filter, words);
    const takes = z.And(rank(v).slt(rank(allow)), z.Not(rank(result).slt(rank(v))));
    result = z.If(takes, v, result) as Bv;
  }
  return result;
}

/**
 * diffStacks' answer, found by the solver: equivalence proved, or up to
 * `max` differences, one per arch and syscall number, each a record where
 * the stacks differ (its region is not described: undefined).
 * @throws AnalysisLimit when the solver cannot decide in time.
 */
export async function diffBySolver(a: readonly VerifiedProgram[], b: readonly VerifiedProgram[], options: DiffOptions = {}): Promise<DiffResult> {
  const max = options.max ?? 20;
  const { init, killThreads } = await import('z3-solver');
  const z3 = await init();
  try {
    const z: Context = z3.Context('main');
    const words = Array.from({ length: 16 }, (_, i) => z.BitVec.const(`w${i}`, 32) as Bv);
    const solver = new z.Solver();
    solver.set('timeout', SOLVER_TIMEOUT_MS);
    const [va, vb] = [stackTerm(z, a, words), stackTerm(z, b, words)];
    solver.add(va.neq(vb));
    if (options.arches) solver.add(z.Or(...options.arches.map((arch) => words[1]!.eq(z.BitVec.val(arch >>> 0, 32)))));
    const differences: Difference[] = [];
    let questions = 0;
    for (;;) {
      questions++;
      const answer = await solver.check();
      if (answer === 'unknown') throw new AnalysisLimit(`the solver could not decide within ${SOLVER_TIMEOUT_MS / 1000} s`);
      if (answer === 'unsat') return { equivalent: differences.length === 0, differences, truncated: false, paths: questions, nodes: 0, by: 'solver' };
      if (differences.length === max) return { equivalent: false, differences, truncated: true, paths: questions, nodes: 0, by: 'solver' };
      const model = solver.model();
      const value = (t: Bv): number => Number((model.eval(t, true) as unknown as { value(): bigint }).value());
      const found = Uint32Array.from(words, (w) => value(w));
      const [nr, arch] = [found[0]!, found[1]!];
      const record = recordOfWords(found);
      differences.push({ arch, nr: nr | 0, ...syscallOf(arch, nr), ...record, a: value(va), b: value(vb), region: undefined });
      solver.add(z.Not(z.And(words[0]!.eq(z.BitVec.val(nr, 32)), words[1]!.eq(z.BitVec.val(arch, 32)))));
    }
  } finally {
    await killThreads(z3.em);
  }
}

/**
 * diffStacks, and where its diagrams grow past their budget, the solver: a
 * proof or counterexamples for every pair of stacks, unless the solver too
 * runs out of time.
 * @throws AnalysisLimit when neither can decide.
 */
export async function diffWithSolverFallback(a: readonly VerifiedProgram[], b: readonly VerifiedProgram[], options: DiffOptions = {}): Promise<DiffResult> {
  try {
    return diffStacks(a, b, options);
  } catch (error) {
    if (!(error instanceof AnalysisLimit)) throw error;
    return diffBySolver(a, b, options);
  }
}
