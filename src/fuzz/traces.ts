/**
 * Syscall traces for tests and benchmarks: deterministic streams of 64-byte
 * x86_64 `seccomp_data` records (little-endian), from a seed.
 */
import { archByName } from '../seccomp/arches.js';
import { SECCOMP_DATA_SIZE } from '../seccomp/data.js';
import { syscallNumber } from '../seccomp/syscalls.js';
import { seededRandom, u32 } from './random.js';

const x86_64 = archByName('x86_64')!;

/**
 * Relative frequencies of syscalls in a busy network service (the shape of
 * `strace -c` on a web server: I/O and futex dominate), plus a tail of calls a
 * container profile denies (ptrace, mount, bpf, ...), about 1% in all.
 */
export const REALISTIC_MIX: ReadonlyArray<readonly [string, number]> = [
  ['read', 200],
  ['write', 120],
  ['futex', 100],
  ['epoll_wait', 80],
  ['recvfrom', 60],
  ['sendto', 50],
  ['close', 40],
  ['openat', 40],
  ['fstat', 30],
  ['mmap', 30],
  ['lseek', 20],
  ['ioctl', 20],
  ['newfstatat', 20],
  ['writev', 18],
  ['readv', 12],
  ['poll', 12],
  ['clock_gettime', 12],
  ['getpid', 10],
  ['mprotect', 10],
  ['munmap', 10],
  ['brk', 8],
  ['rt_sigprocmask', 8],
  ['rt_sigaction', 6],
  ['accept4', 6],
  ['epoll_ctl', 6],
  ['getrandom', 5],
  ['socket', 4],
  ['connect', 4],
  ['pread64', 4],
  ['madvise', 4],
  ['fcntl', 4],
  ['getdents64', 3],
  ['clone', 2],
  ['personality', 1],
  ['execve', 1],
  ['exit_group', 1],
  ['wait4', 1],
  ['ptrace', 3],
  ['mount', 2],
  ['bpf', 2],
  ['kexec_load', 1],
  ['init_module', 1],
  ['perf_event_open', 1],
];

/** How record numbers are chosen. */
export type RecordMix = 'realistic' | 'random';

/**
 * `count` x86_64 records. `realistic` draws syscalls from REALISTIC_MIX with
 * small arguments (file descriptors, sizes, flags); `random` draws every field
 * at random (nr among 0..511, args any 64-bit value).
 */
export function generateRecords(count: number, mix: RecordMix, seed = 1): Uint8Array {
  const next = seededRandom(seed);
  const bytes = new Uint8Array(count * SECCOMP_DATA_SIZE);
  const view = new DataView(bytes.buffer);
  const table = REALISTIC_MIX.map(([name, weight]) => [syscallNumber(x86_64, name)!, weight] as const);
  const total = table.reduce((sum, [, w]) => sum + w, 0);
  const draw = (): number => {
    let r = next() * total;
    for (const [nr, w] of table) {
      r -= w;
      if (r < 0) return nr;
    }
    return table[0]![0];
  };
  for (let i = 0; i < count; i++) {
    const at = i * SECCOMP_DATA_SIZE;
    view.setUint32(at, mix === 'realistic' ? draw() : Math.floor(next() * 512), true);
    view.setUint32(at + 4, x86_64.auditArch, true);
    view.setUint32(at + 8, 0x401000 + Math.floor(next() * 0x10000), true);
    view.setUint32(at + 12, 0x7f, true);
    for (let a = 0; a < 6; a++) {
      const lo = mix === 'realistic' ? Math.floor(next() * (a === 0 ? 64 : 4096)) : u32(next);
      view.setUint32(at + 16 + 8 * a, lo, true);
      view.setUint32(at + 20 + 8 * a, mix === 'realistic' ? 0 : u32(next), true);
    }
  }
  return bytes;
}
