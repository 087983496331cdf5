#!/usr/bin/env bash
# Regenerates the sample filters in bench/samples/ with libseccomp (Debian's
# libseccomp-dev; scripts/install-system-deps.sh installs it). The .bpf files are
# committed, so using cbpf needs neither this script nor libseccomp.
# Usage: gen-samples.sh [OUT_DIR]   (default bench/samples; tests pass a temporary folder)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bench/samples}
mkdir -p "$root/build/samples" "$out"
gcc -O2 -Wall -o "$root/build/samples/make-samples" "$root/scripts/samples/make-samples.c" -lseccomp
"$root/build/samples/make-samples" "$out"
for f in "$out"/*.bpf; do echo "$(basename "$f"): $(( $(stat -c %s "$f") / 8 )) instructions"; done
