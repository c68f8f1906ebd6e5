#!/usr/bin/env bash
# The table `make bench` ends with: every ratio the scripts recorded
# (bench/lib.sh bench_record), with its goal, so a regression shows at a glance.
f=${BENCH_RATIOS:-$(cd "$(dirname "$0")" && pwd)/out/ratios.tsv}
[ -s "$f" ] || { echo "bench: no ratios recorded ($f)"; exit 0; }
echo
echo "== all ratios (load average at the time of each line)"
awk -F'\t' 'BEGIN { printf "  %-46s %12s %12s %8s %-16s %5s\n", "measure", "dango", "reference", "ratio", "goal", "load" }
    { printf "  %-46s %12s %12s %8s %-16s %5s\n", $1, $2, $3, $4, $5, $6 }' "$f"
