/*
 * libseccomp as an oracle for cbpf's profile compiler: builds a filter from
 * resolved profile rules with the same libseccomp calls a container runtime
 * makes, and writes the filter libseccomp generates (raw sock_filter bytes,
 * native byte order) to stdout.
 *
 * Input on stdin, one directive a line:
 *   arches NAME...            libseccomp arch names (x86_64, x86, x32, aarch64, s390x, ...):
 *                             the filter's arches, in place of the real native one
 *   default ACTION            the default action, a u32 (SCMP_ACT_*)
 *   badarch ACTION            optional: SCMP_FLTATR_ACT_BADARCH
 *   optimize LEVEL            optional: SCMP_FLTATR_CTL_OPTIMIZE (1 or 2)
 *   rule NAME ACTION N [INDEX OP VALUE VALUETWO]...
 *                             seccomp_rule_add_array(ACTION, nr of NAME, N conditions);
 *                             OP is the scmp_compare number, values are u64
 *   repeat N                  optional: instead of the filter, time N builds (seccomp_init to
 *                             seccomp_export_bpf) and print "p50 NS p90 NS" (nanoseconds)
 * Names libseccomp does not know at all are skipped, as runc skips them.
 *
 * Exit 0 with the filter on stdout; 3 when libseccomp refuses a rule, with
 * "rule K NAME: ERRNO" on stderr (K counts rule lines from 0, ERRNO is the
 * negative errno seccomp_rule_add_array returned); 2 for bad input.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "libseccomp oracle: %s\n", what);
	exit(2);
}

static int compare_longs(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* Builds the filter the directives in `input` describe; exits on bad input or a refused rule. */
static scmp_filter_ctx build(const char *input, long *repeat)
{
	char line[65536];
	scmp_filter_ctx ctx = NULL;
	uint32_t arches[32];
	int arch_count = 0, rule_index = 0;

	for (const char *at = input; *at != '\0';) {
		size_t length = strcspn(at, "\n");
		if (length >= sizeof line)
			die("line too long");
		memcpy(line, at, length);
		line[length] = '\0';
		at += length + (at[length] == '\n');
		char *save = NULL, *word = strtok_r(line, " \t", &save);
		if (word == NULL)
			continue;
		if (strcmp(word, "repeat") == 0) {
			*repeat = strtol(strtok_r(NULL, " \t", &save), NULL, 0);
		} else if (strcmp(word, "arches") == 0) {
			for (char *name; (name = strtok_r(NULL, " \t", &save)) != NULL;) {
				if (arch_count == 32)
					die("too many arches");
				arches[arch_count] = seccomp_arch_resolve_name(name);
				if (arches[arch_count] == 0)
					die("unknown arch");
				arch_count++;
			}
		} else if (strcmp(word, "default") == 0) {
			if (arch_count == 0)
				die("arches must come before default");
			ctx = seccomp_init((uint32_t)strtoul(strtok_r(NULL, " \t", &save), NULL, 0));
			if (ctx == NULL)
				die("seccomp_init failed");
			/* The listed arches replace the real native one unless they include it; the native arch goes
			 * first, since a filter cannot mix byte orders (seccomp_arch_add returns -EDOM). */
			int native_listed = 0;
			for (int i = 0; i < arch_count; i++)
				native_listed |= arches[i] == seccomp_arch_native();
			if (!native_listed && seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE) < 0)
				die("seccomp_arch_remove failed");
			for (int i = 0; i < arch_count; i++) {
				int rc = seccomp_arch_add(ctx, arches[i]);
				if (rc < 0 && rc != -EEXIST)
					die("seccomp_arch_add failed");
			}
			seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
		} else if (ctx == NULL) {
			die("default must come before rules and attributes");
		} else if (strcmp(word, "badarch") == 0) {
			if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, (uint32_t)strtoul(strtok_r(NULL, " \t", &save), NULL, 0)) < 0)
				die("badarch refused");
		} else if (strcmp(word, "optimize") == 0) {
			if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, (uint32_t)strtoul(strtok_r(NULL, " \t", &save), NULL, 0)) < 0)
				die("optimize refused");
		} else if (strcmp(word, "rule") == 0) {
			const char *name = strtok_r(NULL, " \t", &save);
			char *action = strtok_r(NULL, " \t", &save), *count = strtok_r(NULL, " \t", &save);
			if (name == NULL || action == NULL || count == NULL)
				die("rule needs NAME ACTION N");
			unsigned n = (unsigned)strtoul(count, NULL, 0);
			struct scmp_arg_cmp conditions[6];
			if (n > 6)
				die("more than 6 conditions");
			for (unsigned i = 0; i < n; i++) {
				char *fields[4];
				for (int f = 0; f < 4; f++)
					if ((fields[f] = strtok_r(NULL, " \t", &save)) == NULL)
						die("a condition needs INDEX OP VALUE VALUETWO");
				conditions[i].arg = (unsigned)strtoul(fields[0], NULL, 0);
				conditions[i].op = (enum scmp_compare)strtoul(fields[1], NULL, 0);
				conditions[i].datum_a = strtoull(fields[2], NULL, 0);
				conditions[i].datum_b = strtoull(fields[3], NULL, 0);
			}
			int nr = seccomp_syscall_resolve_name(name);
			if (nr != __NR_SCMP_ERROR) {
				int rc = seccomp_rule_add_array(ctx, (uint32_t)strtoul(action, NULL, 0), nr, n, conditions);
				if (rc < 0) {
					fprintf(stderr, "rule %d %s: %d\n", rule_index, name, rc);
					exit(3);
				}
			}
			rule_index++;
		} else {
			die("unknown directive");
		}
	}
	if (ctx == NULL)
		die("no default action");
	return ctx;
}

int main(void)
{
	size_t size = 0, capacity = 1 << 16;
	char *input = malloc(capacity);
	for (size_t got; input != NULL && (got = fread(input + size, 1, capacity - size - 1, stdin)) > 0;) {
		size += got;
		if (size + 1 == capacity)
			input = realloc(input, capacity *= 2);
	}
	if (input == NULL)
		die("out of memory");
	input[size] = '\0';

	long repeat = 0;
	scmp_filter_ctx ctx = build(input, &repeat);
	if (repeat <= 0) {
		if (seccomp_export_bpf(ctx, 1) < 0)
			die("seccomp_export_bpf failed");
		seccomp_release(ctx);
		return 0;
	}
	seccomp_release(ctx);
	int null = open("/dev/null", O_WRONLY);
	long *ns = malloc(sizeof *ns * (size_t)repeat);
	for (long i = 0; i < repeat; i++) {
		struct timespec start, end;
		clock_gettime(CLOCK_MONOTONIC, &start);
		ctx = build(input, &repeat);
		if (seccomp_export_bpf(ctx, null) < 0)
			die("seccomp_export_bpf failed");
		seccomp_release(ctx);
		clock_gettime(CLOCK_MONOTONIC, &end);
		ns[i] = (end.tv_sec - start.tv_sec) * 1000000000L + (end.tv_nsec - start.tv_nsec);
	}
	qsort(ns, (size_t)repeat, sizeof *ns, compare_longs);
	printf("p50 %ld p90 %ld\n", ns[repeat / 2], ns[repeat * 9 / 10]);
	return 0;
}
