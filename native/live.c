/*
 * cbpf-live: reads the seccomp filters of live processes, and times filters on
 * the live kernel. Built on demand by the TypeScript side with
 *   gcc -O2 -Wall -Wextra -o cbpf-live native/live.c
 * x86-64 Linux only.
 *
 * Modes (argv[1]):
 *
 *   dump PID       reads the filters of a running process through ptrace.
 *                  stdout: "filters N", then N lines, oldest filter first, each
 *                  the lowercase hex of its raw struct sock_filter array (host
 *                  byte order, as the kernel keeps it).
 *
 *   run [--first] -- COMMAND ARGS...
 *                  runs COMMAND under ptrace, with every process and thread it
 *                  starts, and catches each filter they install. Protocol lines
 *                  go to fd 3 (fds 0-2 belong to COMMAND):
 *                    filter PID TID FLAGS N HEX...
 *                                               after each successful install:
 *                                               the thread's N filters, oldest
 *                                               first (the new one last); PID
 *                                               is the thread group id, FLAGS
 *                                               the new filter's
 *                    exit CODE                  when every tracee is gone: the
 *                                               exit status of COMMAND, or
 *                                               128 + the signal that killed it
 *                    exit killed                with --first: after the first
 *                                               filter line, every tracee is
 *                                               killed and reaped
 *
 *   calibrate REPS L...
 *                  times getppid() under one filter whose path for it runs L
 *                  instructions, in a fresh child per measurement. stdout: one
 *                  line "L VARIANT NS" per L and variant (uncached, cached), NS
 *                  the minimum of five runs of REPS calls, in ns per call.
 *
 * Exit status: 0 ok, 1 any other failure, 2 usage, 3 no such process,
 * 4 not permitted, 5 the process is not in seccomp filter mode. Errors are
 * one line on stderr starting with "cbpf-live: ".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Kernel values, for C libraries whose headers predate them. */
#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

/* x86_64 syscall numbers, fixed by the ABI (the host's headers may be for another). */
#define NR_PRCTL 157
#define NR_SECCOMP 317

/*
 * The kernel's struct ptrace_syscall_info (Linux 5.3+). Our own copy: glibc's
 * differs by version, and <linux/ptrace.h> clashes with <sys/ptrace.h>.
 */
#define INFO_ENTRY 1
#define INFO_EXIT 2
struct syscall_info {
	uint8_t op;
	uint8_t pad[3];
	uint32_t arch;
	uint64_t instruction_pointer;
	uint64_t stack_pointer;
	union {
		struct {
			uint64_t nr;
			uint64_t args[6];
		} entry;
		struct {
			int64_t rval;
			uint8_t is_error;
		} exit;
	};
};

#define PERMISSION_HINT "reading another process's filters needs CAP_SYS_ADMIN and permission to ptrace it"

/* dump: the process we are attached to, to detach on every way out. */
static pid_t attached;
static int detach_signal;

static void fail(int status, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	fputs("cbpf-live: ", stderr);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
	va_end(args);
	if (attached > 0) ptrace(PTRACE_DETACH, attached, 0, detach_signal);
	exit(status);
}

static void usage(void)
{
	fail(2, "usage: cbpf-live dump PID | run [--first] -- COMMAND ARGS... | calibrate REPS L...");
}

static long parse_number(const char *text, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max) usage();
	return v;
}

static void put_hex(FILE *out, const struct sock_filter *insns, long count)
{
	const uint8_t *bytes = (const uint8_t *)insns;
	for (size_t i = 0; i < (size_t)count * sizeof(struct sock_filter); i++) fprintf(out, "%02x", bytes[i]);
}

/*
 * Filter `index` of a stopped tracee into `buffer`, which holds
 * BPF_MAXINSNS instructions: the kernel copies the whole filter without looking
 * at the buffer's size. Returns the instruction count, or -1 with errno.
 */
static long get_filter(pid_t tid, long index, struct sock_filter *buffer)
{
	long count = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, NULL);
	if (count < 0) return -1;
	if (count > BPF_MAXINSNS) fail(1, "the kernel reports a filter of %ld instructions", count);
	long again = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, buffer);
	if (again < 0) return -1;
	/* Defensive: another thread's TSYNC only adds newer filters, which leaves indices (from the oldest) as they were. */
	if (again != count) fail(1, "the filters of %d changed while being read", tid);
	return count;
}

