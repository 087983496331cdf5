import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/codecs/asm.js';
import { parseC } from '../../src/codecs/c.js';

const EXPECTED = assemble(`
  ld [arch]
  jne #AUDIT_ARCH_X86_64, kill
  ld [nr]
  jeq #openat, allow
  ld [args[1].hi]
  ret ERRNO(EPERM)
allow: ret ALLOW
kill: ret KILL_PROCESS`);

describe('parseC', () => {
  it('reads tcpdump -dd lines', () => {
    const text = `{ 0x20, 0, 0, 0x00000004 },\n{ 0x15, 0, 5, 0xc000003e },\n{ 0x20, 0, 0, 0x00000000 },
{ 0x15, 2, 0, 0x00000101 },\n{ 0x20, 0, 0, 0x0000001c },\n{ 0x06, 0, 0, 0x00050001 },
{ 0x06, 0, 0, 0x7fff0000 },\n{ 0x06, 0, 0, 0x80000000 },`;
    expect(parseC(text)).toEqual(EXPECTED);
  });

  it('reads the BPF_STMT / BPF_JUMP macro form inside a declaration, with kernel names', () => {
    const text = `#include <linux/seccomp.h>
      /* the usual hand-written filter */
      static struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (offsetof(struct seccomp_data, nr))),
        BPF_JUMP(BPF_JMP+BPF_JEQ+BPF_K, __NR_openat, 2, 0), // allow openat
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]) + 4),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      };
      struct sock_fprog prog = { .len = 8, .filter = filter };`;
    expect(parseC(text)).toEqual(EXPECTED);
  });

  it('resolves __NR_ names for the arch checked on the way', () => {
    const text = `BPF_STMT(BPF_LD|BPF_W|BPF_ABS, 4), BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, AUDIT_ARCH_AARCH64, 0, 1),
      BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, SYS_openat, 0, 0), BPF_STMT(BPF_RET|BPF_K, 0)`;
    expect(parseC(text)[2]!.k).toBe(56);
  });

  it.each([
    ['{ 0x20, 0, 0 },', 'syntax', 1, 1],
    ['{ 0x20, 0, 256, 0 },', 'out-of-range', 1, 12],
    ['{ 0x20, 0, 0, 0x100000000 },', 'out-of-range', 1, 15],
    ['{ 0x10000, 0, 0, 0 },', 'out-of-range', 1, 3],
    ['BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_NOPE)', 'unknown-name', 1, 27],
    ['{ 0x06, 0, 0, 0 },\n{ 0x06, 0, 0, 0 } junk', 'syntax', 2, 19],
    ['BPF_JUMP(BPF_JMP | BPF_JEQ, __NR_nosuch, 0, 0), BPF_STMT(0x06, 0)', 'unknown-name', 1, 29],
  ])('rejects %j with %s at %i:%i', (text, code, line, column) => {
    expect(() => parseC(text)).toThrow(expect.objectContaining({ code, line, column }));
  });
});
