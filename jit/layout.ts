/**
 * Control-flow layout for the JIT, with no binaryen: cBPF jumps only forward,
 * so the program is laid out as nested wasm blocks, one per jump target.
 *
 *   block $t3            targets t1 < t2 < t3
 *     block $t2
 *       block $t1
 *         code [0, t1)   a jump to t1, t2 or t3 is `br $tN`: each block ends
 *       end              right where its target's code begins
 *       code [t1, t2)
 *     end
 *     code [t2, t3)
 *   end
 *   code [t3, length)
 *
 * Every jump at pc targets a pc > pc, whose block is still open there.
 */
import { type Instruction, isConditionalJump, isJump, isReturn, type Program } from '../src/instruction.js';

/** The pcs a run goes on to from `insn` at `pc`: a jump's destinations, none after a return, else the next. */
export function successors(insn: Instruction, pc: number): number[] {
  if (isConditionalJump(insn)) return [pc + 1 + insn.jt, pc + 1 + insn.jf];
  if (isJump(insn)) return [pc + 1 + insn.k];
  return isReturn(insn) ? [] : [pc + 1];
}

/** The pcs that need a block: targets of taken jumps other than the next instruction, ascending. */
export function jumpTargets(program: Program): number[] {
  const targets = new Set<number>();
  program.forEach((insn, pc) => {
    if (!isJump(insn)) return;
    for (const to of successors(insn, pc)) if (to !== pc + 1) targets.add(to);
  });
  return [...targets].sort((a, b) => a - b);
}

/** The pcs that need a block in a program entered at pc 0 or at `entryPcs` (resume points): its jump targets and those, ascending. */
export function blockTargets(program: Program, entryPcs: readonly number[]): number[] {
  return [...new Set([...jumpTargets(program), ...entryPcs])].sort((a, b) => a - b);
}

/** A run of straight-line pcs [start, end) that begins right after block `closes` ends (or at pc 0). */
export interface Segment {
  readonly start: number;
  readonly end: number;
}

/**
 * The segments between targets: segment 0 is [0, targets[0]), segment i is
 * [targets[i-1], targets[i]), and the last runs to the end of the program.
 */
export function segments(program: Program, targets: readonly number[]): Segment[] {
  const bounds = [0, ...targets, program.length];
  return bounds.slice(1).map((end, i) => ({ start: bounds[i]!, end }));
}
