/**
 * The profile compiler: a ProfileFilter (libseccomp's databases and runc's
 * stub) to cBPF with libseccomp's layout — the arch dispatch, the x32 checks,
 * one `jeq` per syscall and each syscall's argument tree, 64-bit values as
 * halves — so that it decides every record as the runtime's filter does.
 * The bytes differ from libseccomp's (see docs/semantics.md, "Seccomp
 * profiles"): each tree node reloads its word, syscalls come in number order
 * with `ret` pools between them, and a conditional jump too far for its 8-bit
 * offset goes through an `ja`.
 */
import type { Instruction } from '../instruction.js';
import { jump, stmt } from '../instruction.js';
import { BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W } from '../opcodes.js';
import { X32_SYSCALL_BIT } from '../seccomp/arches.js';
import { halfOffset, SECCOMP_DATA_ARCH, SECCOMP_DATA_ARGS, SECCOMP_DATA_NR } from '../seccomp/data.js';
import { byteOrderOfAuditArch } from '../seccomp/records.js';
import { type ArchFilter, ERRNO_ENOSYS, type ProfileFilter } from './filter.js';
import type { SyscallRules, TreeNode } from './libseccomp-db.js';

/** An instruction whose jump targets are labels, resolved by `layout`. */
type Item =
  | { readonly label: string }
  | { readonly insn: Instruction }
  | { readonly code: number; readonly k: number; readonly onTrue: string; readonly onFalse: string }
  | { readonly always: string };

const LD_W_ABS = BPF_LD | BPF_W | BPF_ABS;
/** How many instructions may come between an unconditional syscall's `jeq` and its pool of `ret`s (a pool holds a few). */
const POOL_REACH = 240;
/** The most syscalls a leaf of the binary tree tests one by one (libseccomp's SYSCALLS_PER_NODE). */
const SYSCALLS_PER_LEAF = 4;

