#!/usr/bin/env bash
# Cold start, whole process: `cbpf eval` on 1,000, 1,000,000 and 10,000,000
# realistic records through docker-linear, with --engine interp, with the
# default engine and no cached module, and with the default engine once the
# module is cached. Prints wall-clock seconds (/usr/bin/time), RUNS runs each.
# Usage: scripts/cold-start.sh [RUNS] [FILTER]   (after npm install; builds first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
filter=${2:-bench/samples/docker-linear.bpf}
npx tsc -p .
mkdir -p build/cold-start
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
for count in 1000 1000000 10000000; do
  records=build/cold-start/$count.bin
  [ -f "$records" ] || node bin/cbpf.js records --generate "$count" --mix realistic --seed 1 -o "$records"
  for variant in interp auto-uncached auto-cached; do
    case $variant in
      interp) env=(CBPF_CACHE_DIR=off); engine=interp ;;
      auto-uncached) env=(CBPF_CACHE_DIR=off); engine=auto ;;
      auto-cached) env=(CBPF_CACHE_DIR="$cache"); engine=auto
        CBPF_CACHE_DIR="$cache" node bin/cbpf.js eval "$filter" --records build/cold-start/1000.bin --engine jit --out /dev/null ;;
    esac
    times=()
    for _ in $(seq "$runs"); do
      times+=("$( { env "${env[@]}" /usr/bin/time -f %e node bin/cbpf.js eval "$filter" --records "$records" --engine $engine --out /dev/null; } 2>&1 | tail -1)")
    done
    echo "$count records, $variant: ${times[*]} s"
  done
done
