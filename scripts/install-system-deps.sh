#!/usr/bin/env bash
# Installs the Debian packages cbpf's development needs. Using cbpf needs none
# of them: they regenerate committed data (syscall tables, sample filters), let
# the tests check that data against its sources, and build the benchmark's
# native competitors.
#   gcc, make       compile the generators' small C programs
#   libseccomp-dev  syscall tables and sample filters (scripts/gen-*.{js,sh})
#   linux-libc-dev  the LoongArch syscall table (asm-generic/unistd.h)
#   strace          records the real syscall logs the strace-input tests evaluate
#   libpcap-dev     bpf_filter(), a native competitor in cbpf bench
#   util-linux      taskset: cbpf bench times a workload's competitors on one CPU
# Called by .ci/run and by developers (docs/development.md). Needs root (or sudo).
set -euo pipefail
packages=(gcc make libseccomp-dev linux-libc-dev strace libpcap-dev util-linux)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${packages[*]})"
  exit 0
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "system packages: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