/*
 * Index 0 is the OLDEST filter: the kernel's get_nth_filter() walks back
 * count - index - 1 steps from the newest (ptrace(2) says the opposite; the
 * kernel is right). So the newest has the highest index: the last before ENOENT.
 */
static long newest_index(pid_t tid)
{
	long index = 0;
	while (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, NULL) >= 0) index++;
	return errno == ENOENT ? index - 1 : -1;
}

/* ---- dump ---- */

static void dump_mode(pid_t pid)
{
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0) {
		if (errno == ESRCH) fail(3, "no process %d", pid);
		if (errno == EPERM || errno == EACCES) fail(4, "cannot attach to %d: %s", pid, PERMISSION_HINT);
		fail(1, "cannot attach to %d: %s", pid, strerror(errno));
	}
	attached = pid;
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0) fail(1, "cannot stop %d: %s", pid, strerror(errno));

	/*
	 * Wait for a ptrace-stop; any kind will do to read filters. PTRACE_EVENT_STOP
	 * is our interrupt or a group-stop (the process was or got stopped by job
	 * control; detaching leaves it so). A signal-delivery-stop can come first:
	 * that signal is handed back at detach, as if we had never been there.
	 */
	int status;
	for (;;) {
		if (waitpid(pid, &status, __WALL) < 0) {
			if (errno == EINTR) continue;
			fail(1, "waitpid: %s", strerror(errno));
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			attached = 0;
			fail(3, "process %d exited", pid);
		}
		if (WIFSTOPPED(status)) break;
	}
	if (status >> 16 == 0) detach_signal = WSTOPSIG(status);

	struct sock_filter **filters = NULL;
	long *lengths = NULL;
	long n = 0;
	for (;; n++) {
		struct sock_filter *buffer = malloc(BPF_MAXINSNS * sizeof(struct sock_filter));
		filters = realloc(filters, (n + 1) * sizeof(*filters));
		lengths = realloc(lengths, (n + 1) * sizeof(*lengths));
		if (buffer == NULL || filters == NULL || lengths == NULL) fail(1, "out of memory");
		long count = get_filter(pid, n, buffer);
		if (count >= 0) {
			filters[n] = buffer;
			lengths[n] = count;
			continue;
		}
		free(buffer);
		if (errno == ENOENT) break;
		if (errno == EINVAL && n == 0) fail(5, "process %d is not in seccomp filter mode", pid);
		if (errno == EACCES || errno == EPERM) fail(4, "cannot read the filters of %d: %s", pid, PERMISSION_HINT);
		if (errno == ESRCH) fail(3, "process %d went away", pid);
		fail(1, "cannot read filter %ld of %d: %s", n, pid, strerror(errno));
	}
	ptrace(PTRACE_DETACH, pid, 0, detach_signal);
	attached = 0;

	printf("filters %ld\n", n);
	for (long i = 0; i < n; i++) { /* index order is oldest first */
		put_hex(stdout, filters[i], lengths[i]);
		putchar('\n');
	}
	if (fflush(stdout) != 0) fail(1, "cannot write standard output");
}

/* ---- run ---- */

/* One traced thread. Nodes stay put when others come and go. */
struct tracee {
	pid_t tid;
	int fresh;    /* auto-attached: its first stop is a SIGSTOP to swallow */
	int in_entry; /* stopped at an x86_64 syscall entry, not yet at its exit */
	uint64_t nr, args[6];
	struct tracee *next;
};

static struct tracee *tracees;
static FILE *protocol;

static struct tracee *find_tracee(pid_t tid, int create)
{
	for (struct tracee *t = tracees; t != NULL; t = t->next)
		if (t->tid == tid) return t;
	if (!create) return NULL;
	struct tracee *t = calloc(1, sizeof(*t));
	if (t == NULL) fail(1, "out of memory");
	t->tid = tid;
	t->fresh = 1; /* unknown so far: a new thread or process whose event is still to come */
	t->next = tracees;
	tracees = t;
	return t;
}

