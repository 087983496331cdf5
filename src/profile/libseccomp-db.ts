/**
 * libseccomp's filter database, modelled so that cbpf decides exactly what
 * libseccomp 2.5.4 would build from the same rules: the argument trees of one
 * syscall on one arch, how a rule becomes a chain of 32-bit word tests, and
 * how a new chain merges into the tree (a broader rule absorbs a narrower
 * one, siblings sorted by argument, operator and value, some overlaps refused
 * with EEXIST). The merge is order-dependent and has known faults (see
 * docs/semantics.md, "Profiles"), which is why it is modelled step by step
 * rather than as a formula; libseccomp itself is the oracle for this file
 * (test/profile/libseccomp.test.ts).
 *
 * Reference counts are kept as libseccomp keeps them: whether a merge removes
 * a sub-tree depends on how many parents share it.
 */
import type { Operator } from './read.js';

/** The test a node makes on its 32-bit word (NE, LT and LE are stored as their inverses). */
export type NodeOp = 'eq' | 'masked-eq' | 'gt' | 'ge';

/** One node of a syscall's argument tree: `(word & mask) op datum` on one half of one argument. */
export interface TreeNode {
  readonly arg: number;
  /** Tests the upper 32 bits of a 64-bit argument (only on 64-bit arches). */
  readonly high: boolean;
  readonly op: NodeOp;
  /** The rule's own operator, which orders siblings. */
  readonly sourceOp: Operator;
  readonly mask: number;
  readonly datum: number;
  /** The rule's whole 64-bit value. */
  readonly datumFull: bigint;
  onTrue: TreeNode | undefined;
  onFalse: TreeNode | undefined;
  /** The action when the test holds and no sub-tree follows; meaningful when actionTrueSet (libseccomp compares the value alone in places). */
  actionTrue: number;
  actionTrueSet: boolean;
  actionFalse: number;
  actionFalseSet: boolean;
  /** Siblings on the same level, tried in order when a node's branch holds nothing. */
  prev: TreeNode | undefined;
  next: TreeNode | undefined;
  refs: number;
}

/** One argument condition as libseccomp's API takes it. */
export interface RuleCondition {
  readonly index: number;
  readonly op: Operator;
  readonly value: bigint;
  readonly valueTwo: bigint;
}

/** What the database holds for one syscall on one arch. */
export interface SyscallRules {
  readonly nr: number;
  /** The argument tree; undefined when the syscall's action is unconditional. */
  chains: TreeNode | undefined;
  /** The action when there is no tree. */
  action: number;
}

/**
 * libseccomp refused a rule: `errno` is the negative errno it returned (-17
 * EEXIST, -22 EINVAL), or 'hangs' where libseccomp 2.5.4 never returns (a
 * 64-bit range or NE condition followed by another whose node sorts first,
 * after a rule that shares the first condition: its merge makes a cycle).
 */
export class RuleRefused extends Error {
  override readonly name = 'RuleRefused';
  constructor(readonly errno: number | 'hangs') {
    super(
      errno === 'hangs'
        ? 'libseccomp 2.5.4 never returns from adding the rule'
        : `libseccomp refuses the rule (${errno === -17 ? 'EEXIST: it overlaps an earlier rule with another action' : `errno ${-errno}`})`,
    );
  }
}

const WORD = 0xffffffffn;
const low = (value: bigint): number => Number(value & WORD);
const high = (value: bigint): number => Number((value >> 32n) & WORD);

function node(arg: number, isHigh: boolean, op: NodeOp, sourceOp: Operator, mask: number, datum: number, datumFull: bigint): TreeNode {
  return {
    arg,
    high: isHigh,
    op,
    sourceOp,
    mask,
    datum: (datum & mask) >>> 0,
    datumFull,
    onTrue: undefined,
    onFalse: undefined,
    actionTrue: 0,
    actionTrueSet: false,
    actionFalse: 0,
    actionFalseSet: false,
    prev: undefined,
    next: undefined,
    refs: 0,
  };
}

/** Takes a reference to `n` (libseccomp's _db_node_get). */
function hold<T extends TreeNode | undefined>(n: T): T {
  if (n) n.refs++;
  return n;
}

