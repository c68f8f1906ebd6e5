#!/usr/bin/env bash
# Benchmark of the rest_api source (issue: HTTP API sources):
#  1,000,000 records over 1,000 pages (1,000 a page, linked by a `next` URL)
#  from the local fake API (build/fixtures/api_server), synced by
#  `dango sync`, against DuckDB's own CREATE TABLE AS SELECT * FROM
#  read_json(...) over the same records saved to one NDJSON file, in the
#  same run, as it comes and with the settings Dango loads with (the
#  faster counts). Targets (issue 18): at least 0.8 of the reference's rows
#  per second; peak memory (max RSS) under 300 MB whatever the count. For
#  information, also DuckDB storing the same columns as Dango does.
# Prints its figures; record them in docs/benchmarks.md. RUNS (default 3)
# alternating runs of each side, medians; SCALE="1000000 2000000 5000000"
# runs each record count. PAGINATOR=offset pages by offset with the total
# on each page, so that later pages are fetched CONCURRENCY (default 4) at
# once; the default json_link follows a `next` URL, one page at a time.
set -euo pipefail
if [ -n "${SCALE:-}" ]; then
    for r in $SCALE; do RECORDS=$r SCALE= "$0" || exit 1; done
    exit 0
fi
cd "$(dirname "$0")/.."
root=$(pwd)
dango=${BENCH_DANGO:-$root/dango}
work=${BENCH_DIR:-$root/bench/out/rest_api}
records=${RECORDS:-1000000}
per_page=${PER_PAGE:-1000}
runs=${RUNS:-3}
paginator=${PAGINATOR:-json_link}
concurrency=${CONCURRENCY:-4}
case $paginator in
json_link) pg="{type: json_link, next_url_path: next}"; params="{per_page: $per_page}" ;;
offset) pg="{type: offset, limit: $per_page, total_path: total}"; params="{}" ;;
*) echo "bench: PAGINATOR is json_link or offset"; exit 1 ;;
esac
rm -rf "$work" && mkdir -p "$work"
. bench/lib.sh
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)"; exit 1; }
[ -x "$root/build/fixtures/api_server" ] || make -s build/fixtures/api_server
build_ctas "$work/ref"

"$root/build/fixtures/api_server" "$work/port" "$work/api.log" "$records" &
server=$!
trap 'kill $server 2>/dev/null; true' EXIT
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")


mkdir -p "$work/p" && cd "$work/p"
"$dango" init --skip-wizard </dev/null >/dev/null
# the sync itself: no staging models written afterwards
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
cat >.dango/sources.yml <<YAML
version: "1.0"
sources:
  - name: bench
    type: rest_api
    rest_api:
      base_url: http://127.0.0.1:$port
      concurrency: $concurrency
      endpoints:
        - name: records
          path: /bench
          params: $params
          paginator: $pg
          write_disposition: replace
YAML
fresh() { rm -rf data/warehouse.duckdb*; }
load0=$(loadavg)
fresh; measure dango "$dango" sync bench >"$work/dango.txt"
n=$("$dango" query --csv "SELECT count(*) FROM raw_bench.records" | tail -1)
[ "$n" = "$records" ] || { echo "bench: loaded $n records, expected $records"; exit 1; }
# the same records, in one file, for the reference
"$dango" query --write --csv "COPY (SELECT id, name, email, amount, active, country, strftime(created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at,
    score FROM raw_bench.records ORDER BY id) TO '$work/records.ndjson' (FORMAT JSON)" >/dev/null
size=$(stat -c %s "$work/records.ndjson")
# two references, the faster counts: DuckDB as it comes, and with the
# settings Dango loads with (preserve_insertion_order and, through
# duckdb_ctas, Dango's malloc settings), so that neither flatters the ratio
rel="read_json('$work/records.ndjson', format='newline_delimited')"
# and, for information, DuckDB storing the same columns as Dango (its three
# metadata columns: constant load id and extraction time, a per-row UUID)
now=$(date -u '+%Y-%m-%d %H:%M:%S')
same="(SELECT *, '$(date +%s).123456' AS _dlt_load_id, __dango_row_id() AS _dlt_id,
    TIMESTAMPTZ '$now+00' AS _dlt_extracted_at FROM $rel)"
: >"$work/plain.txt"; : >"$work/set.txt"; : >"$work/same.txt"
for r in $(seq "$runs"); do
    rm -f "$work/ref.duckdb"; measure ref "$work/ref" "$work/ref.duckdb" "$rel" >>"$work/plain.txt"
    [ "$r" = 1 ] || { fresh; measure dango "$dango" sync bench >>"$work/dango.txt"; }
    rm -f "$work/ref.duckdb"; measure ref "$work/ref" "$work/ref.duckdb" "$rel" "$dango_settings" >>"$work/set.txt"
    rm -f "$work/ref.duckdb"; measure ref "$work/ref" "$work/ref.duckdb" "$same" "$dango_settings" >>"$work/same.txt"
done
rm -f "$work/ref.duckdb"
plain=$(median <"$work/plain.txt")
tuned=$(median <"$work/set.txt")
ref=$(printf "%s\n%s\n" "$plain" "$tuned" | best)
dng=$(median <"$work/dango.txt")
read -r _ ms _ < <(median <"$work/same.txt")

read -r _ rs rk <<<"$ref"
read -r _ ps _ <<<"$plain"
read -r _ ss _ <<<"$tuned"
read -r _ ds dk <<<"$dng"
awk -v n="$records" -v pages="$(( (records + per_page - 1) / per_page ))" -v size="$size" \
    -v rs="$rs" -v rk="$rk" -v ps="$ps" -v ss="$ss" -v ds="$ds" -v dk="$dk" -v ms="$ms" -v pgn="$paginator" -v conc="$concurrency" 'BEGIN {
    printf "rest_api: %d records over %d pages (%.0f MB as NDJSON), paginator %s, concurrency %d\n", n, pages, size / 1e6, pgn, conc
    printf "  dango sync (HTTP + normalize + load): %6.2f s  %9.0f rows/s  peak %5.0f MB\n", ds, n / ds, dk / 1024
    printf "  duckdb read_json (one local file):    %6.2f s  %9.0f rows/s  peak %5.0f MB (the faster of: as it comes %.2f s, with Dango'"'"'s settings %.2f s)\n", rs, n / rs, rk / 1024, ps, ss
    printf "  duckdb read_json, the same columns as Dango'"'"'s (3 metadata): %6.2f s\n", ms
    printf "  throughput ratio dango/reference: %.2f (target >= 0.80); %.2f to the same columns\n", rs / ds, ms / ds
    printf "  peak memory under 300 MB: %s\n", dk / 1024 < 300 ? "yes" : "NO"
}'
echo "  (medians of $runs alternating runs, load $load0-$(loadavg))"
bench_record "REST, $records records, $paginator (throughput)" "$ds s" "$rs s" "$(awk -v a="$rs" -v b="$ds" 'BEGIN { printf "%.2f", a / b }')" ">= 0.80"
bench_record "REST, $records records, $paginator, to DuckDB storing the same columns" "$ds s" "$ms s" "$(awk -v a="$ms" -v b="$ds" 'BEGIN { printf "%.2f", a / b }')" "-"
bench_record "REST, $records records, $paginator (peak RSS)" "$((dk / 1024)) MB" "$((rk / 1024)) MB" "-" "< 300 MB"
