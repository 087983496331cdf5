/*
 * Writes cbpf's sample seccomp filters with libseccomp, the library most
 * real-world filters (Docker, systemd, Podman) come from:
 *
 *   allowlist-small.bpf     x86_64 arch check, a dozen syscalls, KILL_PROCESS otherwise
 *   docker-linear.bpf       a Docker-like allowlist of ~300 syscalls with argument
 *                           rules on personality, clone and socket; ERRNO(EPERM) otherwise
 *   docker-tree.bpf         the same with SCMP_FLTATR_CTL_OPTIMIZE = 2 (binary tree)
 *   multiarch.bpf           x86_64 + i386 + x32, a moderate allowlist
 *
 * Usage: make-samples OUT_DIR. Run through scripts/gen-samples.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The syscalls of Docker's default profile that need no argument rule. */
static const char *const DOCKER_ALLOWED[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir",
	"chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
	"clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close",
	"close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
	"epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
	"faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
	"fchmodat", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
	"flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64",
	"fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64",
	"futex_waitv", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
	"geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
	"getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
	"getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
	"getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32",
	"getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
	"io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
	"ioprio_get", "ioprio_set", "io_setup", "io_submit", "io_uring_enter", "io_uring_register",
	"io_uring_setup", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
	"landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
	"listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
	"madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
	"mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
	"mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
	"mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync",
	"munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect",
	"open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
	"pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64",
	"preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
	"pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
	"recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
	"renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
	"rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
	"sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
	"sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
	"sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
	"semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
	"sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
	"setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
	"setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
	"set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
	"setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
	"signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat",
	"stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
	"syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
	"timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
	"timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill",
	"truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
	"utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid",
	"write", "writev", "arch_prctl", "modify_ldt", "chroot", NULL,
};

static const char *const SMALL_ALLOWED[] = {
	"read", "write", "openat", "close", "fstat", "mmap", "munmap", "brk", "rt_sigreturn",
	"exit", "exit_group", "futex", NULL,
};

static void fail(const char *what, int rc)
{
	fprintf(stderr, "make-samples: %s: %s\n", what, strerror(-rc));
	exit(1);
}

static void check(int rc, const char *what)
{
	if (rc < 0) fail(what, rc);
}

/*
 * Allows every name in the list that libseccomp knows (names another arch has,
 * like chown32, it leaves out of an x86_64 filter); returns how many x86_64 has.
 */
static int allow_all(scmp_filter_ctx ctx, const char *const *names)
{
	int on_x86_64 = 0;
	for (; *names; names++) {
		int nr = seccomp_syscall_resolve_name(*names);
		if (nr == __NR_SCMP_ERROR) continue;
		check(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0), *names);
		on_x86_64 += seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, *names) >= 0;
	}
	return on_x86_64;
}

/* Docker's argument rules: personality domains, clone without namespace flags, socket not AF_VSOCK. */
static void docker_argument_rules(scmp_filter_ctx ctx)
{
	static const scmp_datum_t personas[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };
	for (unsigned i = 0; i < sizeof(personas) / sizeof(personas[0]); i++)
		check(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
				       SCMP_A0(SCMP_CMP_EQ, personas[i])), "personality");
	check(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			       SCMP_A0(SCMP_CMP_MASKED_EQ, 0x7e020000, 0)), "clone");
	check(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
			       SCMP_A0(SCMP_CMP_NE, 40)), "socket");
}

static void export(scmp_filter_ctx ctx, const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) fail(path, -errno);
	check(seccomp_export_bpf(ctx, fd), path);
	close(fd);
	seccomp_release(ctx);
}

static scmp_filter_ctx new_filter(uint32_t default_action)
{
	scmp_filter_ctx ctx = seccomp_init(default_action);
	if (ctx == NULL) fail("seccomp_init", -ENOMEM);
	/* Samples must not depend on the machine that makes them. */
	check(seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE), "arch_remove");
	check(seccomp_arch_add(ctx, SCMP_ARCH_X86_64), "arch_add x86_64");
	return ctx;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
		return 2;
	}
	const char *dir = argv[1];

	scmp_filter_ctx ctx = new_filter(SCMP_ACT_KILL_PROCESS);
	allow_all(ctx, SMALL_ALLOWED);
	export(ctx, dir, "allowlist-small.bpf");

	for (int tree = 0; tree <= 1; tree++) {
		ctx = new_filter(SCMP_ACT_ERRNO(EPERM));
		if (tree) check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimize");
		int added = allow_all(ctx, DOCKER_ALLOWED);
		docker_argument_rules(ctx);
		fprintf(stderr, "docker-%s: %d x86_64 syscalls allowed outright, 3 with argument rules\n", tree ? "tree" : "linear", added);
		export(ctx, dir, tree ? "docker-tree.bpf" : "docker-linear.bpf");
	}

	ctx = new_filter(SCMP_ACT_ERRNO(EPERM));
	check(seccomp_arch_add(ctx, SCMP_ARCH_X86), "arch_add x86");
	check(seccomp_arch_add(ctx, SCMP_ARCH_X32), "arch_add x32");
	allow_all(ctx, SMALL_ALLOWED);
	docker_argument_rules(ctx);
	export(ctx, dir, "multiarch.bpf");
	return 0;
}