/** The mask and datum libseccomp compares for a condition: MASKED_EQ's value is the mask. */
function maskAndDatum(c: RuleCondition): { mask: bigint; datum: bigint } {
  return c.op === 'SCMP_CMP_MASKED_EQ' ? { mask: c.value, datum: c.valueTwo } : { mask: (1n << 64n) - 1n, datum: c.value };
}

/**
 * The chain of one rule on a 64-bit arch: each condition tests the upper word,
 * then the lower one (ordering operators: upper `>`, upper `==`, then lower).
 * Conditions come in argument order; one on no bits (MASKED_EQ with mask 0) is dropped.
 */
function chain64(conditions: readonly RuleCondition[], action: number): SyscallRules {
  const result: SyscallRules = { nr: 0, chains: undefined, action };
  let previous: { nodes: TreeNode[]; op: Operator } | undefined;
  for (const c of [...conditions].sort((a, b) => a.index - b.index)) {
    const { mask, datum } = maskAndDatum(c);
    if (c.op === 'SCMP_CMP_MASKED_EQ' && mask === 0n) continue;
    let nodes: TreeNode[];
    if (c.op === 'SCMP_CMP_EQ' || c.op === 'SCMP_CMP_NE' || c.op === 'SCMP_CMP_MASKED_EQ') {
      const op = c.op === 'SCMP_CMP_MASKED_EQ' ? 'masked-eq' : 'eq';
      nodes = [node(c.index, true, op, c.op, high(mask), high(datum), datum), node(c.index, false, op, c.op, low(mask), low(datum), datum)];
      nodes[0]!.onTrue = hold(nodes[1]);
    } else {
      const lowOp = c.op === 'SCMP_CMP_GT' || c.op === 'SCMP_CMP_LE' ? 'gt' : 'ge';
      nodes = [
        node(c.index, true, 'gt', c.op, high(mask), high(datum), datum),
        node(c.index, true, 'eq', c.op, high(mask), high(datum), datum),
        node(c.index, false, lowOp, c.op, low(mask), low(datum), datum),
      ];
      nodes[0]!.onFalse = hold(nodes[1]);
      nodes[1]!.onTrue = hold(nodes[2]);
    }
    if (previous) {
      const [p0, p1, p2] = previous.nodes as [TreeNode, TreeNode, TreeNode];
      switch (previous.op) {
        case 'SCMP_CMP_GT':
        case 'SCMP_CMP_GE':
          p0.onTrue = hold(nodes[0]);
          p2.onTrue = hold(nodes[0]);
          break;
        case 'SCMP_CMP_EQ':
        case 'SCMP_CMP_MASKED_EQ':
          p1.onTrue = hold(nodes[0]);
          break;
        case 'SCMP_CMP_LE':
        case 'SCMP_CMP_LT':
          p1.onFalse = hold(nodes[0]);
          p2.onFalse = hold(nodes[0]);
          break;
        case 'SCMP_CMP_NE':
          p0.onFalse = hold(nodes[0]);
          p1.onFalse = hold(nodes[0]);
          break;
      }
    } else {
      result.chains = hold(nodes[0]);
    }
    previous = { nodes, op: c.op };
  }
  if (previous) {
    const [p0, p1, p2] = previous.nodes as [TreeNode, TreeNode, TreeNode];
    const onTrue = (n: TreeNode): void => {
      n.actionTrue = action;
      n.actionTrueSet = true;
    };
    const onFalse = (n: TreeNode): void => {
      n.actionFalse = action;
      n.actionFalseSet = true;
    };
    switch (previous.op) {
      case 'SCMP_CMP_GT':
      case 'SCMP_CMP_GE':
        onTrue(p0);
        onTrue(p2);
        break;
      case 'SCMP_CMP_LE':
      case 'SCMP_CMP_LT':
        onFalse(p1);
        onFalse(p2);
        break;
      case 'SCMP_CMP_EQ':
      case 'SCMP_CMP_MASKED_EQ':
        onTrue(p1);
        break;
      case 'SCMP_CMP_NE':
        onFalse(p0);
        onFalse(p1);
        break;
    }
  }
  return result;
}

/**
 * The chain of one rule on a 32-bit arch: one node a condition, on the low
 * word only (the value's upper 32 bits are dropped); NE, LT and LE become EQ,
 * GE and GT with the branches swapped.
 */
