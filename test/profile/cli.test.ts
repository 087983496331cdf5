/**
 * Seccomp profiles through the CLI: every FILTER command takes a Docker or
 * containers-common profile (or an OCI config.json) and compiles it as the
 * container would load it. Bad profiles are one line naming the JSON path
 * and exit 1; bad context options are usage errors (exit 2); `cbpf info`
 * reports the resolution; eval on binary, JSON-line and strace traces decides
 * as the compiled filter does. Every run passes --kernel 6.18 so that no
 * result depends on the running kernel.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProfileText, contextOf, decideProfile } from '../../src/profile/index.js';
import { decodeSeccompData } from '../../src/seccomp/records.js';
import { type CliRun, firstDifference, runCli } from '../helpers.js';
import { itWhenAvailable, kernelIt, straceMissing } from '../system-deps.js';

const DOCKER = 'profiles/docker-20.10.24.json';
const COMMON = 'profiles/containers-common-0.50.1.json';
/** Options every run on a profile takes: the kernel version, so that nothing depends on the running kernel. */
const KERNEL = ['--kernel', '6.18'];
/** containers-common as podman resolves it. */
const PODMAN = ['--container-engine', 'podman'];

const ACTIONS =
  'SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY';
const OPERATORS = 'SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ';
const ARCHES =
  'SCMP_ARCH_X86, SCMP_ARCH_X86_64, SCMP_ARCH_X32, SCMP_ARCH_ARM, SCMP_ARCH_AARCH64, SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32, ' +
  'SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_PPC, SCMP_ARCH_PPC64, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390, ' +
  'SCMP_ARCH_S390X, SCMP_ARCH_PARISC, SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64';

/** A profile text: ERRNO by default, with `fields` added (or replacing defaultAction). */
const profile = (fields: Record<string, unknown> = {}): string => JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', ...fields });
/** A condition `args[index] op value`. */
const arg = (index: number, op: string, value: number) => ({ index, value, op: `SCMP_CMP_${op}` });
/** One entry on getppid. */
const getppid = (action: string, ...args: unknown[]) => ({ names: ['getppid'], action: `SCMP_ACT_${action}`, args });

/**
 * libseccomp 2.5.4 never returns from adding the second rule (both ERRNO,
 * default ALLOW): checked against the real library, which hangs there.
 */
const HANGS = profile({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [getppid('ERRNO', arg(0, 'LE', 5), arg(1, 'EQ', 1)), getppid('ERRNO', arg(0, 'LE', 5), arg(2, 'EQ', 1))],
});

interface BadProfile {
  readonly what: string;
  readonly text: string;
  readonly options?: readonly string[];
  /** The whole line on standard error, without its newline. */
  readonly line: string;
}

