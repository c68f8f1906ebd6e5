#!/usr/bin/env bash
# The kill -9 campaign of issue 10, repeatable: N random kill points (default
# 20) in each of
#   sync      a large CSV file sync (the file alternates between two versions)
#   refresh   a full refresh of the same source
#   api       an API sync (tests/fixtures/api_server.c, append disposition)
#   run       a dango run (tables, a view and an incremental model)
# and after each kill checks that data, state and lock are consistent:
#   - every table holds a whole number of loads, of one version, with no
#     duplicates (ids counted), or is absent if it never completed;
#   - the lock is free (a writer gets it with --wait 0);
#   - the next sync or run completes and gives the right totals.
# Prints one line per kill and ends with "N/N clean" (exit 0 when all are).
# Not part of `make test` (it takes minutes); see docs/reliability.md.
#
#   tests/killtest.sh [N]          after `make` and `make unit-bins`
#   KILL_ROWS=2000000 KILL_API_RECORDS=100000 KILL_ONLY=api tests/killtest.sh 5
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
dango=${DANGO:-$root/dango}
fixtures=$root/${BUILD:-build}/fixtures
n_kills=${1:-20}
rows=${KILL_ROWS:-2000000}
api_records=${KILL_API_RECORDS:-100000}
only=${KILL_ONLY:-}
[ -x "$dango" ] || { echo "killtest: no $dango (run make)"; exit 2; }
[ -x "$fixtures/api_server" ] || { echo "killtest: no $fixtures/api_server (run make unit-bins)"; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dango-killtest.XXXXXX")
api_pid=
cleanup() {
    [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
export NO_COLOR=1 TZ=UTC LC_ALL=C.UTF-8
cd "$work" || exit 2

q() { "$dango" query --csv "$1" 2>"$work/q.err" | tail -n +2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
rand_below() { echo $(( (RANDOM * 32768 + RANDOM) % $1 )); }
table_exists() { # schema table
    [ "$(q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$1' AND table_name = '$2'")" = 1 ]
}
lock_free() { "$dango" query --write --wait 0 "SELECT 1" >/dev/null 2>&1; }

# Start a command, kill -9 it after ms milliseconds (if still running).
kill_after() { # ms command...
    local ms=$1
    shift
    "$@" >"$work/killed.log" 2>&1 &
    local pid=$!
    sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# How long a command takes, in ms (it must succeed).
duration() {
    local t0 t1
    t0=$(now_ms)
    "$@" >"$work/measure.log" 2>&1 || { echo "killtest: '$*' failed:"; cat "$work/measure.log"; exit 2; }
    t1=$(now_ms)
    echo $(( t1 - t0 ))
}

total=0 clean=0
report() { # kind i ms verdict...
    local kind=$1 i=$2 ms=$3
    shift 3
    total=$((total + 1))
    if [ "$1" = ok ]; then
        clean=$((clean + 1))
        printf '%-8s %2d  kill at %5d ms  clean\n' "$kind" "$i" "$ms"
    else
        printf '%-8s %2d  kill at %5d ms  NOT CLEAN: %s\n' "$kind" "$i" "$ms" "$*"
        sed 's/^/    | /' "$work/killed.log" | tail -5
        [ -s "$work/q.err" ] && sed 's/^/    | query: /' "$work/q.err" | tail -3
    fi
}

# --- the project ----------------------------------------------------------------
"$dango" init p --skip-wizard </dev/null >/dev/null || exit 2
cd p || exit 2
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
"$fixtures/api_server" "$work/port" "$work/api.log" "$api_records" &
api_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
for v in 1 2; do
    "$dango" query --write "COPY (SELECT i AS id, 'v$v ' || i AS name, i * 1.5 AS amount FROM range($rows) t(i))
        TO 'data/big_v$v.csv' (HEADER)" >/dev/null || exit 2
done
cp data/big_v1.csv data/big.csv
cat >.dango/sources.yml <<YAML
version: "1.0"
sources:
  - name: big
    type: csv
    csv: {path: data/big.csv}
  - name: api
    type: rest_api
    rest_api:
      base_url: http://127.0.0.1:$port
      endpoints:
        - name: records
          path: /bench
          params: {per_page: 500}
          paginator: {type: json_link, next_url_path: next}
          write_disposition: append
YAML
mkdir -p dbt/models/kill
cat >dbt/models/kill/copy_big.sql <<'SQL'
{{ config(materialized='table') }}
select * from raw_big.big
SQL
cat >dbt/models/kill/agg.sql <<'SQL'
{{ config(materialized='table') }}
select count(*) as n, count(distinct id) as d from {{ ref('copy_big') }}
SQL
cat >dbt/models/kill/agg_view.sql <<'SQL'
{{ config(materialized='view') }}
select * from {{ ref('agg') }}
SQL
cat >dbt/models/kill/inc.sql <<'SQL'
{{ config(materialized='incremental', unique_key='id') }}
select id, name from {{ ref('copy_big') }}
{% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}
SQL
version=1  # of data/big.csv

# --- checks -----------------------------------------------------------------------
# raw_big.big: $rows rows, distinct ids, all of one version ("absent" if
# there is no table).
check_big() { # allowed versions ("1 2" or "1")
    table_exists raw_big big || { echo absent; return 0; }
    local got
    got=$(q "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || count(DISTINCT left(name, 2)) || ' ' || min(left(name, 2)) FROM raw_big.big")
    set -- $got
    [ "$1" = "$rows" ] && [ "$2" = "$rows" ] && [ "$3" = 1 ] || { echo "raw_big.big holds '$got'"; return 1; }
    echo "$4"
}

sync_case() { # kind i max_ms command...
    local kind=$1 i=$2 max=$3
    shift 3
    local old=$version
    version=$(( 3 - version ))
    cp "data/big_v$version.csv" data/big.csv
    local ms=$(( 50 + $(rand_below "$max") ))
    kill_after "$ms" "$@"
    local why="" state
    state=$(check_big) || why="after the kill: $state"
    # loaded once before the campaign: from then on the table never goes away
    if [ -z "$why" ] && [ "$state" != "v$old" ] && [ "$state" != "v$version" ]; then
        why="after the kill: version $state"
    fi
    [ -z "$why" ] && ! lock_free && why="the lock is still held"
    if [ -z "$why" ]; then
        "$dango" sync big >"$work/next.log" 2>&1 || why="the next sync failed: $(tail -1 "$work/next.log")"
    fi
    if [ -z "$why" ]; then
        state=$(check_big) || why="after the next sync: $state"
        [ -z "$why" ] && [ "$state" != "v$version" ] && why="after the next sync: $state, not v$version"
    fi
    if [ -z "$why" ]; then report "$kind" "$i" "$ms" ok; else report "$kind" "$i" "$ms" "$why"; fi
}

# raw_api.records: k whole loads of $api_records records, each id k times.
api_loads() {
    table_exists raw_api records || { echo 0; return 0; }
    local n bad
    n=$(q "SELECT count(*) FROM raw_api.records")
    [ $(( n % api_records )) = 0 ] || { echo "$n rows, not a whole number of loads of $api_records"; return 1; }
    local k=$(( n / api_records ))
    bad=$(q "SELECT count(*) FROM (SELECT id FROM raw_api.records GROUP BY id HAVING count(*) <> $k)")
    [ "$bad" = 0 ] || { echo "$bad ids not loaded exactly $k times"; return 1; }
    [ "$(q "SELECT count(DISTINCT id) FROM raw_api.records")" = "$api_records" ] || { echo "missing ids"; return 1; }
    echo "$k"
}

api_case() { # i max_ms
    local i=$1 max=$2 before after why=""
    before=$(api_loads) || { report api "$i" 0 "before: $before"; return; }
    local ms=$(( 50 + $(rand_below "$max") ))
    kill_after "$ms" "$dango" sync api
    after=$(api_loads) || why="after the kill: $after"
    if [ -z "$why" ] && [ "$after" != "$before" ] && [ "$after" != $(( before + 1 )) ]; then
        why="after the kill: $after loads, was $before"
    fi
    [ -z "$why" ] && ! lock_free && why="the lock is still held"
    if [ -z "$why" ]; then
        "$dango" sync api >"$work/next.log" 2>&1 || why="the next sync failed: $(tail -1 "$work/next.log")"
    fi
    if [ -z "$why" ]; then
        local next
        next=$(api_loads) || why="after the next sync: $next"
        [ -z "$why" ] && [ "$next" != $(( after + 1 )) ] && why="after the next sync: $next loads, want $(( after + 1 ))"
    fi
    if [ -z "$why" ]; then report api "$i" "$ms" ok; else report api "$i" "$ms" "$why"; fi
}

# The models: absent or complete; after the next run, complete and no
# leftover temporary relations.
check_models() { # phase
    local got
    if table_exists main copy_big; then
        got=$(q "SELECT count(*) || ' ' || count(DISTINCT id) FROM main.copy_big")
        [ "$got" = "$rows $rows" ] || { echo "$1: copy_big holds '$got'"; return 1; }
    fi
    if table_exists main agg; then
        got=$(q "SELECT n || ' ' || d FROM main.agg")
        [ "$got" = "$rows $rows" ] || { echo "$1: agg holds '$got'"; return 1; }
    fi
    if table_exists main inc; then
        got=$(q "SELECT count(*) || ' ' || count(DISTINCT id) FROM main.inc")
        [ "$got" = "$rows $rows" ] || { echo "$1: inc holds '$got'"; return 1; }
    fi
    return 0
}

run_case() { # i max_ms
    local i=$1 max=$2 why=""
    local ms=$(( 50 + $(rand_below "$max") ))
    kill_after "$ms" "$dango" run
    why=$(check_models "after the kill") || true
    [ -z "$why" ] && ! lock_free && why="the lock is still held"
    if [ -z "$why" ]; then
        "$dango" run >"$work/next.log" 2>&1 || why="the next run failed: $(grep -m1 -i error "$work/next.log")"
    fi
    if [ -z "$why" ]; then
        why=$(check_models "after the next run") || true
        [ -z "$why" ] && ! table_exists main copy_big && why="after the next run: no copy_big"
        [ -z "$why" ] && [ "$(q "SELECT count(*) FROM main.agg_view")" != 1 ] && why="after the next run: agg_view"
        local tmp
        tmp=$(q "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%__dbt_tmp%' OR table_name LIKE '%__dbt_backup%'")
        [ -z "$why" ] && [ "$tmp" != 0 ] && why="after the next run: $tmp temporary relations left"
    fi
    if [ -z "$why" ]; then report run "$i" "$ms" ok; else report run "$i" "$ms" "$why"; fi
}

want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

# --- the campaign ---------------------------------------------------------------
# Each kill point is uniform over the command's own duration, measured once
# unkilled first (so that points fall before, inside and after the commit).
echo "killtest: $n_kills kills each; $rows CSV rows, $api_records API records; in $work"
d=$(duration "$dango" sync big)
if want sync; then
    echo "sync: a clean run takes $d ms"
    for i in $(seq "$n_kills"); do sync_case sync "$i" "$d" "$dango" sync big; done
fi
if want refresh; then
    d=$(duration "$dango" sync big --full-refresh -y)
    echo "refresh: a clean run takes $d ms"
    for i in $(seq "$n_kills"); do sync_case refresh "$i" "$d" "$dango" sync big --full-refresh -y; done
fi
if want api; then
    d=$(duration "$dango" sync api)
    echo "api: a clean run takes $d ms"
    for i in $(seq "$n_kills"); do api_case "$i" "$d"; done
fi
if want run; then
    d=$(duration "$dango" run)
    echo "run: a clean run takes $d ms"
    for i in $(seq "$n_kills"); do run_case "$i" "$d"; done
fi
echo "$clean/$total clean"
[ "$clean" -eq "$total" ]
