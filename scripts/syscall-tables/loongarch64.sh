#!/usr/bin/env bash
# Prints "name number" for LoongArch64, which Debian's libseccomp 2.5.4 predates.
# LoongArch uses the kernel's generic table: its uapi <asm/unistd.h> only defines
# __ARCH_WANT_SYS_CLONE and includes <asm-generic/unistd.h>. Since Linux 6.11 the
# kernel also sets __ARCH_WANT_NEW_STAT there (fstat, newfstatat), so we do too.
# Source: /usr/include/asm-generic/unistd.h from Debian's linux-libc-dev.
set -euo pipefail
out=${1:?usage: loongarch64.sh BUILD_DIR}
wants='-D__ARCH_WANT_SYS_CLONE -D__ARCH_WANT_SYS_CLONE3 -D__ARCH_WANT_NEW_STAT'
names=$(echo '#include <asm-generic/unistd.h>' | gcc -E -dM $wants -x c - \
  | awk '$1 == "#define" && $2 ~ /^__NR_/ && $2 != "__NR_syscalls" && $2 != "__NR_arch_specific_syscall" { print substr($2, 6) }' | sort -u)
{
  echo '#include <asm-generic/unistd.h>'
  echo '#include <stdio.h>'
  echo 'int main(void) {'
  for n in $names; do echo "  printf(\"%s %d\\n\", \"$n\", (int)(__NR_$n));"; done
  echo '  return 0; }'
} > "$out/loongarch64.c"
gcc $wants -o "$out/loongarch64" "$out/loongarch64.c"
"$out/loongarch64"