const BAD_PROFILES: readonly BadProfile[] = [
  {
    what: 'an unknown operator',
    text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [arg(0, 'FOO', 1)] }] }),
    line: `cbpf: bad.json: syscalls[0].args[0].op: unknown operator "SCMP_CMP_FOO" (one of ${OPERATORS})`,
  },
  {
    what: 'an unknown action',
    text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_DENY' }] }),
    line: `cbpf: bad.json: syscalls[0].action: unknown action "SCMP_ACT_DENY" (one of ${ACTIONS})`,
  },
  {
    what: 'an unknown default action',
    text: profile({ defaultAction: 'SCMP_ACT_DENY' }),
    line: `cbpf: bad.json: defaultAction: unknown action "SCMP_ACT_DENY" (one of ${ACTIONS})`,
  },
  {
    what: 'an unknown arch',
    text: profile({ architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_FOO'] }),
    line: `cbpf: bad.json: architectures[1]: unknown arch "SCMP_ARCH_FOO" (one of ${ARCHES})`,
  },
  {
    what: 'argument index 6',
    text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [arg(6, 'EQ', 1)] }] }),
    line: 'cbpf: bad.json: syscalls[0].args[0].index: 6 does not fit: must be an argument index from 0 to 5',
  },
  {
    // Without --input-format, a JSON object with neither defaultAction nor seccomp is taken for a stack file.
    what: 'no defaultAction (read as a profile)',
    text: JSON.stringify({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }),
    options: ['--input-format', 'profile'],
    line: 'cbpf: bad.json: missing defaultAction: a profile must say what happens to the syscalls it does not name',
  },
  {
    what: 'no defaultAction in an OCI config.json (detected by its seccomp object)',
    text: JSON.stringify({ ociVersion: '1.0.2', linux: { seccomp: { syscalls: [] } } }),
    line: 'cbpf: bad.json: linux.seccomp: missing defaultAction: a profile must say what happens to the syscalls it does not name',
  },
  {
    what: 'value 2^64',
    text: '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":18446744073709551616,"op":"SCMP_CMP_EQ"}]}]}',
    line: 'cbpf: bad.json: syscalls[0].args[0].value: 18446744073709551616 does not fit: must be an unsigned 64-bit integer',
  },
  {
    what: 'invalid JSON, at its line and column',
    text: '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n}\n',
    line: 'cbpf: bad.json:3:1: not valid JSON: a property must follow ",", not "}"',
  },
  {
    what: 'both name and names',
    text: profile({ syscalls: [{ name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW' }] }),
    line: 'cbpf: bad.json: syscalls[0]: has both name and names: use one',
  },
  {
    what: 'an empty names list',
    text: profile({
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: [], action: 'SCMP_ACT_ALLOW' },
      ],
    }),
    line: 'cbpf: bad.json: syscalls[1]: names no syscall (give names or name)',
  },
  {
    what: 'both architectures and archMap',
    text: profile({ architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: [] }] }),
    line: 'cbpf: bad.json: has both architectures and archMap: use one',
  },
  {
    what: 'a minKernel that is not MAJOR.MINOR',
    text: profile({ syscalls: [{ names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }] }),
    line: 'cbpf: bad.json: syscalls[0].includes.minKernel: invalid kernel version "4" (expected MAJOR.MINOR, each 0 to 255, as "5.8")',
  },
  {
    what: 'errnoRet past SECCOMP_RET_DATA',
    text: profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] }),
    line: 'cbpf: bad.json: syscalls[0].errnoRet: 70000 does not fit: must be an integer from 0 to 65535',
  },
  {
    // Checked against libseccomp 2.5.4: seccomp_rule_add returns -EEXIST for the second rule (the other order is accepted).
    what: 'a libseccomp refusal: a broader rule with another action after a narrower one (EEXIST)',
    text: profile({ syscalls: [getppid('TRAP', arg(0, 'EQ', 1), arg(1, 'EQ', 2)), getppid('ALLOW', arg(0, 'EQ', 1))] }),
    line: 'cbpf: bad.json: syscalls[1]: libseccomp refuses the rule for getppid: it overlaps an earlier rule for the same syscall with another action (EEXIST), so runc would not start the container',
  },
  {
    what: 'a libseccomp refusal: the same condition with two actions (EEXIST), under crun',
    text: profile({ syscalls: [getppid('ALLOW', arg(0, 'EQ', 1)), getppid('TRAP', arg(0, 'EQ', 1))] }),
    options: ['--runtime', 'crun'],
    line: 'cbpf: bad.json: syscalls[1]: libseccomp refuses the rule for getppid: it overlaps an earlier rule for the same syscall with another action (EEXIST), so crun would not start the container',
  },
  {
    what: 'the libseccomp 2.5.4 hang',
    text: HANGS,
    line: 'cbpf: bad.json: syscalls[1]: libseccomp 2.5.4 never returns from adding the rule for getppid (a cycle in its rule merge), so runc would hang',
  },
  {
    what: 'an errno libseccomp refuses for the default action',
    text: profile({ defaultErrnoRet: 4095 }),
    options: PODMAN,
    line: 'cbpf: bad.json: libseccomp refuses the default action ERRNO(4095): an errno must be below 4095 (EINVAL), so runc would not start the container',
  },
  {
    what: 'an arch of the other byte order (EDOM)',
    text: profile({ architectures: ['SCMP_ARCH_S390X'] }),
    line: "cbpf: bad.json: libseccomp refuses the arch SCMP_ARCH_S390X: its byte order is not the host's (x86_64; EDOM), so runc would not start the container",
  },
  {
    what: 'NOTIFY on write under runc',
    text: profile({ syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }] }),
    line: 'cbpf: bad.json: syscalls[0]: runc refuses SCMP_ACT_NOTIFY on write (the container could not write to its listener)',
  },
  {
    what: 'NOTIFY as the default action under runc',
    text: profile({ defaultAction: 'SCMP_ACT_NOTIFY' }),
    line: 'cbpf: bad.json: defaultAction: runc refuses SCMP_ACT_NOTIFY as the default action',
  },
  {
    what: 'flags under podman with runc',
    text: profile({ flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }),
    options: PODMAN,
    line: 'cbpf: bad.json: flags: runc 1.1 refuses seccomp flags (SECCOMP_FILTER_FLAG_LOG)',
  },
  {
    what: 'an errno on ALLOW in an OCI config under crun',
    text: JSON.stringify({ linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 } } }),
    options: ['--runtime', 'crun'],
    line: 'cbpf: bad.json: defaultErrnoRet: crun refuses an errno for SCMP_ACT_ALLOW (only ERRNO and TRACE take one)',
  },
];