/** Compiles `filter` to a cBPF program (not yet verified: callers verify it, as every program). */
export function compileProfile(filter: ProfileFilter): Instruction[] {
  const items: Item[] = [];
  let labels = 0;
  const fresh = (): string => `L${labels++}`;
  const ret = (value: number): Item => ({ insn: stmt(BPF_RET | BPF_K, value >>> 0) });
  const { defaultAction, badArchAction } = filter.resolved;

  if (filter.stub) {
    // runc's stub: per section arch, ENOSYS above its largest number; everything else goes on to the filter.
    const filterStart = fresh();
    const enosys = fresh();
    items.push({ insn: stmt(LD_W_ABS, SECCOMP_DATA_ARCH) });
    const byAudit = new Map<number, [string, number][]>();
    for (const [info, max] of filter.stub.largest) byAudit.set(info.arch.auditArch, [...(byAudit.get(info.arch.auditArch) ?? []), [info.arch.name, max]]);
    for (const [audit, sections] of byAudit) {
      const here = fresh();
      const next = fresh();
      items.push({ code: BPF_JMP | BPF_JEQ | BPF_K, k: audit, onTrue: here, onFalse: next }, { label: here }, { insn: stmt(LD_W_ABS, SECCOMP_DATA_NR) });
      const max = (name: string): number | undefined => sections.find(([n]) => n === name)?.[1];
      /** `nr > limit` returns ENOSYS, anything else goes on to the filter (no limit: straight on). */
      const limit = (largest: number | undefined): Item =>
        largest === undefined ? { always: filterStart } : { code: BPF_JMP | BPF_JGT | BPF_K, k: largest, onTrue: enosys, onFalse: filterStart };
      if (sections.some(([name]) => name === 's390' || name === 's390x')) {
        // s390's nr 0 is the setup(2) multiplexer: always ENOSYS.
        const nonZero = fresh();
        items.push({ code: BPF_JMP | BPF_JEQ | BPF_K, k: 0, onTrue: enosys, onFalse: nonZero }, { label: nonZero });
      }
      if (sections.some(([name]) => name === 'x86_64' || name === 'x32')) {
        // One audit arch, two ABIs: the x32 bit picks the section (runc tests the bit: `jset`, not `jge`).
        const x32Half = fresh();
        const x86_64Half = fresh();
        items.push({ code: BPF_JMP | BPF_JSET | BPF_K, k: X32_SYSCALL_BIT, onTrue: x32Half, onFalse: x86_64Half });
        items.push({ label: x86_64Half }, limit(max('x86_64')), { label: x32Half }, limit(max('x32')));
      } else {
        items.push(limit(sections[0]![1]));
      }
      items.push({ label: next });
    }
    items.push({ always: filterStart }, { label: enosys }, ret(ERRNO_ENOSYS), { label: filterStart });
  }

  // libseccomp's arch dispatch: x86_64 and x32 share an audit arch and one block.
  items.push({ insn: stmt(LD_W_ABS, SECCOMP_DATA_ARCH) });
  const groups = new Map<number, ArchFilter[]>();
  for (const arch of filter.arches) groups.set(arch.info.arch.auditArch, [...(groups.get(arch.info.arch.auditArch) ?? []), arch]);
  const blocks: [string, ArchFilter[]][] = [...groups.values()].map((group) => [fresh(), group]);
  for (const [label, group] of blocks) {
    const next = fresh();
    items.push({ code: BPF_JMP | BPF_JEQ | BPF_K, k: group[0]!.info.arch.auditArch, onTrue: label, onFalse: next }, { label: next });
  }
  items.push(ret(badArchAction));

  for (const [label, group] of blocks) {
    items.push({ label }, { insn: stmt(LD_W_ABS, SECCOMP_DATA_NR) });
    const x86_64 = group.find((a) => a.info.arch.name === 'x86_64');
    const x32 = group.find((a) => a.info.arch.name === 'x32');
    const badArch = fresh();
    const syscalls = fresh();
    if (x86_64 && !x32) {
      // An x86_64-only filter sends x32 numbers to the bad-arch action, but not -1.
      const high = fresh();
      items.push({ code: BPF_JMP | BPF_JGE | BPF_K, k: X32_SYSCALL_BIT, onTrue: high, onFalse: syscalls });
      items.push({ label: high }, { code: BPF_JMP | BPF_JEQ | BPF_K, k: 0xffffffff, onTrue: syscalls, onFalse: badArch });
    } else if (x32 && !x86_64) {
      items.push({ code: BPF_JMP | BPF_JGE | BPF_K, k: X32_SYSCALL_BIT, onTrue: syscalls, onFalse: badArch });
    }
    items.push({ label: syscalls });
    const bigEndian = byteOrderOfAuditArch(group[0]!.info.arch.auditArch) === 'be';
    const entries = group.flatMap((arch) => [...arch.rules.syscalls.values()]).sort((a, b) => a.nr - b.nr);
    // An unconditional syscall jumps to a `ret` in the next pool; a pool follows every few hundred
    // instructions, so that every such jump stays within a conditional jump's 255.
    let pool = new Map<number, string>();
    let sincePool = 0;
    const flushPool = (): void => {
      if (pool.size === 0) return;
      const after = fresh();
      items.push({ always: after });
      for (const [value, label] of pool) items.push({ label }, ret(value));
      items.push({ label: after });
      pool = new Map();
      sincePool = 0;
    };
    const toDefault = fresh();
    /** Tests `list` one after another; a number none of them has goes to the default. */
    const emitLinear = (list: readonly SyscallRules[]): void => {
      for (const entry of list) {
        const next = fresh();
        if (entry.chains) {
          const body: Item[] = [];
          emitTree(body, entry.chains, defaultAction, bigEndian, fresh);
          const size = body.filter((item) => !('label' in item)).length + 1;
          if (sincePool + size > POOL_REACH) flushPool();
          const start = fresh();
          items.push({ code: BPF_JMP | BPF_JEQ | BPF_K, k: entry.nr >>> 0, onTrue: start, onFalse: next }, { label: start }, ...body);
          sincePool += size;
        } else {
          if (sincePool + 1 > POOL_REACH) flushPool();
          let target = pool.get(entry.action >>> 0);
          if (!target) {
            target = fresh();
            pool.set(entry.action >>> 0, target);
          }
          items.push({ code: BPF_JMP | BPF_JEQ | BPF_K, k: entry.nr >>> 0, onTrue: target, onFalse: next });
          sincePool += 1;
        }
        items.push({ label: next });
      }
      items.push({ always: toDefault });
      sincePool += 1;
    };
    /** libseccomp's optimize level 2: a binary search on the number (`jgt`), then at most four `jeq` a leaf. */
    const emitBinaryTree = (list: readonly SyscallRules[]): void => {
      if (list.length <= SYSCALLS_PER_LEAF) {
        emitLinear(list);
        return;
      }
      const half = list.length >> 1;
      const upper = fresh();
      const lower = fresh();
      items.push({ code: BPF_JMP | BPF_JGT | BPF_K, k: list[half - 1]!.nr >>> 0, onTrue: upper, onFalse: lower }, { label: lower });
      sincePool += 1;
      emitBinaryTree(list.slice(0, half));
      items.push({ label: upper });
      emitBinaryTree(list.slice(half));
    };
    if (filter.resolved.context.optimize === 2) emitBinaryTree(entries);
    else emitLinear(entries);
    items.push({ label: toDefault });
    items.push(ret(defaultAction));
    for (const [value, label] of pool) items.push({ label }, ret(value));
    items.push({ label: badArch }, ret(badArchAction));
  }
  return layout(items);
}

