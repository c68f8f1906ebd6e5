#!/usr/bin/env bash
# Benchmark of dango sync (issues: sync engine, 18):
#  1. a generated CSV of ROWS rows (default 5,000,000: ~466 MB, quoted
#     fields, timestamps) synced by `dango sync` into an empty warehouse,
#     against the faster of two references on the same file, in the same
#     run: DuckDB's plain CREATE TABLE AS SELECT * FROM read_csv(...), and
#     the same with the settings Dango loads with (preserve_insertion_order
#     = false, and Dango's malloc settings), so that the ratio cannot be
#     flattered by either (target <= 1.10x). SCALE="1000000 5000000
#     20000000" runs each size.
#     A third line is DuckDB doing the same work as the load: the same
#     statement with the seven metadata columns every Dango row carries
#     (constants and a cheap per-row UUID): the ratio to it is Dango's own
#     overhead, the rest is what DuckDB takes to store those columns.
#  2. 1,000 new small files of one source (target < 0.5 s), against DuckDB
#     reading the same files in one read_csv([...], filename = true);
#  3. the same source synced again with every file unchanged (target < 1 s).
# RUNS (default 3) alternating runs of each side; medians are printed, with
# the load average (the machine may be shared).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dango=${DANGO:-$root/dango}   # DANGO=: another build (e.g. on another DuckDB)
work=${BENCH_DIR:-$root/bench/out/sync}
scale=${SCALE-${ROWS:-5000000}}   # SCALE= (empty): the small files only
runs=${RUNS:-3}
rm -rf "$work" && mkdir -p "$work"
. bench/lib.sh
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)"; exit 1; }
build_ctas "$work/duckdb_ctas"

mkdir -p "$work/p" && cd "$work/p"
"$dango" init --skip-wizard </dev/null >/dev/null
# staging models are another job (dango generate), measured on its own below
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml

for rows in $scale; do
    echo "generating $rows rows..."
    rm -f "$work/big.csv"
    "$dango" query --write "COPY (SELECT i AS id, 'customer ' || (i % 100000) AS name,
        'note, with \"quotes\" ' || (i % 977) AS note, round((i * 7919 % 100000) / 100.0, 2) AS amount,
        TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS created_at,
        CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'pending' END AS status, 'sku-' || (i % 5000) AS sku
        FROM range($rows) t(i)) TO '$work/big.csv' (HEADER)" >/dev/null
    size=$(stat -c %s "$work/big.csv")
    grep -q "name: big" .dango/sources.yml 2>/dev/null ||
        "$dango" source add csv --name big --path "$work/big.csv" --no-test >/dev/null
    sync "$work/big.csv"
    : >"$work/plain.txt"; : >"$work/set.txt"; : >"$work/same.txt"; : >"$work/dango.txt"
    now=$(date -u '+%Y-%m-%d %H:%M:%S')
    same="(SELECT *, '$(date +%s).123456' AS _dlt_load_id, __dango_row_id() AS _dlt_id,
        TIMESTAMPTZ '$now+00' AS _dlt_extracted_at, '$work/big.csv' AS _dango_filename,
        TIMESTAMP '$now' AS _dango_file_mtime, TIMESTAMPTZ '$now+00' AS _dango_loaded_at,
        false AS _dango_deleted FROM read_csv('$work/big.csv'))"
    load0=$(loadavg)
    for r in $(seq "$runs"); do
        rm -f "$work/ref.duckdb"*; measure ref "$work/duckdb_ctas" "$work/ref.duckdb" "read_csv('$work/big.csv')" >>"$work/plain.txt"
        rm -rf data/warehouse.duckdb*; measure dango "$dango" sync big >>"$work/dango.txt"
        rm -f "$work/ref.duckdb"*; measure ref "$work/duckdb_ctas" "$work/ref.duckdb" "read_csv('$work/big.csv')" "$dango_settings" >>"$work/set.txt"
        rm -f "$work/ref.duckdb"*; measure ref "$work/duckdb_ctas" "$work/ref.duckdb" "$same" "$dango_settings" >>"$work/same.txt"
    done
    rm -f "$work/ref.duckdb"*
    n=$("$dango" query --csv "SELECT count(*) FROM raw_big.big" | tail -1)
    [ "$n" = "$rows" ] || { echo "bench: loaded $n rows, expected $rows"; exit 1; }
    read -r _ ps pk < <(median <"$work/plain.txt")
    read -r _ ss sk < <(median <"$work/set.txt")
    read -r _ ms mk < <(median <"$work/same.txt")
    read -r _ ds dk < <(median <"$work/dango.txt")
    rs=$(awk -v a="$ps" -v b="$ss" 'BEGIN { print (a < b ? a : b) }')
    ratio=$(awk -v a="$ds" -v b="$rs" 'BEGIN { printf "%.2f", a / b }')
    own=$(awk -v a="$ds" -v b="$ms" 'BEGIN { printf "%.2f", a / b }')
    echo
    echo "sync benchmark ($(nproc) cores), $rows rows, $(awk -v s="$size" 'BEGIN { printf "%.0f MB", s / 1e6 }') CSV, medians of $runs alternating runs, load $load0-$(loadavg)"
    printf "  %-52s %8s s %6s MB\n" "DuckDB CREATE TABLE AS read_csv (plain)" "$ps" "$((pk / 1024))"
    printf "  %-52s %8s s %6s MB\n" "DuckDB, preserve_insertion_order = false" "$ss" "$((sk / 1024))"
    printf "  %-52s %8s s %6s MB\n" "DuckDB, the same columns as Dango's (7 metadata)" "$ms" "$((mk / 1024))"
    printf "  %-52s %8s s %6s MB   ratio %sx to the faster (target <= 1.10x), %sx to the same columns\n" \
        "dango sync (first load)" "$ds" "$((dk / 1024))" "$ratio" "$own"
    bench_record "CSV first load, $rows rows" "$ds s" "$rs s" "$ratio" "<= 1.10x"
    bench_record "CSV first load, $rows rows, to DuckDB storing the same columns" "$ds s" "$ms s" "$own" "-"
