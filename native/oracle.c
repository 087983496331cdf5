/*
 * cbpf-oracle: asks the live Linux kernel what it thinks of seccomp filters,
 * without ever running a syscall under test (SPEC section 9). Built on demand
 * by src/kernel/helper.ts; x86-64 Linux only.
 *
 * Every test runs in a forked child that sets no_new_privs, installs filters
 * with seccomp(SECCOMP_SET_MODE_FILTER) and reports through shared memory.
 * Once a filter is installed the child makes no syscall but the ones under
 * test; it never exits by itself: the parent kills it.
 *
 * Protocol: argv[1] is the mode; input on stdin, output on stdout, both in
 * the host's byte order. A program is (u32 length, length x 8-byte sock_filter).
 *
 *   accept        in:  u32 n, n programs
 *                 out: n x i32: 0 when the kernel accepts the program, else
 *                      its errno; -1 when the length does not fit in a u16
 *   accept-stack  in:  u32 n, n programs, installed in order in one child
 *                 out: n x i32 as for accept, then i32: 0, or the signal that
 *                      killed the child (a filter must allow seccomp() for the
 *                      next one to be installed)
 *   decide        in:  u32 passes, that many programs, u32 n, n x 64-byte
 *                      seccomp_data records (x86_64 or i386 only)
 *                 out: per pass, n x { i32 signal, i32 unused, i64 ret, u64 ip }:
 *                      signal 0: the syscall returned ret, and the kernel saw
 *                      instruction_pointer ip; else the child died by that
 *                      signal on this record (and a fresh child took the next)
 *
 * Callers put a canary program first in decide: records that do not come back
 * with its errno never reached seccomp (some sandbox kernels answer a few
 * syscall numbers themselves).
 *
 * Exit status: 0 ok, 2 bad input, 3 the kernel refused a program in decide
 * (stderr says which errno), 4 a child stopped making progress.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RECORD_SIZE 64
#define STALL_SECONDS 10

struct program {
	uint32_t len;
	struct sock_filter *insns;
};

struct decision {
	int32_t signal;
	int32_t unused;
	int64_t ret;
	uint64_t ip;
};

/* Shared with the child: how far it got, and how its install went. */
struct progress {
	size_t done;
	int install_errno;
};

static void die(int status, const char *message)
{
	fprintf(stderr, "cbpf-oracle: %s\n", message);
	exit(status);
}

/* ---- input ---- */

static uint8_t *input;
static size_t input_len, input_at;

static void read_all_input(void)
{
	size_t cap = 1 << 20;
	input = malloc(cap);
	for (;;) {
		if (input_len == cap) input = realloc(input, cap *= 2);
		ssize_t got = read(0, input + input_len, cap - input_len);
		if (got < 0) die(2, "cannot read standard input");
		if (got == 0) break;
		input_len += (size_t)got;
	}
}

static const void *take(size_t bytes)
{
	if (input_len - input_at < bytes) die(2, "truncated input");
	const void *at = input + input_at;
	input_at += bytes;
	return at;
}

static uint32_t take_u32(void)
{
	uint32_t v;
	memcpy(&v, take(4), 4);
	return v;
}

static struct program take_program(void)
{
	struct program p;
	p.len = take_u32();
	p.insns = (struct sock_filter *)take((size_t)p.len * sizeof(struct sock_filter));
	return p;
}

static void write_all(const void *data, size_t bytes)
{
	const uint8_t *at = data;
	while (bytes > 0) {
		ssize_t put = write(1, at, bytes);
		if (put <= 0) die(2, "cannot write standard output");
		at += put;
		bytes -= (size_t)put;
	}
}

/* ---- the syscalls under test ---- */

extern const char cbpf_after_syscall64[], cbpf_after_int80[];

