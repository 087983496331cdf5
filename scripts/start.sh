#!/usr/bin/env bash
# `npm start`: the main job on bundled data. Verifies the sample filters, summarises
# the Docker-like one, and decides a generated 100,000-record trace through it.
set -euo pipefail
cd "$(dirname "$0")/.."
cbpf() { node bin/cbpf.js "$@"; }
filter=bench/samples/docker-linear.bpf
echo "== cbpf verify bench/samples/*.bpf"
cbpf verify bench/samples/*.bpf
echo
echo "== cbpf info $filter"
cbpf info "$filter" | sed -n '1,3p;$p'
echo
mkdir -p build
node dist/bench/make-records.js 100000 build/trace.bin > /dev/null
echo "== cbpf eval $filter --records build/trace.bin --summary   (100,000 records, a realistic x86_64 mix)"
cbpf eval "$filter" --records build/trace.bin --summary > build/summary.txt
sed -n '1,/^syscalls:/p' build/summary.txt
echo "  ... (the denied ones:)"
grep -v ' ALLOW$' build/summary.txt | sed -n '/^syscalls:/,$p' | tail -n +2