done
gen="generate - 0"
[ -z "$scale" ] || gen=$(measure generate "$dango" generate --source big)

# 1,000 small files in a project of their own: each run starts with all new
mkdir -p "$work/small" && cd "$work/small"
"$dango" init --skip-wizard </dev/null >/dev/null
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
mkdir -p data/many
for i in $(seq 1 1000); do printf "id,v\n%d,x\n" "$i" >"data/many/f$i.csv"; done
"$dango" source add local_files --name many --directory data/many --set "file_pattern=*.csv" --no-test >/dev/null
list=$(for i in $(seq 1 1000); do printf "'%s/data/many/f%d.csv'," "$work/small" "$i"; done)
: >"$work/sref.txt"; : >"$work/sfirst.txt"
load0=$(loadavg)
for r in $(seq "$runs"); do
    rm -f "$work/sref.duckdb"*; measure sref "$work/duckdb_ctas" "$work/sref.duckdb" "read_csv([${list%,}], filename = true)" >>"$work/sref.txt"
    rm -rf data/warehouse.duckdb*; measure many_first "$dango" sync many >>"$work/sfirst.txt"
done
inc=$( { measure many_inc "$dango" sync many; measure many_inc "$dango" sync many; measure many_inc "$dango" sync many; } | median )
read -r _ srs srk < <(median <"$work/sref.txt")
read -r _ fs fk < <(median <"$work/sfirst.txt")
read -r _ is ik <<<"$inc"
read -r _ gs gk <<<"$gen"
sratio=$(awk -v a="$fs" -v b="$srs" 'BEGIN { printf "%.2f", a / b }')
echo
echo "small files, medians of $runs alternating runs, load $load0-$(loadavg)"
[ -z "$scale" ] || printf "  %-52s %8s s %6s MB\n" "dango generate (key detection, all rows)" "$gs" "$((gk / 1024))"
printf "  %-52s %8s s %6s MB\n" "DuckDB read_csv of the 1,000 files in one call" "$srs" "$((srk / 1024))"
printf "  %-52s %8s s %6s MB   ratio %sx (target < 0.5 s)\n" "dango sync, 1,000 new files" "$fs" "$((fk / 1024))" "$sratio"
printf "  %-52s %8s s %6s MB   (target < 1 s)\n" "dango sync, 1,000 unchanged files" "$is" "$((ik / 1024))"
bench_record "1,000 new small CSV files" "$fs s" "$srs s" "$sratio" "< 0.5 s"
bench_record "1,000 unchanged files" "$is s" "-" "-" "< 1 s"