function chain32(conditions: readonly RuleCondition[], action: number): SyscallRules {
  const result: SyscallRules = { nr: 0, chains: undefined, action };
  let last: TreeNode | undefined;
  let holdsOnTrue = true;
  for (const c of [...conditions].sort((a, b) => a.index - b.index)) {
    const { mask, datum } = maskAndDatum(c);
    if (c.op === 'SCMP_CMP_MASKED_EQ' && low(mask) === 0) continue;
    const inverse = { SCMP_CMP_NE: 'eq', SCMP_CMP_LT: 'ge', SCMP_CMP_LE: 'gt' } as const;
    const op: NodeOp =
      c.op === 'SCMP_CMP_NE' || c.op === 'SCMP_CMP_LT' || c.op === 'SCMP_CMP_LE'
        ? inverse[c.op]
        : c.op === 'SCMP_CMP_MASKED_EQ'
          ? 'masked-eq'
          : c.op === 'SCMP_CMP_EQ'
            ? 'eq'
            : c.op === 'SCMP_CMP_GT'
              ? 'gt'
              : 'ge';
    const n = node(c.index, false, op, c.op, low(mask), low(datum), datum);
    if (last) {
      if (holdsOnTrue) last.onTrue = hold(n);
      else last.onFalse = hold(n);
    } else {
      result.chains = hold(n);
    }
    holdsOnTrue = !(c.op in inverse);
    last = n;
  }
  if (last) {
    if (holdsOnTrue) {
      last.actionTrue = action;
      last.actionTrueSet = true;
    } else {
      last.actionFalse = action;
      last.actionFalseSet = true;
    }
  }
  return result;
}

// ---- Ordering and equality of sibling nodes (libseccomp's _db_chain_lt / _db_chain_eq).

const argRank = (n: TreeNode): number => (n.arg << 1) + (n.high ? 1 : 0);
const opRank = (op: Operator): number =>
  op === 'SCMP_CMP_MASKED_EQ' || op === 'SCMP_CMP_EQ' || op === 'SCMP_CMP_NE' ? 3 : op === 'SCMP_CMP_LE' || op === 'SCMP_CMP_LT' ? 2 : 1;

function less(a: TreeNode, b: TreeNode): boolean {
  if (argRank(a) !== argRank(b)) return argRank(a) < argRank(b);
  if (opRank(a.sourceOp) !== opRank(b.sourceOp)) return opRank(a.sourceOp) < opRank(b.sourceOp);
  // Equal ranks: LT/LE sort larger values first, everything else smaller values first.
  return a.sourceOp === 'SCMP_CMP_LE' || a.sourceOp === 'SCMP_CMP_LT' ? a.datum > b.datum : a.datum < b.datum;
}

const same = (a: TreeNode, b: TreeNode): boolean => argRank(a) === argRank(b) && a.op === b.op && a.datum === b.datum && a.mask === b.mask;
const isLeaf = (n: TreeNode): boolean => n.onTrue === undefined && n.onFalse === undefined;
const isZombie = (n: TreeNode): boolean => isLeaf(n) && !n.actionTrueSet && !n.actionFalseSet;
const first = (n: TreeNode): TreeNode => {
  let at = n;
  while (at.prev) at = at.prev;
  return at;
};

// ---- Releasing references (libseccomp's _db_node_put, _db_tree_put, _db_level_clean), counting freed nodes.

/** A place that holds a node: a local variable, a node's field or a syscall's root. */
interface Slot {
  get(): TreeNode | undefined;
  set(n: TreeNode | undefined): void;
}
const box = (initial: TreeNode | undefined): Slot & { value: TreeNode | undefined } => {
  const b = {
    value: initial,
    get: () => b.value,
    set: (n: TreeNode | undefined) => {
      b.value = n;
    },
  };
  return b;
};
const field = (owner: TreeNode, key: 'onTrue' | 'onFalse'): Slot => ({ get: () => owner[key], set: (n) => (owner[key] = n) });
const rootOf = (rules: SyscallRules): Slot => ({ get: () => rules.chains, set: (n) => (rules.chains = n) });

