#!/usr/bin/env bash
# Benchmark of `type: command` sources (issue 12): RECORDS records (default
# 1,000,000) from a command that `cat`s an NDJSON file, and the same records
# as Singer RECORD messages (after one SCHEMA), synced by `dango sync`
# into an empty warehouse, against DuckDB's own CREATE TABLE AS SELECT *
# FROM read_json(...) of the NDJSON file in the same run (bench/duckdb_ctas.c),
# as it comes and with Dango's settings. Best of two runs each. Targets:
# >= 0.7x the reference's rows per second, peak RSS < 300 MB. Prints its figures; record them in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dango="$root/dango"
work=${BENCH_DIR:-$root/bench/out/command_source}
records=${RECORDS:-1000000}
rm -rf "$work" && mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)"; exit 1; }
. bench/lib.sh
build_ctas "$work/ref"

# the records: integers, text, a double, a boolean, a timestamp, a nested object
python3 - "$records" "$work/records.ndjson" "$work/records.singer" <<'PY'
import json, sys
n, nd, sg = int(sys.argv[1]), open(sys.argv[2], "w"), open(sys.argv[3], "w")
sg.write(json.dumps({"type": "SCHEMA", "stream": "records", "key_properties": [], "schema": {"properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": "string"},
    "amount": {"type": "number"}, "active": {"type": "boolean"}, "country": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"},
    "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}}}}}) + "\n")
countries = ["DE", "FR", "US", "JP", "BR"]
for i in range(1, n + 1):
    rec = '{"id":%d,"name":"customer %d","email":"c%d@example.com","amount":%d.%02d,"active":%s,"country":"%s",' \
          '"created_at":"2024-%02d-%02dT%02d:%02d:00Z","address":{"city":"city %d","zip":"%05d"}}' % (
        i, i, i, i % 1000, i % 100, "true" if i % 2 else "false", countries[i % 5],
        1 + i % 12, 1 + i % 28, i % 24, i % 60, i % 97, i % 100000)
    nd.write(rec + "\n")
    sg.write('{"type":"RECORD","stream":"records","record":' + rec + '}\n')
PY

measure() { # label, command... -> "label seconds maxrss_kb"
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/$label.log" 2>&1 || {
        echo "bench: $label failed:"; cat "$work/$label.log"; exit 1; }
    read -r secs kb <"$work/time.txt"
    echo "$label $secs $kb"
}
mkdir -p "$work/p" && cd "$work/p"
"$dango" init --skip-wizard </dev/null >/dev/null
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
cat >.dango/sources.yml <<YAML
version: "1.0"
sources:
  - name: nd
    type: command
    command:
      run: [cat, "$work/records.ndjson"]
      format: ndjson
      table_name: records
  - name: sg
    type: command
    command:
      run: [cat, "$work/records.singer"]
      format: singer
YAML
fresh() { rm -rf data/warehouse.duckdb*; }
nd=$( { fresh; measure nd "$dango" sync nd; fresh; measure nd "$dango" sync nd; } | best )
n=$("$dango" query --csv "SELECT count(*) FROM raw_nd.records" | tail -1)
[ "$n" = "$records" ] || { echo "bench: ndjson loaded $n records, expected $records"; exit 1; }
sg=$( { fresh; measure sg "$dango" sync sg; fresh; measure sg "$dango" sync sg; } | best )
n=$("$dango" query --csv "SELECT count(*) FROM raw_sg.records" | tail -1)
[ "$n" = "$records" ] || { echo "bench: singer loaded $n records, expected $records"; exit 1; }
rel="read_json('$work/records.ndjson', format='newline_delimited')"
# the faster of read_json as it comes and with the settings Dango loads
# with (as in bench/rest_api.sh), so that neither flatters the ratio
ref=$( { rm -f "$work/ref.duckdb"; measure ref "$work/ref" "$work/ref.duckdb" "$rel";
          rm -f "$work/ref.duckdb"; measure ref "$work/ref" "$work/ref.duckdb" "$rel" "$dango_settings"; } | best )
rm -f "$work/ref.duckdb"
size=$(stat -c %s "$work/records.ndjson")

read -r _ rs rk <<<"$ref"
read -r _ ns nk <<<"$nd"
read -r _ ss sk <<<"$sg"
awk -v n="$records" -v size="$size" -v rs="$rs" -v rk="$rk" -v ns="$ns" -v nk="$nk" -v ss="$ss" -v sk="$sk" 'BEGIN {
    printf "command sources: %d records (%.0f MB as NDJSON)\n", n, size / 1e6
    printf "  dango sync, cat of the NDJSON file:     %6.2f s  %9.0f rows/s  peak %5.0f MB  ratio %.2f\n", ns, n / ns, nk / 1024, rs / ns
    printf "  dango sync, cat of Singer RECORDs:      %6.2f s  %9.0f rows/s  peak %5.0f MB  ratio %.2f\n", ss, n / ss, sk / 1024, rs / ss
    printf "  duckdb read_json of the NDJSON file:    %6.2f s  %9.0f rows/s  peak %5.0f MB\n", rs, n / rs, rk / 1024
    printf "  target: ratio >= 0.70: ndjson %s, singer %s\n", rs / ns >= 0.7 ? "yes" : "NO", rs / ss >= 0.7 ? "yes" : "NO"
    printf "  peak memory under 300 MB: ndjson %s, singer %s\n", nk / 1024 < 300 ? "yes" : "NO", sk / 1024 < 300 ? "yes" : "NO"
}'
