#!/usr/bin/env bash
# Benchmark of dango sync (issue: sync engine):
#  1. a generated 5,000,000-row CSV (~400 MB, quoted fields, timestamps) synced
#     by `dango sync`, against DuckDB's own CREATE TABLE AS SELECT * FROM
#     read_csv(...) on the same file, in the same run (target: <= 1.2x);
#  2. an incremental sync of a source of 1,000 unchanged files (target: < 1 s);
#  3. peak memory (max RSS) of each.
# Prints its figures; record them in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dango="$root/dango"
work=${BENCH_DIR:-$root/bench/out/sync}
rows=${ROWS:-5000000}
rm -rf "$work" && mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)"; exit 1; }
cc -O2 -o "$work/duckdb_ctas" bench/duckdb_ctas.c -I third_party/duckdb/include -L third_party/duckdb/lib \
   -lduckdb -Wl,-rpath,"$root/third_party/duckdb/lib"

measure() { # label, command... -> "label seconds maxrss_kb"
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/$label.log" 2>&1 || {
        echo "bench: $label failed:"; cat "$work/$label.log"; exit 1; }
    read -r secs kb <"$work/time.txt"
    echo "$label $secs $kb"
}

mkdir -p "$work/p" && cd "$work/p"
"$dango" init --skip-wizard </dev/null >/dev/null
echo "generating $rows rows..."
"$dango" query --write "COPY (SELECT i AS id, 'customer ' || (i % 100000) AS name,
    'note, with \"quotes\" ' || (i % 977) AS note, round((i * 7919 % 100000) / 100.0, 2) AS amount,
    TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS created_at,
    CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'pending' END AS status, 'sku-' || (i % 5000) AS sku
    FROM range($rows) t(i)) TO '$work/big.csv' (HEADER)" >/dev/null
size=$(stat -c %s "$work/big.csv")
"$dango" source add csv --name big --path "$work/big.csv" --no-test >/dev/null
# staging models are another job (dango generate), measured on its own below
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
sync "$work/big.csv"

# the reference first and then dango, twice each, keeping the better run
best() { sort -n -k2 | head -1; }
ref=$( { rm -f "$work/ref.duckdb"; measure ref "$work/duckdb_ctas" "$work/ref.duckdb" "read_csv('$work/big.csv')";
          rm -f "$work/ref.duckdb"; measure ref "$work/duckdb_ctas" "$work/ref.duckdb" "read_csv('$work/big.csv')"; } | best )
dng=$( { rm -rf data/warehouse.duckdb*;
          measure dango "$dango" sync big;
          rm -rf data/warehouse.duckdb*;
          measure dango "$dango" sync big; } | best )
n=$("$dango" query --csv "SELECT count(*) FROM raw_big.big" | tail -1)
gen=$(measure generate "$dango" generate --source big)
[ "$n" = "$rows" ] || { echo "bench: loaded $n rows, expected $rows"; exit 1; }

# 1,000 small files, then an incremental sync with all of them unchanged
mkdir -p "$work/p/data/many"
for i in $(seq 1 1000); do printf "id,v\n%d,x\n" "$i" >"$work/p/data/many/f$i.csv"; done
"$dango" source add local_files --name many --directory data/many --set "file_pattern=*.csv" --no-test >/dev/null
first=$(measure many_first "$dango" sync many)
inc=$( { measure many_inc "$dango" sync many; measure many_inc "$dango" sync many; } | best )

read -r _ rs rk <<<"$ref"
read -r _ ds dk <<<"$dng"
read -r _ fs fk <<<"$first"
read -r _ is ik <<<"$inc"
read -r _ gs gk <<<"$gen"
ratio=$(awk -v a="$ds" -v b="$rs" 'BEGIN { printf "%.2f", a / b }')
echo
echo "sync benchmark ($(nproc) cores), $rows rows, $(awk -v s="$size" 'BEGIN { printf "%.0f MB", s / 1e6 }') CSV"
printf "  %-44s %8s s %8s MB\n" "DuckDB CREATE TABLE AS read_csv (reference)" "$rs" "$((rk / 1024))"
printf "  %-44s %8s s %8s MB   ratio %sx (target <= 1.2x)\n" "dango sync (first load)" "$ds" "$((dk / 1024))" "$ratio"
printf "  %-44s %8s s %8s MB\n" "dango generate (key detection, all rows)" "$gs" "$((gk / 1024))"
printf "  %-44s %8s s %8s MB\n" "dango sync, 1,000 new files" "$fs" "$((fk / 1024))"
printf "  %-44s %8s s %8s MB   (target < 1 s)\n" "dango sync, 1,000 unchanged files" "$is" "$((ik / 1024))"