/** `cbpf COMMAND bad.json --kernel 6.18 OPTIONS...` on `text`. */
const runBad = (command: string, text: string, options: readonly string[] = []): Promise<CliRun> =>
  runCli([command, 'bad.json', ...KERNEL, ...options, ...(command === 'eval' ? ['--records', '-'] : [])], { files: { 'bad.json': text } });

describe('a table of bad-profile inputs, each with its one-line error and exit 1', () => {
  it.each(BAD_PROFILES.flatMap((c) => ['info', 'disasm'].map((command) => ({ ...c, command }))))(
    '$command: $what',
    async ({ command, text, options, line }) => {
      const run = await runBad(command, text, options);
      expect(run.stderr).toBe(`${line}\n`);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
    },
  );

  it.each(['emu', 'eval', 'explain', 'audit', 'convert', 'compile'])('%s stops at a refused profile with the same line, writing nothing', async (command) => {
    const extra = { emu: ['--nr', 'getppid'], convert: ['--to', 'raw', '-o', 'out'], compile: ['-o', 'out'] }[command as string] ?? [];
    const run = await runBad(command, BAD_PROFILES.find((c) => c.what.includes('broader rule'))!.text, extra);
    expect(run.stderr).toBe(
      'cbpf: bad.json: syscalls[1]: libseccomp refuses the rule for getppid: it overlaps an earlier rule for the same syscall with another action (EEXIST), so runc would not start the container\n',
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.files.has('out')).toBe(false);
  });

  it('verify gives a refused profile its verdict line and goes on to the next file', async () => {
    const run = await runCli(['verify', 'bad.json', 'good.json', ...KERNEL], { files: { 'bad.json': HANGS, 'good.json': profile() } });
    expect(run.stdout).toBe(
      'bad.json: syscalls[1]: libseccomp 2.5.4 never returns from adding the rule for getppid (a cycle in its rule merge), so runc would hang\ngood.json: ok\n',
    );
    expect(run.stderr).toBe('cbpf: 1 of 2 rejected\n');
    expect(run.code).toBe(1);
  });

  it('the executable answers the profile that hangs libseccomp with its line, in time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-profile-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, HANGS);
    const result = spawnSync('node', ['bin/cbpf.js', 'info', file, ...KERNEL], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe(
      `cbpf: ${file}: syscalls[1]: libseccomp 2.5.4 never returns from adding the rule for getppid (a cycle in its rule merge), so runc would hang\n`,
    );
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
  });

  it.each([
    { what: 'an unknown runtime', options: ['--runtime', 'lxc', ...KERNEL], error: '--runtime: unknown runtime "lxc" (runc or crun)' },
    { what: 'an unknown capability in --caps', options: ['--caps', 'CAP_NOPE', ...KERNEL], error: '--caps: unknown capability "CAP_NOPE"' },
    { what: 'an unknown capability in --cap-add', options: ['--cap-add', 'CAP_NOPE', ...KERNEL], error: '--cap-add: unknown capability "CAP_NOPE"' },
    {
      what: 'a capability Docker 20.10 does not know',
      options: ['--cap-add', 'CAP_BPF', ...KERNEL],
      error: '--cap-add: unknown capability "CAP_BPF" for docker (it knows up to CAP_AUDIT_READ)',
    },
    {
      what: 'an unknown container engine',
      options: ['--container-engine', 'lxc', ...KERNEL],
      error: '--container-engine: unknown container engine "lxc" (docker, podman or none)',
    },
    {
      what: 'an unknown host arch',
      options: ['--host-arch', 'sparc', ...KERNEL],
      error: '--host-arch: unknown host arch "sparc" (one of i386, x86_64, arm, aarch64, mips, mips64, mipsel, mips64el, ppc64, ppc64le, s390x, riscv64)',
    },
    { what: 'a kernel version that is none', options: ['--kernel', 'x'], error: '--kernel: invalid kernel version "x" (expected MAJOR.MINOR, as 6.1)' },
  ])('a bad context option is a usage error, exit 2: $what', async ({ options, error }) => {
    const run = await runCli(['info', DOCKER, ...options]);
    expect(run.stderr).toBe(`cbpf: ${error}\nTry 'cbpf info --help'.\n`);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });
});

