#!/usr/bin/env bash
# Benchmark of concurrent microbatch batches on a postgres target (#19): a
# model of 6 daily batches, each with the same CPU cost on the server (a
# sum over generate_series(1, WORK)), rebuilt with `dango run --full-refresh`
# with --threads 1 (the batches in order, the reference) and --threads 4
# (batches 2 to 5 at once, each on a session of its own), against a real
# PostgreSQL server started as the tests start it. RUNS (default 3)
# alternating runs; medians, with the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${BENCH_DIR:-$root/bench/out/pg_microbatch}
runs=${RUNS:-3}
rm -rf "$work" && mkdir -p "$work"
. bench/lib.sh
TESTS_DIR="$root/tests"
test_cleanup() { :; }
. "$root/tests/e2e/db_lib.sh"
export PATH="$root:$PATH"
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)"; exit 1; }

pg_start
psql_do "CREATE DATABASE wh"
cd "$work"
mkdir -p p/models p/seeds
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
pg_dbt_profile
{ echo "k,ts"; for d in 1 2 3 4 5 6; do echo "$d,2024-01-0$d 06:00:00"; done; } >p/seeds/events.csv
printf 'seeds:\n  - name: events\n    config: {event_time: ts}\n' >p/seeds/s.yml
cat >p/models/conc.sql <<EOF
{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts',
          batch_size='day', begin='2024-01-01', unique_key='k') }}
select k, ts, (select sum(x) from generate_series(1, ${WORK:-4000000}) x) as s from {{ ref('events') }}
EOF
export DANGO_NOW=2024-01-06T10:00:00Z
dango seed --project-dir p --profiles-dir . >/dev/null
dango run --project-dir p --profiles-dir . >/dev/null
: >serial.txt
: >concurrent.txt
for i in $(seq 1 "$runs"); do
    measure serial dango run --project-dir p --profiles-dir . -s conc --full-refresh --threads 1 >>serial.txt
    measure concurrent dango run --project-dir p --profiles-dir . -s conc --full-refresh --threads 4 >>concurrent.txt
    grep -q "run concurrently, on 4 connections" concurrent.log || { echo "bench: the batches did not run at once"; exit 1; }
    echo "run $i: load $(loadavg)"
done
s=$(median <serial.txt | cut -d' ' -f2)
c=$(median <concurrent.txt | cut -d' ' -f2)
ratio=$(echo "scale=2; $s / $c" | bc)
echo "serial (--threads 1): ${s}s  concurrent (--threads 4): ${c}s  speedup: ${ratio}x  (load $(loadavg), $(nproc) cores)"
bench_record "pg microbatch concurrent (6 batches)" "${c}s" "${s}s" "$ratio" "> 1"