/** Drops one reference; a node left with none leaves its level and releases its sub-trees. Returns the nodes freed; the slot then holds a neighbour or nothing. */
function release(slot: Slot): number {
  const n = slot.get();
  if (!n) return 0;
  if (--n.refs !== 0) return 0;
  let freed = 0;
  const before = box(n.prev);
  const after = box(n.next);
  if (before.value) before.value.next = undefined;
  if (after.value) after.value.prev = undefined;
  if (before.value) freed += release(before);
  if (after.value) freed += release(after);
  if (before.value) before.value.next = hold(after.value);
  if (after.value) after.value.prev = hold(before.value);
  slot.set(before.value ?? after.value);
  freed += releaseTree(box(n.onTrue));
  freed += releaseTree(box(n.onFalse));
  return freed + 1;
}

/** Releases a tree reference, then the whole level when only its own links hold it. */
function releaseTree(slot: Slot): number {
  let freed = release(slot);
  const n = slot.get();
  if (n) freed += cleanLevel(n);
  return freed;
}

function cleanLevel(n: TreeNode): number {
  const start = first(n);
  for (let at: TreeNode | undefined = start; at; at = at.next) {
    const links = (at.prev ? 1 : 0) + (at.next ? 1 : 0);
    if (at.refs > links) return 0;
  }
  let freed = 0;
  const cursor = box(start);
  while (cursor.value) freed += release(cursor);
  return freed;
}

/** Removes `target` (and any node left with nothing beneath it) from the tree in `slot`. */
function removeNode(slot: Slot, target: TreeNode): number {
  const root = slot.get();
  if (!root) return 0;
  let freed = 0;
  let at: TreeNode | undefined = first(root);
  let found: TreeNode | undefined;
  do {
    if (at === target) {
      found = at;
      break;
    }
    freed += removeNode(field(at!, 'onTrue'), target);
    freed += removeNode(field(at!, 'onFalse'), target);
    if (isZombie(at!)) {
      found = at;
      break;
    }
    at = at!.next;
  } while (at && freed === 0);
  if (!found) return freed;
  if (found === slot.get()) slot.set(found.prev ?? found.next);
  if (found.prev) found.prev.next = found.next;
  if (found.next) found.next.prev = found.prev;
  found.prev = undefined;
  found.next = undefined;
  return freed + release(box(found));
}

/** EEXIST when some action in the tree (any level) differs from `action`. */
function conflicts(tree: TreeNode | undefined, action: number): boolean {
  if (!tree) return false;
  for (let at: TreeNode | undefined = first(tree); at; at = at.next) {
    if (at.actionTrueSet && at.actionTrue !== action) return true;
    if (at.actionFalseSet && at.actionFalse !== action) return true;
    if (conflicts(at.onTrue, action) || conflicts(at.onFalse, action)) return true;
  }
  return false;
}

// ---- Pruning: a new rule that is broader than part of the tree removes that part (libseccomp's _db_tree_prune).

const MATCH = 0x1;
const MATCH_ONCE = 0x2;
const X_FINISHED = 0x10;
const N_FINISHED = 0x20;
const X_PREFIX = 0x100;
const N_PREFIX = 0x200;
const MATCH_SET = MATCH | MATCH_ONCE;
const REDUNDANT = MATCH | X_FINISHED | N_PREFIX;

interface PruneState {
  flags: number;
  readonly action: number;
  readonly rules: SyscallRules;
}

