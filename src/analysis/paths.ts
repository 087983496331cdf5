/**
 * Exact symbolic execution of filters and stacks over every record at once.
 * A filter runs on symbolic A, X and M (bit-vectors over the record's bits,
 * bitvec.ts); at each conditional jump the set of records still on the path
 * splits in two, and a side that no record takes is dropped. What comes out is
 * a partition of the records into regions, each with the value the filter or
 * stack returns there (a constant, or a function of the record for `ret a`).
 * It follows interp/interpret.ts case for case.
 */
import { ACTIONS } from '../seccomp/actions.js';
import type { VerifiedProgram } from '../verifier.js';
import { type Bdd, type BddManager, FALSE, TRUE } from './bdd.js';
import {
  add,
  and,
  anyCommon,
  type BitVec,
  constant,
  divide,
  equals,
  greater,
  multiply,
  neg,
  or,
  select,
  shiftBy,
  shiftLeft,
  shiftRight,
  sub,
  word,
  xor,
} from './bitvec.js';
import { fixedValue } from './describe.js';

/** A set of records and the value returned on every one of them. */
export interface Leaf {
  readonly region: Bdd;
  readonly value: BitVec;
}

interface State {
  readonly pc: number;
  readonly a: BitVec;
  readonly x: BitVec;
  readonly mem: readonly (BitVec | undefined)[];
  readonly region: Bdd;
}

const ZERO = constant(0);
const SECCOMP_DATA_SIZE = 64;

/** The filter's leaves within `region`: disjoint, and covering it. */
export function filterLeaves(m: BddManager, filter: VerifiedProgram, region: Bdd): Leaf[] {
  const insns = filter.instructions;
  const leaves: Leaf[] = [];
  const pending: State[] = [{ pc: 0, a: ZERO, x: ZERO, mem: [], region }];
  for (let state = pending.pop(); state !== undefined; state = pending.pop()) {
    let { pc, a, x, region: here } = state;
    const mem = [...state.mem];
    // Straight-line code runs in place; a conditional jump pushes the sides that records take.
    for (;;) {
      const { code, jt, jf, k } = insns[pc]!; // every path ends in a return (verify())
      const branch = (taken: Bdd): void => {
        const yes = m.and(here, taken);
        const no = m.and(here, m.not(taken));
        if (no !== FALSE) pending.push({ pc: pc + 1 + jf, a, x, mem, region: no });
        if (yes !== FALSE) pending.push({ pc: pc + 1 + jt, a, x, mem, region: yes });
      };
      let next = pc + 1;
      switch (code) {
        case 0x20:
          a = word(m, k / 4);
          break; // ld [k]
        case 0x80:
          a = constant(SECCOMP_DATA_SIZE);
          break;
        case 0x81:
          x = constant(SECCOMP_DATA_SIZE);
          break;
        case 0x00:
          a = constant(k);
          break;
        case 0x01:
          x = constant(k);
          break;
        case 0x60:
          a = mem[k]!;
          break; // written before (verify())
        case 0x61:
          x = mem[k]!;
          break;
        case 0x02:
          mem[k] = a;
          break;
        case 0x03:
          mem[k] = x;
          break;
        case 0x04:
          a = add(m, a, constant(k));
          break;
        case 0x0c:
          a = add(m, a, x);
          break;
        case 0x14:
          a = sub(m, a, constant(k));
          break;
        case 0x1c:
          a = sub(m, a, x);
          break;
        case 0x24:
          a = multiply(m, a, constant(k));
          break;
        case 0x2c:
          a = multiply(m, a, x);
          break;
        case 0x34:
          a = divide(m, a, constant(k)).quotient;
          break; // k != 0 (verify())
        case 0x3c: {
          // X = 0 returns 0 from the whole filter; elsewhere, A / X.
          const zero = m.and(here, equals(m, x, ZERO));
          if (zero !== FALSE) leaves.push({ region: zero, value: ZERO });
          here = m.and(here, m.not(zero));
          if (here === FALSE) break;
          a = divide(m, a, x).quotient;
          break;
        }
        case 0x44:
          a = or(m, a, constant(k));
          break;
        case 0x4c:
          a = or(m, a, x);
          break;
        case 0x54:
          a = and(m, a, constant(k));
          break;
        case 0x5c:
          a = and(m, a, x);
          break;
        case 0x64:
          a = shiftLeft(a, k);
          break; // k < 32 (verify())
        case 0x6c:
          a = shiftBy(m, a, x, true);
          break;
        case 0x74:
          a = shiftRight(a, k);
          break;
        case 0x7c:
          a = shiftBy(m, a, x, false);
          break;
        case 0x84:
          a = neg(m, a);
          break;
        case 0xa4:
          a = xor(m, a, constant(k));
          break;
        case 0xac:
          a = xor(m, a, x);
          break;
        case 0x07:
          x = a;
          break;
        case 0x87:
          a = x;
          break;
        case 0x05:
          next = pc + 1 + k;
          break;
        case 0x15:
          branch(equals(m, a, constant(k)));
          break;
        case 0x1d:
          branch(equals(m, a, x));
          break;
        case 0x25:
          branch(greater(m, a, constant(k)));
          break;
        case 0x2d:
          branch(greater(m, a, x));
          break;
        case 0x35:
          branch(m.not(greater(m, constant(k), a)));
          break;
        case 0x3d:
          branch(m.not(greater(m, x, a)));
          break;
        case 0x45:
          branch(anyCommon(m, a, constant(k)));
          break;
        case 0x4d:
          branch(anyCommon(m, a, x));
          break;
        case 0x06:
          leaves.push({ region: here, value: constant(k) });
          break;
        case 0x16:
          leaves.push({ region: here, value: a });
          break;
        default:
          throw new Error(`unreachable: opcode 0x${code.toString(16)} passed verify()`);
      }
      if (here === FALSE || code === 0x06 || code === 0x16 || ((code & 0x07) === 0x05 && code !== 0x05)) break;
      pc = next;
    }
  }
  return leaves;
}

