#!/usr/bin/env bash
# `npm start`: the main job on bundled data. Verifies a real-world-shaped filter
# (Docker-like, made by libseccomp), compiles it to WebAssembly, decides a
# 1,000,000-record syscall trace with both engines, checks that they agree,
# and prints the decisions and both engines' throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
cbpf() { node bin/cbpf.js "$@"; }
filter=bench/samples/docker-linear.bpf
mkdir -p build
echo "== cbpf verify $filter"
cbpf verify "$filter"
echo
echo "== cbpf compile $filter -o build/docker-linear.wasm"
cbpf compile "$filter" -o build/docker-linear.wasm
echo "   $(stat -c %s build/docker-linear.wasm) bytes of standalone WebAssembly"
echo
node bin/cbpf.js records --generate 1000000 -o build/trace.bin
echo "== cbpf eval $filter --records build/trace.bin   (1,000,000 records, a realistic x86_64 mix)"
cbpf eval "$filter" --records build/trace.bin --engine interp --timing -o build/decisions-interp.txt
cbpf eval "$filter" --records build/trace.bin --engine jit --timing -o build/decisions-jit.txt
if cmp -s build/decisions-interp.txt build/decisions-jit.txt; then
  echo "   the interpreter and the JIT agree on every record"
else
  echo "   the interpreter and the JIT DISAGREE: compare build/decisions-*.txt" >&2
  exit 1
fi
echo
cbpf eval "$filter" --records build/trace.bin --summary > build/summary.txt
sed -n '1,/^syscalls:/p' build/summary.txt
echo "  ... (the denied ones:)"
grep -v ' ALLOW$' build/summary.txt | sed -n '/^syscalls:/,$p' | tail -n +2
