#!/usr/bin/env bash
# Benchmark of `dango web` (issue 15): a project of SOURCES (100) CSV
# sources and MODELS (1,000) dbt models (a staging view per source, then
# layers of intermediate views and mart tables over them), all synced and
# run; then each API route is asked 200 times on one keep-alive connection
# (p50, p95; reference: an embedded asset, the server's floor, in the same
# run) with the server's CPU time per request (from /proc, which the load
# of the machine stretches far less than wall times), and Chromium loads
# /models (first contentful paint, then when the first screen of rows and
# all 1,000 rows are painted; reference: /login, a static page with the
# same stylesheet). BENCH_DANGO=path serves with another build, to compare.
#  Targets: API p95 < 50 ms, first paint of Models < 300 ms.
# Prints its figures; record them in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dango="$root/dango"
sources=${SOURCES:-100}
models=${MODELS:-1000}
work=${BENCH_DIR:-$root/bench/out/web}
# BENCH_REUSE=1: measure again on the project the last run built
if [ "${BENCH_REUSE:-0}" = 1 ] && [ -f "$work/p/dbt/target/manifest.json" ]; then
    cd "$work/p"
else
rm -rf "$work" && mkdir -p "$work"
cd "$work"
"$dango" init p --skip-wizard >/dev/null </dev/null
cd p
{
    echo 'version: "1.0"'
    echo 'sources:'
    for i in $(seq 1 "$sources"); do
        printf 'id,day,amount\n' >"data/s$i.csv"
        for r in $(seq 1 20); do printf '%d,2024-01-%02d,%d.5\n' "$r" $(( r % 28 + 1 )) $(( i * r )); done >>"data/s$i.csv"
        printf '  - name: s%d\n    type: csv\n    csv:\n      path: data/s%d.csv\n' "$i" "$i"
    done
} >.dango/sources.yml
t0=$(date +%s.%N)
"$dango" sync >sync.log 2>&1
"$dango" generate >/dev/null 2>&1
# staging: one view per source (from generate); then intermediate views and marts
mkdir -p dbt/models/intermediate dbt/models/marts
rest=$(( models - sources ))
inter=$(( rest * 7 / 10 ))
for j in $(seq 1 "$inter"); do
    a=$(( (j - 1) % sources + 1 )); b=$(( j % sources + 1 ))
    if [ "$j" -gt "$sources" ]; then
        printf "select * from {{ ref('int_%d') }}\n" $(( j - sources )) >"dbt/models/intermediate/int_$j.sql"
    else
        printf "select a.id, a.amount + b.amount as amount from {{ ref('stg_s%d') }} a join {{ ref('stg_s%d') }} b using (id)\n" "$a" "$b" \
            >"dbt/models/intermediate/int_$j.sql"
    fi
done
for k in $(seq 1 $(( rest - inter ))); do
    printf "{{ config(materialized='table') }}\nselect id, sum(amount) as amount from {{ ref('int_%d') }} group by id\n" \
        $(( (k - 1) % inter + 1 )) >"dbt/models/marts/mart_$k.sql"
done
"$dango" run --threads 4 >run.log 2>&1 || { tail -5 run.log; exit 1; }
setup=$(echo "$(date +%s.%N) - $t0" | bc)
# ten schedules (the scheduler runs in the server; none is due during the run)
{
    echo 'version: "1.0"'
    echo 'schedules:'
    for i in $(seq 1 10); do
        printf '  - name: sched_%d\n    type: sync_only\n    cron: "0 3 1 1 *"\n    sources: [s%d]\n' "$i" "$i"
    done
} >.dango/schedules.yml
echo "project: $sources sources, $(jq '[.nodes[] | select(.resource_type == "model")] | length' dbt/target/manifest.json) models (set up, synced and run in ${setup%.*} s)"
fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
# BENCH_DANGO=path: serve with another binary (an older build, to compare)
"${BENCH_DANGO:-$dango}" web --port 0 >web.out 2>&1 &
web=$!
trap 'kill $web 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "Dango web on" web.out && break; sleep 0.1; done
url=$(sed -n 's/^Dango web on \(http[^ ]*\)\/ .*/\1/p' web.out)
NODE_PATH="$root/tests/browser/node_modules" DANGO_WEB_URL=$url DANGO_WEB_PID=$web node "$root/bench/web_bench.mjs"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