function prune(existing: TreeNode | undefined, incoming: TreeNode | undefined, state: PruneState): number {
  let freed = 0;
  const mine = { ...state };
  const done = (): number => {
    if (mine.flags & MATCH) state.flags |= mine.flags;
    else state.flags &= ~MATCH;
    return freed;
  };
  if (!incoming || !existing) return done();
  if ((state.flags & MATCH_SET) === MATCH_ONCE) return done();
  const n = incoming;
  let x: TreeNode | undefined = first(existing);
  /** Prunes one of x's sub-trees against `against`; returns true when the caller must return now. */
  const descend = (
    key: 'onTrue' | 'onFalse' | 'self',
    against: TreeNode,
    addFlags: number,
    clearMatch: boolean,
    stopOnMatch: boolean,
  ): 'return' | 'next' | 'go' => {
    const held = box(hold(x));
    const inner: PruneState = { flags: clearMatch ? (state.flags & ~MATCH) | addFlags : state.flags | addFlags, action: state.action, rules: state.rules };
    freed += key === 'self' ? prune(x, against, inner) : prune(x![key], against, inner);
    freed += release(held);
    x = held.value;
    if (inner.flags & MATCH) {
      mine.flags |= inner.flags;
      if (stopOnMatch) return 'return';
    }
    return x === undefined ? 'next' : 'go';
  };
  while (x) {
    const following: TreeNode | undefined = x.next;
    let step: 'return' | 'next' | 'go' = 'go';
    if (same(x, n)) {
      mine.flags |= MATCH_SET;
      if (isLeaf(n)) mine.flags |= N_FINISHED;
      if (isLeaf(x)) mine.flags |= X_FINISHED;
      if ((x.actionTrueSet || x.onTrue) && !(n.actionTrueSet || n.onTrue)) return done();
      if ((x.actionFalseSet || x.onFalse) && !(n.actionFalseSet || n.onFalse)) return done();
      if (mine.flags & N_FINISHED && mine.flags & X_FINISHED) {
        if (n.actionTrueSet !== x.actionTrueSet || n.actionTrue !== x.actionTrue) return done();
        if (n.actionFalseSet !== x.actionFalseSet || n.actionFalse !== x.actionFalse) return done();
      }
      if (n.onTrue) step = descend('onTrue', n.onTrue, MATCH_SET, false, false);
      if (step === 'go' && n.onFalse) step = descend('onFalse', n.onFalse, MATCH_SET, false, false);
      if (step === 'go') {
        const agrees = !conflicts(x, mine.action);
        if (agrees && mine.flags & MATCH && mine.flags & N_FINISHED && mine.flags & X_PREFIX) {
          // The new chain is shorter: the existing sub-tree goes.
          freed += removeNode(rootOf(state.rules), x!);
          if (state.rules.chains === undefined) return done();
        } else if (agrees && mine.flags & MATCH && mine.flags & X_FINISHED && mine.flags & N_PREFIX) {
          return done();
        }
      }
    } else if (less(x, n)) {
      if (state.flags & N_PREFIX) return done();
      if (x.onTrue) step = descend('onTrue', n, X_PREFIX, true, true);
      if (step === 'go' && x!.onFalse) step = descend('onFalse', n, X_PREFIX, true, true);
    } else {
      if (state.flags & X_PREFIX) return done();
      if (n.onTrue) step = descend('self', n.onTrue, N_PREFIX, true, true);
      if (step === 'go' && n.onFalse) step = descend('self', n.onFalse, N_PREFIX, true, true);
    }
    if (step === 'return') return done();
    x = following;
  }
  mine.flags &= ~MATCH;
  return done();
}

// ---- Adding: the new chain merges into the tree (libseccomp's _db_tree_add).

function add(slot: Slot, incoming: TreeNode): void {
  let x = slot.get()!;
  const n = incoming;
  for (;;) {
    if (same(x, n)) {
      if (n.actionTrueSet) {
        if (!x.actionTrueSet) {
          if (conflicts(x.onTrue, n.actionTrue)) throw new RuleRefused(-17);
          releaseTree(field(x, 'onTrue'));
          x.onTrue = undefined;
          x.actionTrue = n.actionTrue;
          x.actionTrueSet = true;
        } else if (n.actionTrue !== x.actionTrue) {
          // On the upper word, the larger value's action wins (GT/GE ordering).
          if (n.high && n.datumFull > x.datumFull) x.actionTrue = n.actionTrue;
          if (isLeaf(x) || isLeaf(n)) throw new RuleRefused(-17);
        }
      }
      if (n.actionFalseSet) {
        if (!x.actionFalseSet) {
          if (conflicts(x.onFalse, n.actionFalse)) throw new RuleRefused(-17);
          releaseTree(field(x, 'onFalse'));
          x.onFalse = undefined;
          x.actionFalse = n.actionFalse;
          x.actionFalseSet = true;
        } else if (n.actionFalse !== x.actionFalse) {
          // libseccomp 2.5.4 updates the true action here (GHSA-4q85-33p6-j5g6, fixed in 2.6.1): modelled as it is.
          if (n.high && n.datumFull < x.datumFull) x.actionTrue = n.actionTrue;
          if (isLeaf(x) || isLeaf(n)) throw new RuleRefused(-17);
        }
      }
      if (n.onTrue) {
        if (x.onTrue) add(field(x, 'onTrue'), n.onTrue);
        else if (!x.actionTrueSet) x.onTrue = hold(n.onTrue);
        else return;
      }
      if (n.onFalse) {
        if (x.onFalse) add(field(x, 'onFalse'), n.onFalse);
        else if (!x.actionFalseSet) x.onFalse = hold(n.onFalse);
        else return;
      }
      return;
    }
    // A node the new chain shares between two parents arrives twice. Met again on its level, it merges with
    // itself (above); linked a second time, libseccomp 2.5.4 makes a cycle of the level and never returns.
    const linked = n.prev !== undefined || n.next !== undefined;
    if (!less(x, n)) {
      if (!x.next) {
        if (linked) throw new RuleRefused('hangs');
        n.prev = hold(x);
        x.next = hold(n);
        return;
      }
      x = x.next;
    } else {
      if (linked) throw new RuleRefused('hangs');
      if (x.prev) {
        x.prev.next = hold(n);
        n.prev = x.prev;
        x.prev = hold(n);
        n.next = x;
      } else {
        x.prev = hold(n);
        n.next = hold(x);
      }
      if (slot.get() === x) {
        slot.set(hold(n));
        release(box(x));
      }
      return;
    }
  }
}