describe('cbpf info on a profile: the resolution report', () => {
  const stubLine = "  runc's ENOSYS stub: x86_64 nr > 449, i386 nr > 449, x32 nr > 0x40000223";

  it('says what Docker and runc keep of the Docker profile on an x86_64 host, and why the rest goes', async () => {
    const run = await runCli(['info', DOCKER, ...KERNEL]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `${DOCKER}: a profile, resolved by docker for runc, host x86_64, kernel 6.18, 14 capabilities`,
      '  arches: x86_64, i386, x32; default ERRNO(1); other arches KILL_THREAD',
      '  entries: 12 of 28 kept, giving 357 rules for libseccomp',
    ]);
    expect(lines).toEqual(
      expect.arrayContaining([
        '  dropped syscalls[7] (sync_file_range2): only for other host arches',
        '  dropped syscalls[12] (open_by_handle_at): needs a capability the container lacks',
        '  dropped syscalls[13] (bpf, clone, clone3, fanotify_init, fsconfig, fsmount, fsopen, fspick and 16 more): needs a capability the container lacks',
        '  dropped syscalls[15] (clone): only for other host arches',
        '  dropped syscalls[22] (kcmp, pidfd_getfd, process_madvise, process_vm_readv, process_vm_writev, ptrace): needs a capability the container lacks',
        '  i386 socketcall: companion rules for accept, accept4, bind, connect, getpeername, getsockname, getsockopt, listen and 12 more (the argument-0 condition becomes the call number)',
        '  i386 ipc: companion rules for msgctl, msgget, msgrcv, msgsnd, semctl, semget, semop, semtimedop and 4 more (the argument-0 condition becomes the call number)',
        '  not on i386: epoll_ctl_old, epoll_wait_old, newfstatat',
        stubLine,
      ]),
    );
    // syscalls[14] (clone without namespaces) is for containers without CAP_SYS_ADMIN: kept.
    expect(run.stdout).not.toContain('dropped syscalls[14]');
    // Then the summary of the compiled filter, as for any filter.
    expect(run.stdout).toMatch(
      new RegExp(`\n\n${DOCKER.replace(/\./g, '\\.')}: profile, \\d+ instructions \\(\\d+ reachable\\)\narches checked: AUDIT_ARCH_X86_64, AUDIT_ARCH_I386\n`),
    );
  });

  it('--json has the resolution as an object', async () => {
    const run = await runCli(['info', DOCKER, ...KERNEL, '--json']);
    expect(run.code).toBe(0);
    const info = JSON.parse(run.stdout);
    expect(info).toMatchObject({ file: DOCKER, format: 'profile', arches: ['AUDIT_ARCH_X86_64', 'AUDIT_ARCH_I386'] });
    expect(info.resolution).toMatchObject({
      engine: 'docker',
      runtime: 'runc',
      hostArch: 'x86_64',
      kernel: '6.18',
      arches: ['x86_64', 'i386', 'x32'],
      defaultAction: 'ERRNO(1)',
      badArchAction: 'KILL_THREAD',
      rules: 357,
      entries: { total: 28, kept: 12 },
      skipped: [],
      split: [],
      stub: [
        { arch: 'x86_64', largest: 449 },
        { arch: 'i386', largest: 449 },
        { arch: 'x32', largest: 0x40000223 },
      ],
      ignoredFields: [],
    });
    expect(info.resolution.caps).toHaveLength(14);
    expect(info.resolution.caps).toContain('CAP_NET_RAW');
    expect(info.resolution.caps).not.toContain('CAP_SYS_ADMIN');
    expect(info.resolution.dropped).toContainEqual({ source: 'syscalls[12]', names: ['open_by_handle_at'], reason: 'caps-not-included' });
    expect(info.resolution.dropped).toContainEqual({ source: 'syscalls[15]', names: ['clone'], reason: 'arch-not-included' });
    expect(info.resolution.dropped.map((d: { source: string }) => d.source)).toContain('syscalls[13]');
    expect(info.resolution.companions).toContainEqual({ source: 'syscalls[0]', name: 'socket', arch: 'i386', multiplexer: 'socketcall', call: 1 });
    expect(info.resolution.companions).toContainEqual({ source: 'syscalls[0]', name: 'semop', arch: 'i386', multiplexer: 'ipc', call: 1 });
    expect(info.resolution.notOnArch).toContainEqual({ arch: 'i386', names: ['epoll_ctl_old', 'epoll_wait_old', 'newfstatat'] });
  });

  it('--cap-add CAP_SYS_ADMIN keeps syscalls[13] and drops the clone entries that exclude it', async () => {
    const run = await runCli(['info', DOCKER, ...KERNEL, '--cap-add', 'CAP_SYS_ADMIN']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`${DOCKER}: a profile, resolved by docker for runc, host x86_64, kernel 6.18, 15 capabilities`);
    expect(run.stdout).not.toContain('dropped syscalls[13]');
    expect(run.stdout).toContain('  dropped syscalls[14] (clone): excluded by a capability the container has\n');
    const json = JSON.parse((await runCli(['info', DOCKER, ...KERNEL, '--cap-add', 'sys_admin', '--json'])).stdout);
    expect(json.resolution.caps).toContain('CAP_SYS_ADMIN');
    expect(json.resolution.dropped.map((d: { source: string }) => d.source)).not.toContain('syscalls[13]');
  });

  it('--runtime crun has no stub line (crun adds no ENOSYS stub)', async () => {
    const run = await runCli(['info', DOCKER, ...KERNEL, '--runtime', 'crun']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`${DOCKER}: a profile, resolved by docker for crun, host x86_64, kernel 6.18, 14 capabilities`);
    expect(run.stdout).not.toContain('ENOSYS stub');
    expect(JSON.parse((await runCli(['info', DOCKER, ...KERNEL, '--runtime', 'crun', '--json'])).stdout).resolution.stub).toBeNull();
  });

  it('reports containers-common as podman resolves it: 11 capabilities, default ENOSYS', async () => {
    const run = await runCli(['info', COMMON, ...KERNEL, ...PODMAN]);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').slice(0, 2)).toEqual([
      `${COMMON}: a profile, resolved by podman for runc, host x86_64, kernel 6.18, 11 capabilities`,
      '  arches: x86_64, i386, x32; default ERRNO(38); other arches KILL_THREAD',
    ]);
    expect(run.stdout).toContain("  runc's ENOSYS stub: x86_64 nr > 448, i386 nr > 448, x32 nr > 0x40000223\n");
  });

  it('an OCI config.json is resolved by the runtime alone', async () => {
    const config = JSON.stringify({
      ociVersion: '1.0.2',
      linux: {
        seccomp: { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }] },
      },
    });
    const run = await runCli(['info', 'config.json', ...KERNEL], { files: { 'config.json': config } });
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').slice(0, 4)).toEqual([
      'config.json: a profile, taken by runc as it is (no engine), host x86_64',
      '  arches: x86_64; default ERRNO(1); other arches KILL_THREAD',
      '  entries: 1 of 1 kept, giving 2 rules for libseccomp',
      "  runc's ENOSYS stub: x86_64 nr > 1",
    ]);
  });
});

