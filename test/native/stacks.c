/*
 * stacks: installs known stacks of seccomp filters, for the tests of
 * native/live.c (cbpf-live dump and run). Build:
 *   gcc -O2 -Wall -pthread -o stacks test/native/stacks.c
 * (-pthread for the tsync mode's second thread).
 *
 * Usage: stacks two|three|tsync|fork [--exit]
 *   two, three  install 2 or 3 filters
 *   tsync       starts a second thread, then installs 2 filters from the main
 *               thread with seccomp(SECCOMP_FILTER_FLAG_TSYNC): both threads
 *               then hold both
 *   fork        installs 1 filter and forks; the child installs 1 more (the
 *               child holds 2, the parent 1)
 *
 * Filter k (1, 2, 3 in installation order over the process's life) is
 *   ld [0]; jeq #(1000 + k), 0, 1; ret ERRNO(k); ret ALLOW
 * Odd k go through prctl(PR_SET_SECCOMP), even k through seccomp(2), so both
 * paths are exercised; in tsync mode every filter goes through seccomp(2), as
 * prctl cannot pass TSYNC.
 *
 * Output on stdout, per process that holds filters (in fork mode the child's
 * lines come first): "installed PID K HEX" for each filter it holds, oldest
 * first, HEX the raw struct sock_filter bytes in lowercase hex, then
 * "ready PID". Then it pauses until killed, or with --exit exits 0 (the fork
 * parent after reaping its child). A fork child dies with its parent.
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILTER_LEN 4

static struct sock_filter filters[4][FILTER_LEN]; /* filters[k], k = 1..3 */

static void die(const char *what)
{
	fprintf(stderr, "stacks: %s\n", what);
	exit(1);
}

static void build(int k)
{
	struct sock_filter f[FILTER_LEN] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1000 + k, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | k),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	memcpy(filters[k], f, sizeof(f));
}

static void install(int k, int tsync)
{
	struct sock_fprog prog = { .len = FILTER_LEN, .filter = filters[k] };
	long ret;
	if (k % 2 == 1 && !tsync) ret = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
	else ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0, &prog);
	/* With TSYNC, a positive return is a thread that could not be synchronized. */
	if (ret != 0) {
		perror("stacks: installing a filter");
		exit(1);
	}
}

/* The lines of one process holding filters 1..count. */
static void report(int count)
{
	pid_t pid = getpid();
	for (int k = 1; k <= count; k++) {
		printf("installed %d %d ", pid, k);
		const uint8_t *bytes = (const uint8_t *)filters[k];
		for (size_t i = 0; i < sizeof(filters[k]); i++) printf("%02x", bytes[i]);
		putchar('\n');
	}
	printf("ready %d\n", pid);
	if (fflush(stdout) != 0) die("cannot write standard output");
}

static void *idle_thread(void *unused)
{
	(void)unused;
	for (;;) pause();
	return NULL;
}

/* The second thread must hold the filters TSYNC gave it. */
static void check_thread_filters(pid_t tid, int expected)
{
	char path[64], line[256];
	int count = -1;
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	FILE *f = fopen(path, "r");
	if (f == NULL) die("cannot read the second thread's status");
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Seccomp_filters: %d", &count) == 1) break;
	fclose(f);
	if (count != -1 && count != expected) die("TSYNC did not reach the second thread");
}

static pid_t thread_tid;
static void *tid_thread(void *started)
{
	thread_tid = (pid_t)syscall(SYS_gettid);
	__atomic_store_n((int *)started, 1, __ATOMIC_RELEASE);
	return idle_thread(NULL);
}

static void finish(int exit_now)
{
	if (exit_now) exit(0);
	for (;;) pause();
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--exit") != 0))
		die("usage: stacks two|three|tsync|fork [--exit]");
	const char *mode = argv[1];
	int exit_now = argc == 3;
	for (int k = 1; k <= 3; k++) build(k);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("cannot set no_new_privs");

	if (strcmp(mode, "two") == 0 || strcmp(mode, "three") == 0) {
		int count = mode[1] == 'w' ? 2 : 3;
		for (int k = 1; k <= count; k++) install(k, 0);
		report(count);
		finish(exit_now);
	} else if (strcmp(mode, "tsync") == 0) {
		pthread_t thread;
		int started = 0;
		if (pthread_create(&thread, NULL, tid_thread, &started) != 0) die("cannot start a thread");
		while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE)) sched_yield();
		install(1, 1);
		install(2, 1);
		check_thread_filters(thread_tid, 2);
		report(2);
		finish(exit_now);
	} else if (strcmp(mode, "fork") == 0) {
		install(1, 0);
		int ready[2];
		if (pipe(ready) != 0) die("cannot make a pipe");
		fflush(stdout);
		pid_t parent = getpid();
		pid_t child = fork();
		if (child < 0) die("cannot fork");
		if (child == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent) _exit(1);
			install(2, 0);
			report(2);
			/* Lets the parent print its lines after the child's. */
			if (write(ready[1], "x", 1) != 1) die("cannot signal the parent");
			finish(exit_now);
		}
		char byte;
		if (read(ready[0], &byte, 1) != 1) die("the child failed");
		report(1);
		if (exit_now) {
			int status;
			if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) die("the child failed");
		}
		finish(exit_now);
	} else {
		die("unknown mode");
	}
	return 0;
}