static void forget_tracee(pid_t tid)
{
	for (struct tracee **at = &tracees; *at != NULL; at = &(*at)->next) {
		if ((*at)->tid == tid) {
			struct tracee *gone = *at;
			*at = gone->next;
			free(gone);
			return;
		}
	}
}

static void resume(pid_t tid, int signal)
{
	/* ESRCH: the tracee was killed (SIGKILL) meanwhile; waitpid will tell. */
	if (ptrace(PTRACE_SYSCALL, tid, 0, signal) < 0 && errno != ESRCH) fail(1, "cannot resume %d: %s", tid, strerror(errno));
}

/* The thread group of a thread, from /proc (the thread is stopped, so it exists). */
static pid_t tgid_of(pid_t tid)
{
	char path[64], line[256];
	pid_t tgid = tid;
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	FILE *f = fopen(path, "r");
	if (f == NULL) return tid;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Tgid: %d", &tgid) == 1) break;
	fclose(f);
	return tgid;
}

/*
 * At the exit of t's syscall: when it was a successful filter install, reads
 * the thread's whole stack (the new filter last) and reports it: `filter TGID
 * TID FLAGS N HEX...`, N filters oldest first. Returns 1 if reported.
 */
static int check_install(struct tracee *t, const struct syscall_info *info)
{
	int64_t rval = info->exit.rval;
	unsigned flags;
	int ok;
	/* The kernel reads op, flags and prctl's option as 32-bit ints. */
	if (t->nr == NR_SECCOMP && (uint32_t)t->args[0] == SECCOMP_SET_MODE_FILTER) {
		flags = (uint32_t)t->args[1];
		/* A listener fd is success; with TSYNC, a positive value is a thread that failed. */
		ok = !info->exit.is_error && (rval == 0 || ((flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) && rval >= 0));
	} else if (t->nr == NR_PRCTL && (uint32_t)t->args[0] == PR_SET_SECCOMP && t->args[1] == SECCOMP_MODE_FILTER) {
		flags = 0;
		ok = !info->exit.is_error && rval == 0;
	} else {
		return 0;
	}
	if (!ok) return 0;

	/* The thread's whole stack, oldest first: what it inherited, then what it installed (the newest, last). */
	static struct sock_filter buffer[BPF_MAXINSNS];
	long newest = newest_index(t->tid);
	if (newest < 0) {
		if (errno == ESRCH) return 0;
		if (errno == EACCES || errno == EPERM) fail(4, "cannot read the filters of %d: %s", t->tid, PERMISSION_HINT);
		fail(1, "cannot read the filters of %d: %s", t->tid, strerror(errno));
	}
	fprintf(protocol, "filter %d %d %u %ld", tgid_of(t->tid), t->tid, flags, newest + 1);
	for (long index = 0; index <= newest; index++) {
		long count = get_filter(t->tid, index, buffer);
		if (count < 0) {
			if (errno == ESRCH) return 0;
			if (errno == EACCES || errno == EPERM) fail(4, "cannot read the filters of %d: %s", t->tid, PERMISSION_HINT);
			fail(1, "cannot read filter %ld of %d: %s", index, t->tid, strerror(errno));
		}
		fputc(' ', protocol);
		put_hex(protocol, buffer, count);
	}
	fputc('\n', protocol);
	if (fflush(protocol) != 0) fail(1, "cannot write to fd 3: %s", strerror(errno));
	return 1;
}

/* A syscall-stop: remembers an entry, checks an exit. Returns 1 if a filter was reported. */
static int syscall_stop(struct tracee *t)
{
	struct syscall_info info;
	memset(&info, 0, sizeof(info));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info) < 0) {
		if (errno == ESRCH) return 0;
		fail(1, "PTRACE_GET_SYSCALL_INFO (Linux 5.3+): %s", strerror(errno));
	}
	int reported = 0;
	if (info.op == INFO_ENTRY) {
		/* Only x86_64 syscalls are recognized: i386 (int $0x80) ones have other numbers. */
		t->in_entry = info.arch == AUDIT_ARCH_X86_64;
		t->nr = info.entry.nr;
		memcpy(t->args, info.entry.args, sizeof(t->args));
	} else if (info.op == INFO_EXIT) {
		if (t->in_entry) reported = check_install(t, &info);
		t->in_entry = 0;
	}
	return reported;
}