/** A realistic trace of 20,000 x86_64 records in three forms: binary, JSON lines and an strace log of the same calls. */
async function makeTraces(): Promise<{ bin: Uint8Array; jsonl: string; strace: string }> {
  const bin = (await runCli(['records', '--generate', '20000', '-o', 't.bin'])).files.get('t.bin')!;
  const jsonl = new TextDecoder().decode((await runCli(['records', '--generate', '20000', '--format', 'jsonl', '-o', 't.jsonl'])).files.get('t.jsonl')!);
  // strace -f -e raw=all: a pid, the name (syscall_0xN where strace has none), the raw arguments in hex, the result.
  const strace = jsonl
    .trim()
    .split('\n')
    .map((line, i) => {
      const { nr, args } = JSON.parse(line) as { nr: string | number; args: (number | string)[] };
      const name = typeof nr === 'string' ? nr : `syscall_0x${nr.toString(16)}`;
      return `${1000 + (i % 3)} ${name}(${args.map((a) => `0x${BigInt(a).toString(16)}`).join(', ')}) = 0`;
    })
    .join('\n');
  return { bin, jsonl, strace: `${strace}\n` };
}

let traces: ReturnType<typeof makeTraces> | undefined;
/** The traces as files for runCli, made once. */
const traceFiles = async (): Promise<Record<string, string | Uint8Array>> => {
  traces ??= makeTraces();
  const { bin, jsonl, strace } = await traces;
  return { 't.bin': bin, 't.jsonl': jsonl, 't.strace': strace };
};

