#!/usr/bin/env bash
# `npm start`: the main job on bundled data. Compiles Docker's real seccomp
# profile as runc loads it for a default container, verifies the filter,
# compiles it to WebAssembly, decides a 1,000,000-record syscall trace with
# both engines, checks that they agree, and prints the decisions and both
# engines' throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
cbpf() { node bin/cbpf.js "$@"; }
filter=profiles/docker-20.10.24.json
mkdir -p build
echo "== cbpf info $filter   (Docker 20.10.24's profile, resolved for a default container under runc)"
cbpf info "$filter" | sed -n '1,3p;/companion/p;/stub/p'
echo
echo "== cbpf verify $filter"
cbpf verify "$filter"
echo
echo "== cbpf compile $filter -o build/docker.wasm"
cbpf compile "$filter" -o build/docker.wasm
echo "   $(stat -c %s build/docker.wasm) bytes of standalone WebAssembly"
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