/* --first: kills every tracee, including ones still being born, and reaps them all. */
static void kill_all(void)
{
	for (struct tracee *t = tracees; t != NULL; t = t->next) kill(t->tid, SIGKILL);
	for (;;) {
		int status;
		pid_t tid = waitpid(-1, &status, __WALL);
		if (tid < 0) {
			if (errno == EINTR) continue;
			if (errno == ECHILD) break;
			fail(1, "waitpid: %s", strerror(errno));
		}
		if (!WIFSTOPPED(status)) continue;
		int event = status >> 16;
		unsigned long child;
		if ((event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) &&
		    ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) == 0)
			kill((pid_t)child, SIGKILL);
		kill(tid, SIGKILL);
	}
}

static void run_mode(int first, char **command)
{
	/* fd 3 carries the protocol; the command keeps fds 0-2. */
	if (fcntl(3, F_GETFD) < 0) fail(2, "run needs fd 3 open for its output (e.g. 3>&1)");
	protocol = fdopen(3, "w");
	if (protocol == NULL) fail(1, "fd 3: %s", strerror(errno));

	pid_t child = fork();
	if (child < 0) fail(1, "fork: %s", strerror(errno));
	if (child == 0) {
		close(3);
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) {
			fprintf(stderr, "cbpf-live: PTRACE_TRACEME: %s\n", strerror(errno));
			_exit(errno == EPERM ? 4 : 1);
		}
		raise(SIGSTOP); /* wait for the tracer's options */
		execvp(command[0], command);
		fprintf(stderr, "cbpf-live: %s: %s\n", command[0], strerror(errno));
		_exit(127);
	}

	int status;
	while (waitpid(child, &status, __WALL) < 0)
		if (errno != EINTR) fail(1, "waitpid: %s", strerror(errno));
	/* Not stopped: PTRACE_TRACEME failed, and the child said why. */
	if (!WIFSTOPPED(status)) exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
	/*
	 * No PTRACE_O_TRACESECCOMP: without it SECCOMP_RET_TRACE makes a syscall fail
	 * with ENOSYS, as with no tracer at all, so filters behave as they would untraced.
	 */
	long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
		       PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SETOPTIONS, child, 0, options) < 0) {
		int err = errno;
		kill(child, SIGKILL);
		fail(err == EPERM ? 4 : 1, "PTRACE_SETOPTIONS: %s", strerror(err));
	}
	find_tracee(child, 1)->fresh = 0;
	resume(child, 0); /* swallows the child's own SIGSTOP */

	int exit_code = -1;
	for (;;) {
		pid_t tid = waitpid(-1, &status, __WALL);
		if (tid < 0) {
			if (errno == EINTR) continue;
			if (errno == ECHILD) break; /* no tracee left */
			fail(1, "waitpid: %s", strerror(errno));
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			forget_tracee(tid);
			if (tid == child) exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			continue;
		}
		if (!WIFSTOPPED(status)) continue;
		struct tracee *t = find_tracee(tid, 1);
		int signal = WSTOPSIG(status), event = status >> 16;
		unsigned long message;

		if (signal == (SIGTRAP | 0x80)) {
			if (syscall_stop(t) && first) {
				kill_all();
				fputs("exit killed\n", protocol);
				fflush(protocol);
				exit(0);
			}
			resume(tid, 0);
		} else if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
			/* The new tracee may have reported its SIGSTOP already; then it is known. */
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &message) == 0) find_tracee((pid_t)message, 1);
			resume(tid, 0);
		} else if (event == PTRACE_EVENT_EXEC) {
			/*
			 * A non-leader thread that execs takes over the leader's tid; its old
			 * tid is never reported again. Either way the execve's exit is ours to skip.
			 */
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &message) == 0 && (pid_t)message != tid) forget_tracee((pid_t)message);
			t->in_entry = 0;
			resume(tid, 0);
		} else if (event != 0) {
			resume(tid, 0);
		} else if (t->fresh && signal == SIGSTOP) {
			t->fresh = 0; /* the SIGSTOP every auto-attached tracee starts with */
			resume(tid, 0);
		} else {
			siginfo_t si;
			/*
			 * GETSIGINFO fails in a group-stop. Without PTRACE_SEIZE there is no
			 * PTRACE_LISTEN to leave the tracee stopped, so it is resumed (job
			 * control does not stop traced commands). Other signals are re-injected.
			 */
			if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) < 0) resume(tid, 0);
			else resume(tid, signal);
		}
	}
	if (exit_code < 0) fail(1, "never saw %s exit", command[0]);
	fprintf(protocol, "exit %d\n", exit_code);
	if (fflush(protocol) != 0) fail(1, "cannot write to fd 3: %s", strerror(errno));
}