const TRACE_KINDS = [
  { kind: 'binary records', file: 't.bin' },
  { kind: 'JSON lines', file: 't.jsonl' },
  { kind: 'an strace log', file: 't.strace' },
];

describe('cbpf eval PROFILE --records TRACE', () => {
  it.each(TRACE_KINDS)('decides $kind as the filter `convert --to raw` writes', async ({ file }) => {
    const files = await traceFiles();
    const compiled = await runCli(['convert', DOCKER, ...KERNEL, '--to', 'raw', '-o', 'compiled.bpf']);
    expect(compiled.code).toBe(0);
    files['compiled.bpf'] = compiled.files.get('compiled.bpf')!;
    const fromProfile = await runCli(['eval', DOCKER, ...KERNEL, '--records', file], { files });
    const fromCompiled = await runCli(['eval', 'compiled.bpf', '--records', file], { files });
    expect(fromProfile.stderr).toBe('');
    expect(fromProfile.code).toBe(0);
    expect(fromCompiled.code).toBe(0);
    const lines = fromProfile.stdout.trim().split('\n');
    expect(lines).toHaveLength(20000);
    expect(new Set(lines)).toEqual(new Set(['0x7fff0000', '0x00050001'])); // ALLOW and ERRNO(EPERM): the realistic mix has denied calls
    expect(fromProfile.stdout === fromCompiled.stdout, 'the lines of the profile and of its compiled filter').toBe(true);
  });

  it("decides binary records as the profile's reference evaluator does", async () => {
    const bin = (await traceFiles())['t.bin'] as Uint8Array;
    const run = await runCli(['eval', DOCKER, ...KERNEL, '--records', 't.bin'], { files: { 't.bin': bin } });
    const decided = run.stdout.trim().split('\n').map(Number);
    const { filter } = compileProfileText(readFileSync(DOCKER, 'utf8'), contextOf({ kernel: '6.18' }));
    const expected = Array.from({ length: bin.length / 64 }, (_, i) => decideProfile(filter, decodeSeccompData(bin, 'le', i * 64)));
    expect(firstDifference(decided, expected)).toBe('');
  });

  it.each(
    TRACE_KINDS.flatMap(({ kind, file }) => [
      { kind, file, profile: DOCKER, options: [] as string[], denied: 'ERRNO(1)', mount: 'ERRNO(1)' },
      // containers-common allows mount (for containers in a user namespace); its default is ENOSYS.
      { kind, file, profile: COMMON, options: PODMAN, denied: 'ERRNO(38)', mount: 'ALLOW' },
    ]),
  )('--summary of $kind through $profile $options', async ({ file, profile: path, options, denied, mount }) => {
    const run = await runCli(['eval', path, ...KERNEL, ...options, '--records', file, '--summary'], { files: await traceFiles() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^records: 20000\nactions:\n {2}ALLOW {2,}\d+ /);
    expect(run.stdout).toContain(`\n  ${denied} `);
    expect(run.stdout).toMatch(/\n {2}x86_64 bpf +\d+ {2}ERRNO\(1\)\n/); // CAP_SYS_ADMIN's, denied EPERM by both
    expect(run.stdout).toMatch(new RegExp(`\\n {2}x86_64 mount +\\d+ {2}${mount.replace(/[()]/g, '\\$&')}\\n`));
  });

  itWhenAvailable(straceMissing, 'decides an strace log recorded here as the compiled filter does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbpf-strace-'));
    const log = join(dir, 'ls.strace');
    execFileSync('strace', ['-f', '-e', 'raw=all', '-o', log, 'ls', '-la', dir], { stdio: 'ignore' });
    const compiled = (await runCli(['convert', DOCKER, ...KERNEL, '--to', 'raw', '-o', 'compiled.bpf'])).files.get('compiled.bpf')!;
    const fromProfile = await runCli(['eval', DOCKER, ...KERNEL, '--records', log]);
    const fromCompiled = await runCli(['eval', 'compiled.bpf', '--records', log], { files: { 'compiled.bpf': compiled } });
    expect(fromProfile.code).toBe(0);
    expect(fromProfile.stdout).toMatch(/^0x7fff0000\n/); // execve, allowed
    expect(fromProfile.stdout).toBe(fromCompiled.stdout);
    const summary = await runCli(['eval', DOCKER, ...KERNEL, '--records', log, '--summary']);
    expect(summary.code).toBe(0);
    expect(summary.stdout).toContain('x86_64 execve');
  });
});

