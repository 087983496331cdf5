/**
 * Chains: the code a resume point runs, where it is only a row of tests on
 * record words, each of which may end the filter with a constant (as
 * libseccomp's argument checks are), kept as data in the table block
 * (table-layout.ts). A chain is evaluated with no jump at all (module.ts,
 * kernel.ts): every test is computed and the first one that ends the run
 * gives the value. Where records spread over many syscalls whose arguments
 * are checked, that replaces a jump to each syscall's own code, which the CPU
 * cannot predict, by a few more instructions it runs at full speed; in the
 * table kernel, it replaces the interpreter (docs/benchmarks.md).
 */
import type { ResumePoint } from '../src/decision-table.js';
import type { Instruction } from '../src/instruction.js';
import { bpfOp, jumpTaken } from '../src/opcodes.js';

/**
 * One test: the record's 64-bit word at byte `offset` (a multiple of 8,
 * little-endian, as an argument is), and-ed with `mask`, compared with
 * `value`; where the comparison's outcome (equal or not) is `endsWhenEqual`,
 * the run ends with the value `leaf`.
 */
export interface ChainTest {
  readonly offset: number;
  readonly mask: bigint;
  readonly value: bigint;
  readonly endsWhenEqual: boolean;
  readonly leaf: number;
}

/** A chain: its tests in order, and the value when none ends the run. */
export interface Chain {
  readonly tests: readonly ChainTest[];
  readonly last: number;
}

/** The most tests a chain may have: past that, a resume point's own code is shorter than the chain padded to the longest. */
export const MAX_CHAIN_TESTS = 8;

/** A test that never ends the run: pads a chain to a module's length. */
const NEUTRAL_TEST: ChainTest = { offset: 0, mask: 0n, value: 0n, endsWhenEqual: false, leaf: 0 };

/** The test of the 32-bit word at `offset` (a multiple of 4) as a test of the 64-bit word it is half of, in a little-endian record. */
function wideTest(offset: number, mask: number, value: number, endsWhenEqual: boolean, leaf: number): ChainTest {
  const shift = BigInt(8 * (offset % 8));
  return { offset: offset - (offset % 8), mask: BigInt(mask >>> 0) << shift, value: BigInt(value >>> 0) << shift, endsWhenEqual, leaf };
}

/**
 * `test` merged into `before`, where one test does what the two do: both
 * end the run with the same leaf when their word differs (in bits of masks
 * that do not overlap), as the two halves of an argument compared with a
 * 64-bit value do.
 */
function merged(before: ChainTest, test: ChainTest): ChainTest | undefined {
  if (before.offset !== test.offset || before.leaf !== test.leaf || before.endsWhenEqual || test.endsWhenEqual || (before.mask & test.mask) !== 0n)
    return undefined;
  return { ...before, mask: before.mask | test.mask, value: before.value | test.value };
}

/**
 * The code `instructions` runs from `point` as a chain, each `ret #k` as the
 * value `constant(k)`, or undefined when it is anything else: loads of record
 * words or constants into A, `ja`, jumps on A against constants (jeq and jset
 * on a record word, any on a known constant) of which one side returns a
 * constant, and `ret #k`, in at most MAX_CHAIN_TESTS tests.
 */
export function chainFrom(instructions: readonly Instruction[], point: ResumePoint, constant: (k: number) => number): Chain | undefined {
  const tests: ChainTest[] = [];
  /** The constant a run from `pc` returns at once (through `ja`), if it does. */
  const leafAt = (pc: number): number | undefined => {
    let at = pc;
    while (instructions[at]!.code === 0x05) at += 1 + instructions[at]!.k;
    const { code, k } = instructions[at]!;
    return code === 0x06 ? constant(k) : undefined;
  };
  let a: { readonly constant: number } | { readonly word: number } = { constant: point.a >>> 0 };
  for (let pc = point.pc; ; pc++) {
    const { code, jt, jf, k } = instructions[pc]!;
    switch (code) {
      case 0x06: // ret #k
        return { tests, last: constant(k) };
      case 0x20: // ld [k]
        a = { word: k };
        break;
      case 0x00: // ld #k
        a = { constant: k >>> 0 };
        break;
      case 0x05: // ja
        pc += k;
        break;
      case 0x15: // jeq, jgt, jge, jset #k
      case 0x25:
      case 0x35:
      case 0x45: {
        if ('constant' in a) {
          pc += jumpTaken(bpfOp(code), a.constant, k >>> 0) ? jt : jf;
          break;
        }
        if (code !== 0x15 && code !== 0x45) return undefined; // jgt, jge on a record word: no masked equality
        const [whenTrue, whenFalse] = [pc + 1 + jt, pc + 1 + jf];
        const trueLeaf = leafAt(whenTrue);
        const leaf = trueLeaf ?? leafAt(whenFalse);
        if (leaf === undefined) return undefined;
        const endsWhenTrue = trueLeaf !== undefined;
        // jeq k: A == k; jset k: A & k != 0, the outcome "not equal" of A & k against 0.
        const [mask, value] = code === 0x15 ? [0xffffffff, k] : [k, 0];
        const test = wideTest(a.word, mask, value, code === 0x15 ? endsWhenTrue : !endsWhenTrue, leaf);
        const both = tests.length > 0 ? merged(tests.at(-1)!, test) : undefined;
        if (both) tests[tests.length - 1] = both;
        else if (tests.push(test) > MAX_CHAIN_TESTS) return undefined;
        pc = (endsWhenTrue ? whenFalse : whenTrue) - 1;
        break;
      }
      default:
        return undefined;
    }
  }
}

