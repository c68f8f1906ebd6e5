#!/usr/bin/env bash
# How the per-source commands grow with the number of sources (issue 18):
# a project of N csv sources (one 2-row file each, all synced), then
# `dango sync --dry-run`, `dango source list` and `dango db status`, at
# N = 100 and N = 1,000 (SIZES overrides). Each line gives both sizes and
# the growth ratio: ten times the sources should cost at most ten times
# as much (a ratio above 10 is a cost that grows faster than the work).
# RUNS (default 3) runs of each, medians; the load average is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dango="$root/dango"
work=${BENCH_DIR:-$root/bench/out/sources_scale}
sizes=${SIZES:-100 1000}
runs=${RUNS:-3}
rm -rf "$work" && mkdir -p "$work"
. bench/lib.sh
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)"; exit 1; }

declare -A secs
for n in $sizes; do
    mkdir -p "$work/p$n" && cd "$work/p$n"
    "$dango" init --skip-wizard </dev/null >/dev/null
    sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
    mkdir -p data/s
    { echo 'version: "1.0"'; echo 'sources:'
      for i in $(seq 1 "$n"); do
          printf "id,v\n%d,a\n%d,b\n" "$i" "$((i + n))" >"data/s/s$i.csv"
          printf "  - name: s%d\n    type: csv\n    enabled: true\n    csv:\n      path: data/s/s%d.csv\n" "$i" "$i"
      done; } >.dango/sources.yml
    sync=$(measure sync_all "$dango" sync)
    read -r _ s _ <<<"$sync"; secs[sync,$n]=$s
    for cmd in "sync --dry-run" "source list" "db status"; do
        label=${cmd// /_}
        : >"$work/$label.$n.txt"
        for r in $(seq "$runs"); do
            # shellcheck disable=SC2086
            measure "$label" "$dango" $cmd >>"$work/$label.$n.txt"
        done
        read -r _ s _ < <(median <"$work/$label.$n.txt")
        secs[$cmd,$n]=$s
    done
    cd "$root"
done
set -- $sizes
lo=$1; hi=${!#}
echo
echo "per-source commands, $lo and $hi sources (medians of $runs runs, load $(loadavg))"
for cmd in "sync --dry-run" "source list" "db status" "sync"; do
    a=${secs[$cmd,$lo]}; b=${secs[$cmd,$hi]}
    g=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b / (a > 0 ? a : 0.001) }')
    printf "  %-22s %4s sources %7s s   %5s sources %7s s   growth %sx for %sx the sources\n" \
        "dango $cmd" "$lo" "$a" "$hi" "$b" "$g" "$((hi / lo))"
    bench_record "dango $cmd, $lo -> $hi sources" "$b s" "$a s" "${g}x" "<= $((hi / lo))x"
done
