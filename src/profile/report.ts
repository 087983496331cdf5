/**
 * What became of a profile on its way to the kernel, for `cbpf info`: the
 * context it was resolved in, the entries kept and dropped and why, names
 * skipped, conditions split into ORed rules, the companions libseccomp adds
 * on multiplexers, names an arch lacks, and runc's stub.
 */
import { describeReturnValue } from '../seccomp/actions.js';
import type { ProfileFilter } from './filter.js';
import type { DropReason } from './resolve.js';

/** The resolution of one profile, as plain data (JSON-ready). */
export interface ResolutionReport {
  readonly engine: string;
  readonly runtime: string;
  readonly hostArch: string;
  readonly kernel: string;
  readonly caps: readonly string[];
  readonly arches: readonly string[];
  readonly defaultAction: string;
  readonly badArchAction: string;
  /** Rules the runtime adds to libseccomp (after splits, before companions). */
  readonly rules: number;
  readonly entries: { readonly total: number; readonly kept: number };
  readonly dropped: readonly { readonly source: string; readonly names: readonly string[]; readonly reason: DropReason }[];
  readonly skipped: readonly { readonly source: string; readonly name: string; readonly reason: DropReason }[];
  readonly split: readonly { readonly source: string; readonly names: readonly string[]; readonly rules: number }[];
  readonly companions: readonly {
    readonly source: string;
    readonly name: string;
    readonly arch: string;
    readonly multiplexer: string;
    readonly call: number;
  }[];
  readonly notOnArch: readonly { readonly arch: string; readonly names: readonly string[] }[];
  /** runc's stub: per arch, the largest number it lets through; null without a stub. */
  readonly stub: readonly { readonly arch: string; readonly largest: number }[] | null;
  readonly ignoredFields: readonly string[];
}

/** What each drop reason means, in words. */
export const DROP_REASONS: Readonly<Record<DropReason, string>> = {
  'arch-excluded': 'excluded on this host arch',
  'arch-not-included': 'only for other host arches',
  'caps-excluded': 'excluded by a capability the container has',
  'caps-not-included': 'needs a capability the container lacks',
  'kernel-too-old': 'needs a newer kernel',
  'kernel-excluded': 'excluded on this kernel',
  'default-action': 'same action as the default (the runtime skips it)',
  'unknown-syscall': 'unknown to libseccomp (the runtime skips it)',
};

/** The resolution report of `filter`. */
export function resolutionReport(filter: ProfileFilter): ResolutionReport {
  const { resolved } = filter;
  const { context } = resolved;
  const notOnArch = new Map<string, string[]>();
  for (const [name, arches] of filter.missingOn) for (const arch of arches) notOnArch.set(arch, [...(notOnArch.get(arch) ?? []), name]);
  return {
    engine: resolved.engine,
    runtime: context.runtime,
    hostArch: context.hostArch,
    kernel: `${context.kernel.major}.${context.kernel.minor}`,
    caps: [...context.caps].sort(),
    arches: resolved.arches.map((a) => a.arch.name),
    defaultAction: describeReturnValue(resolved.defaultAction),
    badArchAction: describeReturnValue(resolved.badArchAction),
    rules: resolved.rules.length,
    entries: { total: resolved.entries.length, kept: resolved.entries.filter((e) => e.dropped === undefined).length },
    dropped: resolved.entries.flatMap((e) => (e.dropped ? [{ source: e.source, names: e.names, reason: e.dropped }] : [])),
    skipped: resolved.entries.flatMap((e) => e.skipped.map((s) => ({ source: e.source, ...s }))),
    split: resolved.entries.flatMap((e) => (e.splitInto ? [{ source: e.source, names: e.names, rules: e.splitInto }] : [])),
    companions: filter.companions.map((c) => ({ ...c })),
    notOnArch: [...notOnArch].map(([arch, names]) => ({ arch, names })),
    stub: filter.stub ? [...filter.stub.largest].map(([info, largest]) => ({ arch: info.arch.name, largest })) : null,
    ignoredFields: resolved.ignoredFields,
  };
}