/* ---- calibrate ---- */

struct measurement {
	int err; /* errno of a failed install, else 0 */
	double ns;
};

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/*
 * The filter whose path for getppid runs exactly `length` instructions: a load,
 * length - 2 jeq's that fall through both ways, ret ALLOW. Loading args[0]
 * (offset 16) keeps the kernel's action cache from proving getppid allowed;
 * loading nr (offset 0) lets it, so getppid then skips the filter.
 */
static int install_path(long length, int cached)
{
	static struct sock_filter insns[BPF_MAXINSNS];
	long n = 0;
	if (length >= 2) insns[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, cached ? 0 : 16);
	while (n < length - 1) insns[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 0, 0);
	insns[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = insns };
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : errno;
}

static double measure(long length, int cached, long reps)
{
	int fds[2];
	if (pipe(fds) < 0) fail(1, "pipe: %s", strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) fail(1, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct measurement m = { 0, 1e300 };
		close(fds[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) m.err = errno;
		else if (length > 0) m.err = install_path(length, cached);
		if (m.err != 0) _exit(write(fds[1], &m, sizeof(m)) == sizeof(m) ? 0 : 1);
		for (long i = 0; i < 100000; i++) syscall(SYS_getppid);
		for (int run = 0; run < 5; run++) {
			double start = now_ns();
			for (long i = 0; i < reps; i++) syscall(SYS_getppid);
			double per_call = (now_ns() - start) / (double)reps;
			if (per_call < m.ns) m.ns = per_call;
		}
		_exit(write(fds[1], &m, sizeof(m)) == sizeof(m) ? 0 : 1);
	}
	close(fds[1]);
	struct measurement m;
	ssize_t got;
	while ((got = read(fds[0], &m, sizeof(m))) < 0 && errno == EINTR)
		;
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != (ssize_t)sizeof(m)) fail(1, "the measuring child for L=%ld failed", length);
	if (m.err != 0) fail(1, "cannot install a filter of %ld instructions: %s", length, strerror(m.err));
	return m.ns;
}

static void calibrate_mode(int argc, char **argv)
{
	if (argc < 2) usage();
	long reps = parse_number(argv[0], 1, 1000000000);
	for (int i = 1; i < argc; i++) parse_number(argv[i], 0, BPF_MAXINSNS);
	for (int i = 1; i < argc; i++) {
		long length = parse_number(argv[i], 0, BPF_MAXINSNS);
		printf("%ld uncached %.2f\n", length, measure(length, 0, reps));
		printf("%ld cached %.2f\n", length, measure(length, 1, reps));
		if (fflush(stdout) != 0) fail(1, "cannot write standard output");
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) usage();
	if (strcmp(argv[1], "dump") == 0) {
		if (argc != 3) usage();
		dump_mode((pid_t)parse_number(argv[2], 1, INT32_MAX));
	} else if (strcmp(argv[1], "run") == 0) {
		int at = 2, first = 0;
		if (at < argc && strcmp(argv[at], "--first") == 0) first = 1, at++;
		if (at >= argc || strcmp(argv[at], "--") != 0 || at + 1 >= argc) usage();
		run_mode(first, argv + at + 1);
	} else if (strcmp(argv[1], "calibrate") == 0) {
		calibrate_mode(argc - 2, argv + 2);
	} else {
		usage();
	}
	return 0;
}
