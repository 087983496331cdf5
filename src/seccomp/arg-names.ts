/**
 * Names for the values of a few syscall arguments that filters commonly
 * check, so that an explanation can say `args[0] == AF_VSOCK` and
 * `(args[0] & (CLONE_NEWUSER|CLONE_NEWNET)) == 0` (values from the kernel's
 * uapi headers: linux/socket.h, linux/sched.h).
 */

/** How an argument's values are named: one name per value, or one per bit. */
export type ArgNames =
  | { readonly kind: 'value'; readonly names: ReadonlyMap<number, string> }
  | { readonly kind: 'bits'; readonly names: ReadonlyMap<number, string> };

// biome-ignore format: a table, ten to a line
const ADDRESS_FAMILIES = [
  'AF_UNSPEC', 'AF_UNIX', 'AF_INET', 'AF_AX25', 'AF_IPX', 'AF_APPLETALK', 'AF_NETROM', 'AF_BRIDGE', 'AF_ATMPVC', 'AF_X25',
  'AF_INET6', 'AF_ROSE', 'AF_DECnet', 'AF_NETBEUI', 'AF_SECURITY', 'AF_KEY', 'AF_NETLINK', 'AF_PACKET', 'AF_ASH', 'AF_ECONET',
  'AF_ATMSVC', 'AF_RDS', 'AF_SNA', 'AF_IRDA', 'AF_PPPOX', 'AF_WANPIPE', 'AF_LLC', 'AF_IB', 'AF_MPLS', 'AF_CAN', 'AF_TIPC',
  'AF_BLUETOOTH', 'AF_IUCV', 'AF_RXRPC', 'AF_ISDN', 'AF_PHONET', 'AF_IEEE802154', 'AF_CAIF', 'AF_ALG', 'AF_NFC', 'AF_VSOCK',
  'AF_KCM', 'AF_QIPCRTR', 'AF_SMC', 'AF_XDP', 'AF_MCTP',
];

// biome-ignore format: a table
const CLONE_FLAGS: readonly [number, string][] = [
  [0x100, 'CLONE_VM'], [0x200, 'CLONE_FS'], [0x400, 'CLONE_FILES'], [0x800, 'CLONE_SIGHAND'], [0x1000, 'CLONE_PIDFD'],
  [0x2000, 'CLONE_PTRACE'], [0x4000, 'CLONE_VFORK'], [0x8000, 'CLONE_PARENT'], [0x10000, 'CLONE_THREAD'],
  [0x20000, 'CLONE_NEWNS'], [0x40000, 'CLONE_SYSVSEM'], [0x80000, 'CLONE_SETTLS'], [0x100000, 'CLONE_PARENT_SETTID'],
  [0x200000, 'CLONE_CHILD_CLEARTID'], [0x400000, 'CLONE_DETACHED'], [0x800000, 'CLONE_UNTRACED'],
  [0x1000000, 'CLONE_CHILD_SETTID'], [0x2000000, 'CLONE_NEWCGROUP'], [0x4000000, 'CLONE_NEWUTS'], [0x8000000, 'CLONE_NEWIPC'],
  [0x10000000, 'CLONE_NEWUSER'], [0x20000000, 'CLONE_NEWPID'], [0x40000000, 'CLONE_NEWNET'], [0x80000000, 'CLONE_IO'],
];

const families: ArgNames = { kind: 'value', names: new Map(ADDRESS_FAMILIES.map((name, value) => [value, name])) };
const cloneFlags: ArgNames = { kind: 'bits', names: new Map(CLONE_FLAGS) };

/** By syscall name, then argument index. */
const BY_SYSCALL: Readonly<Record<string, Readonly<Record<number, ArgNames>>>> = {
  socket: { 0: families },
  socketpair: { 0: families },
  clone: { 0: cloneFlags },
  unshare: { 0: cloneFlags },
  setns: { 1: cloneFlags },
};

/** The names of argument `index` of syscall `syscall` (x32's by the same name), if cbpf has them. */
export function argNames(syscall: string, index: number): ArgNames | undefined {
  return BY_SYSCALL[syscall.replace(/^x32 /, '')]?.[index];
}

/** `value` in names: a value's name, or bits joined by `|` when every bit has one; undefined otherwise. */
export function nameValue(names: ArgNames, value: number): string | undefined {
  if (names.kind === 'value') return names.names.get(value);
  if (value === 0) return '0';
  const parts: string[] = [];
  for (let bit = 1; bit !== 0 && bit <= value; bit = (bit << 1) >>> 0) {
    if ((value & bit) === 0) continue;
    const name = names.names.get(bit);
    if (name === undefined) return undefined;
    parts.push(name);
  }
  return parts.length === 1 ? parts[0] : `(${parts.join('|')})`;
}
