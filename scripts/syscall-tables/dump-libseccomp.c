/*
 * Prints "name number" for every syscall number libseccomp knows on one
 * architecture, scanning [first, first + count). Used by gen-syscall-tables.js.
 * Usage: dump-libseccomp ARCH FIRST COUNT [FIRST COUNT ...]
 */
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 4 || argc % 2 != 0) {
		fprintf(stderr, "usage: %s ARCH FIRST COUNT [FIRST COUNT ...]\n", argv[0]);
		return 2;
	}
	uint32_t arch = seccomp_arch_resolve_name(argv[1]);
	if (arch == 0) {
		fprintf(stderr, "libseccomp does not know the arch %s\n", argv[1]);
		return 1;
	}
	for (int i = 2; i < argc; i += 2) {
		long first = strtol(argv[i], NULL, 0), count = strtol(argv[i + 1], NULL, 0);
		for (long nr = first; nr < first + count; nr++) {
			char *name = seccomp_syscall_resolve_num_arch(arch, (int)nr);
			if (name != NULL) {
				printf("%s %ld\n", name, nr);
				free(name);
			}
		}
	}
	return 0;
}