/** One arch's rules, by syscall number: what libseccomp's db_filter holds. */
export class ArchRules {
  readonly syscalls = new Map<number, SyscallRules>();

  constructor(readonly is64: boolean) {}

  /**
   * Adds a rule as seccomp_rule_add_array does for this arch (libseccomp's
   * db_rule_add). Throws RuleRefused when libseccomp would refuse it: the
   * runtimes then refuse the whole profile, so the database is not used again.
   */
  add(nr: number, action: number, conditions: readonly RuleCondition[]): void {
    if (new Set(conditions.map((c) => c.index)).size !== conditions.length) throw new RuleRefused(-22);
    const fresh = this.is64 ? chain64(conditions, action) : chain32(conditions, action);
    const existing = this.syscalls.get(nr);
    if (!existing) {
      this.syscalls.set(nr, { ...fresh, nr });
      return;
    }
    let pruned = false;
    for (;;) {
      if (existing.chains === undefined) {
        // An unconditional action stays, unless a prune just emptied the tree: then the new chain replaces it.
        if (pruned) {
          existing.chains = fresh.chains;
          existing.action = fresh.action;
        }
        return;
      }
      if (fresh.chains === undefined) {
        // An unconditional rule replaces every conditional one.
        existing.chains = undefined;
        existing.action = action;
        return;
      }
      const state: PruneState = { flags: 0, action, rules: existing };
      const freed = prune(existing.chains, fresh.chains, state);
      if (freed > 0) {
        pruned = true;
        if (existing.chains === undefined) continue;
      } else if ((state.flags & REDUNDANT) === REDUNDANT) {
        return;
      }
      add(rootOf(existing), fresh.chains);
      // The new chain's own reference goes; its nodes stay where the merge linked them.
      releaseTree(box(fresh.chains));
      return;
    }
  }
}

/**
 * The action a syscall's tree decides for `word(arg, high)`, or undefined when
 * no branch holds one (the filter's default then applies): siblings are
 * tried in order, and a level that holds nothing falls back to the next
 * sibling of the level above, as libseccomp's generated code does.
 */
export function decideTree(tree: TreeNode | undefined, word: (arg: number, high: boolean) => number): number | undefined {
  for (let at = tree ? first(tree) : undefined; at; at = at.next) {
    const value = (word(at.arg, at.high) & at.mask) >>> 0;
    const holds = at.op === 'gt' ? value > at.datum : at.op === 'ge' ? value >= at.datum : value === at.datum;
    const sub = holds ? at.onTrue : at.onFalse;
    if (sub) {
      const decided = decideTree(sub, word);
      if (decided !== undefined) return decided;
      continue;
    }
    if (holds ? at.actionTrueSet : at.actionFalseSet) return holds ? at.actionTrue : at.actionFalse;
  }
  return undefined;
}