/** The action bits of a value, read as a signed number: the kernel ranks actions so (resolveStack). */
function rankBelow(m: BddManager, a: BitVec, b: BitVec): Bdd {
  // Signed a < b on the top 16 bits: flip the sign bits and compare unsigned.
  const top = (v: BitVec): BitVec => xor(m, and(m, v, constant(0xffff0000)), constant(0x80000000));
  return greater(m, top(b), top(a));
}

/**
 * The stack's leaves within `region` (filters oldest first), with the
 * kernel's precedence: the newest of the filters whose action ranks lowest,
 * when it ranks below ALLOW; else exactly ALLOW.
 */
export function stackLeaves(m: BddManager, filters: readonly VerifiedProgram[], region: Bdd): Leaf[] {
  let leaves: Leaf[] = [{ region, value: constant(ACTIONS.ALLOW) }];
  const allow = constant(ACTIONS.ALLOW);
  for (const filter of filters) {
    const next: Leaf[] = [];
    for (const sofar of leaves) {
      for (const leaf of filterLeaves(m, filter, sofar.region)) {
        const [v, result] = [leaf.value, sofar.value];
        // Taken: it ranks below ALLOW, and no higher than the result so far (a newer filter wins a tie).
        const takes = m.and(rankBelow(m, v, allow), m.not(rankBelow(m, result, v)));
        next.push({ region: leaf.region, value: takes === FALSE ? result : takes === TRUE ? v : select(m, takes, v, result) });
      }
    }
    leaves = next;
  }
  return leaves;
}

/** `leaves` by the syscall number their region fixes (`loose`: those that fix none), so that a syscall meets only its own and the loose ones. */
export function leavesByNr(m: BddManager, leaves: readonly Leaf[]): { all: readonly Leaf[]; fixed: Map<number, Leaf[]>; loose: Leaf[] } {
  const fixed = new Map<number, Leaf[]>();
  const loose: Leaf[] = [];
  for (const leaf of leaves) {
    const nr = fixedValue(m, leaf.region, 0);
    if (nr === undefined) loose.push(leaf);
    else fixed.set(nr, [...(fixed.get(nr) ?? []), leaf]);
  }
  return { all: leaves, fixed, loose };
}