describe('every FILTER command takes a profile', () => {
  /** The Docker profile compiled by `convert --to raw`, as a file for runCli. */
  const compiled = async (options: readonly string[] = []): Promise<Record<string, Uint8Array>> => ({
    'compiled.bpf': (await runCli(['convert', DOCKER, ...KERNEL, ...options, '--to', 'raw', '-o', 'compiled.bpf'])).files.get('compiled.bpf')!,
  });

  it('disasm shows the compiled filter', async () => {
    const files = await compiled();
    const fromProfile = await runCli(['disasm', DOCKER, ...KERNEL]);
    expect(fromProfile.code).toBe(0);
    expect(fromProfile.stdout.split('\n').slice(0, 2)).toEqual([
      '   0: ld [4]                     ; A = arch',
      '   1: jeq #0xc000003e, 2, 6      ; AUDIT_ARCH_X86_64',
    ]);
    expect(fromProfile.stdout).toBe((await runCli(['disasm', 'compiled.bpf'], { files })).stdout);
  });

  it('verify accepts both bundled profiles', async () => {
    expect(await runCli(['verify', DOCKER, ...KERNEL])).toMatchObject({ code: 0, stdout: `${DOCKER}: ok\n`, stderr: '' });
    expect(await runCli(['verify', COMMON, ...KERNEL, ...PODMAN])).toMatchObject({ code: 0, stdout: `${COMMON}: ok\n`, stderr: '' });
  });

  it.each([
    { what: 'openat is allowed', options: ['--nr', 'openat'], value: '0x7fff0000', action: 'ALLOW' },
    { what: 'bpf is EPERM under Docker caps', options: ['--nr', 'bpf'], value: '0x00050001', action: 'ERRNO(1)' },
    { what: 'bpf is allowed with CAP_SYS_ADMIN', options: ['--nr', 'bpf', '--cap-add', 'CAP_SYS_ADMIN'], value: '0x7fff0000', action: 'ALLOW' },
    { what: "a syscall past the profile's is ENOSYS under runc (its stub)", options: ['--nr', '1000'], value: '0x00050026', action: 'ERRNO(38)' },
    { what: "a syscall past the profile's is the default under crun", options: ['--nr', '1000', '--runtime', 'crun'], value: '0x00050001', action: 'ERRNO(1)' },
    {
      what: 'containers-common: a NETLINK_AUDIT socket is EINVAL without CAP_AUDIT_WRITE',
      file: COMMON,
      options: [...PODMAN, '--nr', 'socket', '--args', '16,3,9'],
      value: '0x00050016',
      action: 'ERRNO(22)',
    },
    {
      // libseccomp 2.5.4 does the same: the companion rule on socketcall comes after its unconditional ALLOW, which wins.
      what: 'containers-common: the same socket through i386 socketcall is allowed',
      file: COMMON,
      options: [...PODMAN, '--arch', 'i386', '--nr', 'socketcall', '--args', '1,0,9'],
      value: '0x7fff0000',
      action: 'ALLOW',
    },
  ])('emu: $what', async ({ file = DOCKER, options, value, action }) => {
    const run = await runCli(['emu', file, ...KERNEL, ...options, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ value, action, filters: [{ file, value }] });
  });

  it('emu prints the decision in words', async () => {
    const run = await runCli(['emu', DOCKER, ...KERNEL, '--nr', 'bpf']);
    expect(run).toMatchObject({
      code: 0,
      stderr: '',
      stdout: 'value:  0x00050001\naction: ERRNO(1)\neffect: the syscall does not run and returns -1 (EPERM)\n',
    });
  });

  it('compile -o x.wasm writes a WebAssembly module', async () => {
    const run = await runCli(['compile', DOCKER, ...KERNEL, '-o', 'x.wasm']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(Buffer.from(run.files.get('x.wasm')!.subarray(0, 4)).toString('latin1')).toBe('\0asm');
  });

  kernelIt('kernel-check: the verifier and every engine agree with the kernel on the profile', async () => {
    const run = await runCli(['kernel-check', DOCKER, ...KERNEL, '--count', '200']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${DOCKER}: verifier accepted, kernel accepted\n`);
    for (const engine of ['interp', 'table', 'jit', 'standalone']) expect(run.stdout).toContain(`records: 0 mismatches (${engine})\n`);
  });

  it('explain says what a syscall gets, per arch, in the container the options describe', async () => {
    expect(await runCli(['explain', DOCKER, ...KERNEL, '--syscall', 'bpf'])).toMatchObject({
      code: 0,
      stdout: 'x86_64:\n  ERRNO(1) (2): bpf, x32 bpf\ni386:\n  ERRNO(1) (1): bpf\n',
    });
    expect((await runCli(['explain', DOCKER, ...KERNEL, '--syscall', 'bpf', '--cap-add', 'CAP_SYS_ADMIN'])).stdout).toBe(
      'x86_64:\n  ALLOW (2): bpf, x32 bpf\ni386:\n  ALLOW (1): bpf\n',
    );
  });

  it("audit finds the x32 personality rule's unchecked upper half (medium on x32, so exit 0 at the default --fail-on high)", async () => {
    const run = await runCli(['audit', DOCKER, ...KERNEL]);
    expect(run.stdout).toContain(
      'medium  x86_64 x32 personality: args[0] is compared on its low 32 bits only, so its high half goes unchecked (x32: it matters where the kernel reads the argument as 64 bits)\n',
    );
    expect(run.code).toBe(0);
    expect((await runCli(['audit', DOCKER, ...KERNEL, '--fail-on', 'medium'])).code).toBe(1);
  });

  it('diff: the profile and its own convert output are equivalent (exit 0)', async () => {
    const run = await runCli(['diff', DOCKER, 'compiled.bpf', ...KERNEL], { files: await compiled() });
    expect(run.stdout).toMatch(
      new RegExp(`^${DOCKER.replace(/\./g, '\\.')} and compiled\\.bpf are equivalent: they decide every record alike \\(\\d+ regions compared\\)\n$`),
    );
    expect(run.code).toBe(0);
  });

  it("diff: the profile under crun differs from runc's compiled filter by the ENOSYS stub (exit 1)", async () => {
    const run = await runCli(['diff', DOCKER, 'compiled.bpf', ...KERNEL, '--runtime', 'crun', '--json'], { files: await compiled() });
    expect(run.code).toBe(1);
    const { equivalent, differences } = JSON.parse(run.stdout) as { equivalent: boolean; differences: { a: number; b: number }[] };
    expect(equivalent).toBe(false);
    expect(differences.length).toBeGreaterThan(0);
    for (const d of differences) expect([d.a, d.b]).toEqual([0x00050001, 0x00050026]); // crun: the default EPERM; runc: its stub's ENOSYS
  });

  it('convert writes the compiled filter in any format', async () => {
    const run = await runCli(['convert', DOCKER, ...KERNEL, '--to', 'c']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('{ 0x20, 0, 0, 0x00000004 },');
  });

  it('cost measures the compiled filter on a trace', async () => {
    const run = await runCli(['cost', DOCKER, ...KERNEL, '--records', 't.bin'], { files: await traceFiles() });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^trace: 20000 records\n\n${DOCKER.replace(/\./g, '\\.')}: 1 filter, \\d+ instructions\n`));
  });
});