/**
 * One syscall's argument tree, as libseccomp's generated code runs it: a node
 * whose branch holds neither a sub-tree nor an action goes on to the next
 * node of its level, and a level that runs out goes on where its parent's
 * node would have (the default action at the top). Every jump must go
 * forward, so a node's sub-trees are placed right after it, before the next
 * node of its level they may continue to; a sub-tree that several nodes share
 * is placed once for each (libseccomp copies such blocks too).
 */
function emitTree(items: Item[], root: TreeNode, defaultAction: number, bigEndian: boolean, fresh: () => string): void {
  const rets = new Map<number, string>();
  const retLabel = (value: number): string => {
    let label = rets.get(value);
    if (!label) {
      label = fresh();
      rets.set(value, label);
    }
    return label;
  };
  const headOf = (node: TreeNode): TreeNode => {
    let head = node;
    while (head.prev) head = head.prev;
    return head;
  };
  /** Places the level that starts at `head` under `label`, continuing to `after` when it decides nothing. */
  const emitLevel = (head: TreeNode, after: string, label: string): void => {
    const nodes: TreeNode[] = [];
    for (let at: TreeNode | undefined = head; at; at = at.next) nodes.push(at);
    const labels = nodes.map((_, i) => (i === 0 ? label : fresh()));
    nodes.forEach((n, i) => {
      const continuation = i + 1 < nodes.length ? labels[i + 1]! : after;
      const below: { head: TreeNode; label: string }[] = [];
      const target = (sub: TreeNode | undefined, set: boolean, action: number): string => {
        if (!sub) return set ? retLabel(action) : continuation;
        const subLabel = fresh();
        below.push({ head: headOf(sub), label: subLabel });
        return subLabel;
      };
      items.push({ label: labels[i]! });
      const offset = halfOffset(SECCOMP_DATA_ARGS + 8 * n.arg, n.high ? 'hi' : 'lo', bigEndian ? 'be' : 'le');
      items.push({ insn: stmt(LD_W_ABS, offset) });
      if (n.mask !== 0xffffffff) items.push({ insn: stmt(BPF_ALU | BPF_AND | BPF_K, n.mask) });
      const op = n.op === 'gt' ? BPF_JGT : n.op === 'ge' ? BPF_JGE : BPF_JEQ;
      items.push({
        code: BPF_JMP | op | BPF_K,
        k: n.datum,
        onTrue: target(n.onTrue, n.actionTrueSet, n.actionTrue),
        onFalse: target(n.onFalse, n.actionFalseSet, n.actionFalse),
      });
      for (const sub of below) emitLevel(sub.head, continuation, sub.label);
    });
  };
  emitLevel(headOf(root), retLabel(defaultAction), fresh());
  for (const [value, label] of rets) items.push({ label }, { insn: stmt(BPF_RET | BPF_K, value >>> 0) });
}

/**
 * Places `items` and resolves their labels. A conditional jump reaches at
 * most 255 instructions ahead; one that must go further jumps to an `ja`
 * placed right after it, which reaches any distance. Placing those moves
 * other targets, so it repeats until every jump fits.
 */
function layout(input: Item[]): Instruction[] {
  let items = input;
  let trampolines = 0;
  for (;;) {
    const at = new Map<string, number>();
    let pc = 0;
    for (const item of items) {
      if ('label' in item) at.set(item.label, pc);
      else pc++;
    }
    const fixed: Item[] = [];
    let changed = false;
    pc = 0;
    for (const item of items) {
      if ('code' in item) {
        const far = (label: string): boolean => at.get(label)! - pc - 1 > 255;
        if (far(item.onTrue) || far(item.onFalse)) {
          changed = true;
          const viaTrue = far(item.onTrue) ? `T${trampolines++}` : item.onTrue;
          const viaFalse = far(item.onFalse) ? `T${trampolines++}` : item.onFalse;
          fixed.push({ ...item, onTrue: viaTrue, onFalse: viaFalse });
          if (viaTrue !== item.onTrue) fixed.push({ label: viaTrue }, { always: item.onTrue });
          if (viaFalse !== item.onFalse) fixed.push({ label: viaFalse }, { always: item.onFalse });
          pc++;
          continue;
        }
      }
      fixed.push(item);
      if (!('label' in item)) pc++;
    }
    if (changed) {
      items = fixed;
      continue;
    }
    const program: Instruction[] = [];
    const forward = (label: string, from: number): number => {
      const offset = at.get(label)! - from - 1;
      if (offset < 0) throw new Error(`profile compiler: a jump from pc ${from} goes back to ${label} (a bug)`);
      return offset;
    };
    for (const item of items) {
      if ('label' in item) continue;
      const here = program.length;
      if ('insn' in item) program.push(item.insn);
      else if ('always' in item) program.push(stmt(BPF_JMP | BPF_JA, forward(item.always, here)));
      else program.push(jump(item.code, item.k >>> 0, forward(item.onTrue, here), forward(item.onFalse, here)));
    }
    return program;
  }
}
