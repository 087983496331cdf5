#!/usr/bin/env bash
# Regenerates the sample filters in bench/samples/ with libseccomp (Debian's
# libseccomp-dev; scripts/install-system-deps.sh installs it). The .bpf files are
# committed, so using cbpf needs neither this script nor libseccomp.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/build/samples"
gcc -O2 -Wall -o "$root/build/samples/make-samples" "$root/scripts/samples/make-samples.c" -lseccomp
"$root/build/samples/make-samples" "$root/bench/samples"
for f in "$root"/bench/samples/*.bpf; do echo "$(basename "$f"): $(( $(stat -c %s "$f") / 8 )) instructions"; done