/* x86_64: nr in rax, arguments in rdi, rsi, rdx, r10, r8, r9. */
__attribute__((noinline, noclone)) static long call64(long nr, const uint64_t *a)
{
	long ret;
	register uint64_t r10 __asm__("r10") = a[3];
	register uint64_t r8 __asm__("r8") = a[4];
	register uint64_t r9 __asm__("r9") = a[5];
	__asm__ volatile("syscall\n\t"
			 ".globl cbpf_after_syscall64\n"
			 "cbpf_after_syscall64:"
			 : "=a"(ret)
			 : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/*
 * i386 through int $0x80: nr in eax, arguments in ebx, ecx, edx, esi, edi, ebp.
 * Arguments are zero-extended to 64 bits first: from a 64-bit process, seccomp
 * sees the whole 64-bit registers (seen on 6.18), while a real 32-bit process
 * has nothing in their upper halves.
 */
__attribute__((noinline, noclone)) static long call32(long nr, const uint64_t *args)
{
	int ret;
	uint64_t a[6];
	for (int i = 0; i < 6; i++) a[i] = (uint32_t)args[i];
	register uint64_t r12 __asm__("r12") = a[5];
	__asm__ volatile("push %%rbp\n\t"
			 "mov %%r12d, %%ebp\n\t"
			 "int $0x80\n\t"
			 ".globl cbpf_after_int80\n"
			 "cbpf_after_int80:\n\t"
			 "pop %%rbp"
			 : "=a"(ret)
			 : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4]), "r"(r12)
			 : "memory");
	return ret;
}

static void spin_forever(void)
{
	for (;;) __builtin_ia32_pause();
}

static int install(const struct program *p)
{
	struct sock_fprog fprog = { .len = (unsigned short)p->len, .filter = p->insns };
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0 ? 0 : errno;
}

/* ---- children ---- */

static struct progress *shared_progress(size_t extra, void **rest)
{
	size_t bytes = sizeof(struct progress) + extra;
	void *shared = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) die(2, "cannot map shared memory");
	*rest = (uint8_t *)shared + sizeof(struct progress);
	return shared;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * Waits for the child started at item `start` to reach item `until`, or, when
 * `accepted` is given, to have a program accepted (it then spins), or to die.
 * Returns 0 when it got there (the child is then killed and reaped), else the
 * signal it died by (256 + status for a plain exit, which it never does).
 */
static int watch(pid_t pid, struct progress *progress, size_t start, size_t until, const int32_t *accepted)
{
	size_t seen = start;
	double since = now();
	for (;;) {
		size_t done = __atomic_load_n(&progress->done, __ATOMIC_ACQUIRE);
		int status;
		if (done >= until || (accepted != NULL && done > start && accepted[done - 1] == 0)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 0;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) return WIFSIGNALED(status) ? WTERMSIG(status) : 256 + WEXITSTATUS(status);
		if (done != seen) {
			seen = done;
			since = now();
		} else if (now() - since > STALL_SECONDS) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			die(4, "a child made no progress for 10 seconds");
		}
		struct timespec pause = { 0, 20000 };
		nanosleep(&pause, NULL);
	}
}

static pid_t fork_or_die(void)
{
	pid_t pid = fork();
	if (pid < 0) die(2, "fork failed");
	return pid;
}

/* Not attempted: a stack child died before it got to this program. */
#define NOT_ATTEMPTED (-2)

static void accept_mode(int stack)
{
	uint32_t n = take_u32();
	struct program *programs = calloc(n ? n : 1, sizeof(*programs));
	for (uint32_t i = 0; i < n; i++) programs[i] = take_program();
	int32_t *results;
	struct progress *progress = shared_progress((size_t)n * sizeof(int32_t), (void **)&results);
	for (uint32_t i = 0; i < n; i++) results[i] = NOT_ATTEMPTED;
	int32_t died = 0;
	size_t next = 0;
	while (next < n) {
		progress->done = next;
		pid_t pid = fork_or_die();
		if (pid == 0) {
			prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
			for (size_t i = next; i < n; i++) {
				int err = programs[i].len > 0xffff ? -1 : install(&programs[i]);
				results[i] = err;
				__atomic_store_n(&progress->done, i + 1, __ATOMIC_RELEASE);
				/* Installed: any further syscall would be filtered, so stop here. */
				if (err == 0 && !stack) spin_forever();
			}
			spin_forever();
		}
		int signal = watch(pid, progress, next, n, stack ? NULL : results);
		if (signal != 0 && !stack) die(2, "a child died while installing filters");
		if (signal != 0) {
			died = signal;
			break;
		}
		next = progress->done;
	}
	write_all(results, (size_t)n * sizeof(int32_t));
	if (stack) write_all(&died, sizeof(died));
}