describe('detecting a profile', () => {
  it('reads a profile without --input-format', async () => {
    const info = JSON.parse((await runCli(['info', COMMON, ...KERNEL, ...PODMAN, '--json'])).stdout);
    expect(info).toMatchObject({ file: COMMON, format: 'profile', resolution: { engine: 'podman', runtime: 'runc', defaultAction: 'ERRNO(38)' } });
  });

  it('--input-format profile on a stack file says what the profile lacks', async () => {
    const stack = await runCli(['convert', DOCKER, ...KERNEL, '--to', 'stack', '-o', 's.json']);
    const run = await runCli(['info', 's.json', ...KERNEL, '--input-format', 'profile'], { files: { 's.json': stack.files.get('s.json')! } });
    expect(run.stderr).toBe('cbpf: s.json: missing defaultAction: a profile must say what happens to the syscalls it does not name\n');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
  });

  it('--input-format stack on a profile refuses its fields', async () => {
    const run = await runCli(['info', DOCKER, '--input-format', 'stack']);
    expect(run.stderr).toBe(`cbpf: ${DOCKER}: unknown field "defaultAction" (expected filters, pid, command, mode, flags)\n`);
    expect(run.code).toBe(1);
  });

  it('convert --to profile is a usage error: a profile is input only', async () => {
    const run = await runCli(['convert', DOCKER, ...KERNEL, '--to', 'profile']);
    expect(run.stderr).toBe(
      "cbpf: --to: profiles are read, not written (write the compiled filter in one of raw, raw-be, c, ddd, asm, json, stack)\nTry 'cbpf convert --help'.\n",
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });
});