/** The shortest row of offsets that holds both `a` and `b` in order. */
function mergeOffsets(a: readonly number[], b: readonly number[]): number[] {
  // shortest[i][j]: the shortest row holding a[i..] and b[j..]
  const shortest: number[][][] = Array.from({ length: a.length + 1 }, () => []);
  for (let i = a.length; i >= 0; i--) {
    for (let j = b.length; j >= 0; j--) {
      if (i === a.length) shortest[i]![j] = b.slice(j);
      else if (j === b.length) shortest[i]![j] = a.slice(i);
      else if (a[i] === b[j]) shortest[i]![j] = [a[i]!, ...shortest[i + 1]![j + 1]!];
      else {
        const [takeA, takeB] = [shortest[i + 1]![j]!, shortest[i]![j + 1]!];
        shortest[i]![j] = takeA.length <= takeB.length ? [a[i]!, ...takeA] : [b[j]!, ...takeB];
      }
    }
  }
  return shortest[0]![0]!;
}

/**
 * The offsets of `chains`' tests as one row that every chain follows in
 * order, a neutral test where it tests none there, when that row is no longer
 * than the longest chain: then a module reads each test's word at a constant
 * offset, which waits on no load of the chain; else undefined.
 */
export function chainColumns(chains: readonly Chain[]): number[] | undefined {
  const longest = Math.max(0, ...chains.map((chain) => chain.tests.length));
  let columns: number[] = [];
  for (const chain of chains) {
    columns = mergeOffsets(
      columns,
      chain.tests.map((test) => test.offset),
    );
    if (columns.length > longest) return undefined;
  }
  return columns;
}

/** `chain`'s tests in `columns` (which hold its offsets in order), a neutral test at each offset it does not test there. */
export function alignChain(chain: Chain, columns: readonly number[]): Chain {
  const tests: ChainTest[] = [];
  let next = 0;
  for (const offset of columns) {
    const test = chain.tests[next];
    if (test?.offset === offset) {
      tests.push(test);
      next++;
    } else tests.push({ ...NEUTRAL_TEST, offset });
  }
  return { tests, last: chain.last };
}

/** Where a chain test's fields are in memory, little-endian: mask and value as u64s, the others as u32s. */
export const CHAIN_TEST = { mask: 0, value: 8, offset: 16, endsWhenDifferent: 20, leaf: 24 } as const;
export const CHAIN_TEST_BYTES = 32;

/**
 * Distinct chains of `byRow` laid out from address `at`, each padded to
 * `length` tests and followed by its `last`: their bytes, and the address of
 * each row's chain (0 for a row without one).
 */
export function layoutChains(byRow: readonly (Chain | undefined)[], length: number, at: number): { bytes: Uint8Array; addresses: number[] } {
  const stride = length * CHAIN_TEST_BYTES + 8;
  const byKey = new Map<string, number>();
  const distinct: Chain[] = [];
  const addresses = byRow.map((chain) => {
    if (!chain) return 0;
    const key = `${chain.last}:${chain.tests.map((t) => `${t.offset},${t.mask},${t.value},${t.endsWhenEqual},${t.leaf}`).join(';')}`;
    let address = byKey.get(key);
    if (address === undefined) {
      address = at + distinct.push(chain) * stride - stride;
      byKey.set(key, address);
    }
    return address;
  });
  const bytes = new Uint8Array(distinct.length * stride);
  const view = new DataView(bytes.buffer);
  distinct.forEach((chain, i) => {
    const start = i * stride;
    const padded = [...chain.tests, ...Array<ChainTest>(length - chain.tests.length).fill(NEUTRAL_TEST)];
    padded.forEach((test, t) => {
      const where = start + t * CHAIN_TEST_BYTES;
      view.setBigUint64(where + CHAIN_TEST.mask, test.mask, true);
      view.setBigUint64(where + CHAIN_TEST.value, test.value, true);
      view.setUint32(where + CHAIN_TEST.offset, test.offset, true);
      view.setUint32(where + CHAIN_TEST.endsWhenDifferent, test.endsWhenEqual ? 0 : 1, true);
      view.setUint32(where + CHAIN_TEST.leaf, test.leaf >>> 0, true);
    });
    view.setUint32(start + length * CHAIN_TEST_BYTES, chain.last >>> 0, true);
  });
  return { bytes, addresses };
}