static uint32_t record_u32(const uint8_t *record, size_t offset)
{
	uint32_t v;
	memcpy(&v, record + offset, 4);
	return v;
}

static void decide_mode(void)
{
	uint32_t passes = take_u32();
	struct program *programs = calloc(passes ? passes : 1, sizeof(*programs));
	for (uint32_t i = 0; i < passes; i++) programs[i] = take_program();
	uint32_t n = take_u32();
	const uint8_t *records = take((size_t)n * RECORD_SIZE);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t arch = record_u32(records + (size_t)i * RECORD_SIZE, 4);
		if (arch != AUDIT_ARCH_X86_64 && arch != AUDIT_ARCH_I386) die(2, "only x86_64 and i386 records can be issued on this host");
	}
	struct decision *out;
	struct progress *progress = shared_progress((size_t)n * sizeof(struct decision), (void **)&out);
	for (uint32_t pass = 0; pass < passes; pass++) {
		memset(out, 0, (size_t)n * sizeof(struct decision));
		size_t next = 0;
		while (next < n) {
			progress->done = next;
			progress->install_errno = 0;
			pid_t pid = fork_or_die();
			if (pid == 0) {
				prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
				int err = install(&programs[pass]);
				if (err != 0) {
					progress->install_errno = err;
					__atomic_store_n(&progress->done, n, __ATOMIC_RELEASE);
					spin_forever();
				}
				for (size_t i = next; i < n; i++) {
					const uint8_t *r = records + i * RECORD_SIZE;
					uint64_t args[6];
					memcpy(args, r + 16, sizeof(args));
					long nr = (int32_t)record_u32(r, 0);
					if (record_u32(r, 4) == AUDIT_ARCH_X86_64) {
						out[i].ret = call64(nr, args);
						out[i].ip = (uint64_t)(uintptr_t)cbpf_after_syscall64;
					} else {
						out[i].ret = call32(nr, args);
						out[i].ip = (uint64_t)(uintptr_t)cbpf_after_int80;
					}
					__atomic_store_n(&progress->done, i + 1, __ATOMIC_RELEASE);
				}
				spin_forever();
			}
			int signal = watch(pid, progress, next, n, NULL);
			if (progress->install_errno != 0) {
				fprintf(stderr, "cbpf-oracle: the kernel refused the program of pass %u: errno %d\n", pass, progress->install_errno);
				exit(3);
			}
			if (signal == 0) break;
			size_t at = progress->done;
			out[at].signal = signal;
			/* fork() keeps addresses, so the parent knows where the child's call was. */
			out[at].ip = (uint64_t)(uintptr_t)(record_u32(records + at * RECORD_SIZE, 4) == AUDIT_ARCH_X86_64 ? cbpf_after_syscall64 : cbpf_after_int80);
			next = at + 1;
		}
		write_all(out, (size_t)n * sizeof(struct decision));
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) die(2, "usage: cbpf-oracle accept|accept-stack|decide < input > output");
	read_all_input();
	if (strcmp(argv[1], "accept") == 0) accept_mode(0);
	else if (strcmp(argv[1], "accept-stack") == 0) accept_mode(1);
	else if (strcmp(argv[1], "decide") == 0) decide_mode();
	else die(2, "unknown mode");
	return 0;
}
