#!/usr/bin/env bash
# Benchmark of dango sync into a PostgreSQL warehouse (#19): a generated CSV
# of ROWS rows (default 5,000,000, the data of bench/sync.sh) synced by
# `dango sync` into an empty schema of a real PostgreSQL server (Debian's,
# started in a temporary folder on a loopback port, as the tests do),
# against `psql -c "\copy t from FILE csv header"` of the same file into a
# table of the same columns, in the same run, both over TCP to 127.0.0.1.
# The figure is the throughput ratio, psql's time / dango's (goal >= 0.8).
# Dango's rows carry four more columns (_dlt_load_id, _dlt_id,
# _dlt_extracted_at; _dango_* of a file source): its table is wider.
# A second reference, psql_meta, is the same \copy into a table with the
# columns Dango adds (the constants as defaults, _dlt_id from
# gen_random_uuid()): the server's share of the work Dango asks of it.
# RUNS (default 3) alternating runs; medians, with the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dango="$root/dango"
work=${BENCH_DIR:-$root/bench/out/pg_warehouse}
rows=${ROWS:-5000000}
runs=${RUNS:-3}
rm -rf "$work" && mkdir -p "$work"
. bench/lib.sh
TESTS_DIR="$root/tests"
test_cleanup() { :; }
. "$root/tests/e2e/db_lib.sh"
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)"; exit 1; }

pg_start
psql_do "CREATE DATABASE wh"
export WH_URL="postgresql://dango:$DB_PW@127.0.0.1:$PGPORT/wh"
export PGPASSWORD=$DB_PW
whsql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U dango -d wh "$@"; }

echo "generating $rows rows..."
mkdir -p "$work/gen" && (cd "$work/gen" && "$dango" init --skip-wizard </dev/null >/dev/null &&
    "$dango" query --write "COPY (SELECT i AS id, 'customer ' || (i % 100000) AS name,
        'note, with \"quotes\" ' || (i % 977) AS note, round((i * 7919 % 100000) / 100.0, 2) AS amount,
        TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS created_at,
        CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'pending' END AS status, 'sku-' || (i % 5000) AS sku
        FROM range($rows) t(i)) TO '$work/big.csv' (HEADER)" >/dev/null)
size=$(stat -c %s "$work/big.csv")

mkdir -p "$work/p" && cd "$work/p"
"$dango" init --skip-wizard </dev/null >/dev/null
sed -i '/^  warehouse:/d; /^auto_generate/d' .dango/project.yml
printf 'warehouse:\n  type: postgres\n  url_env: WH_URL\n' >>.dango/project.yml
"$dango" source add csv --name big --path "$work/big.csv" --no-test >/dev/null

cat >"$work/psql_copy.sh" <<EOF
psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PGPORT -U dango -d wh -c "\\\\copy ref.t from '$work/big.csv' csv header"
EOF
sed 's/ref\.t from/ref.m (id, name, note, amount, created_at, status, sku) from/' "$work/psql_copy.sh" >"$work/psql_meta.sh"
: >"$work/dango.txt"; : >"$work/psql.txt"; : >"$work/psql_meta.txt"
load0=$(loadavg)
for r in $(seq "$runs"); do
    whsql -c "DROP SCHEMA IF EXISTS ref CASCADE; CREATE SCHEMA ref; CREATE TABLE ref.t (id bigint, name text,
        note text, amount double precision, created_at timestamp, status text, sku text);
        CREATE TABLE ref.m (id bigint, name text, note text, amount double precision, created_at timestamp,
        status text, sku text, _dlt_load_id text DEFAULT '1', _dlt_id uuid DEFAULT gen_random_uuid(),
        _dlt_extracted_at timestamptz DEFAULT now(), _dango_filename text DEFAULT '$work/big.csv',
        _dango_file_mtime timestamp DEFAULT now(), _dango_loaded_at timestamptz DEFAULT now(),
        _dango_deleted boolean DEFAULT false)"
    measure psql bash "$work/psql_copy.sh" >>"$work/psql.txt"
    measure psql_meta bash "$work/psql_meta.sh" >>"$work/psql_meta.txt"
    whsql -c "DROP SCHEMA IF EXISTS raw_big CASCADE; DROP SCHEMA ref CASCADE; CHECKPOINT"
    measure dango "$dango" sync big >>"$work/dango.txt"
    n=$(whsql -A -t -c "SELECT count(*) FROM raw_big.big")
    [ "$n" = "$rows" ] || { echo "bench: loaded $n rows, expected $rows"; exit 1; }
    whsql -c "CHECKPOINT"
done
load1=$(loadavg)
read -r _ ps pk < <(median <"$work/psql.txt")
read -r _ ds dk < <(median <"$work/dango.txt")
read -r _ ms mk < <(median <"$work/psql_meta.txt")
mratio=$(awk -v a="$ms" -v b="$ds" 'BEGIN { printf "%.2f", a / b }')
ratio=$(awk -v a="$ps" -v b="$ds" 'BEGIN { printf "%.2f", a / b }')
mb=$(awk -v s="$size" 'BEGIN { printf "%.0f", s / 1e6 }')
echo "csv into postgres, $rows rows ($mb MB), median of $runs (load $load0 -> $load1):"
echo "  psql \\copy:  ${ps}s ($(awk -v r="$rows" -v t="$ps" 'BEGIN { printf "%.0f", r / t }') rows/s)"
echo "  dango sync:  ${ds}s ($(awk -v r="$rows" -v t="$ds" 'BEGIN { printf "%.0f", r / t }') rows/s, max RSS ${dk} KB)"
echo "  psql \\copy into Dango's columns (defaults): ${ms}s"
echo "  throughput ratio dango/psql: $ratio (goal >= 0.8); dango/psql with Dango's columns: $mratio"
bench_record "sync csv ${rows} rows into postgres (x psql \\copy throughput)" "${ds}s" "${ps}s" "$ratio" ">= 0.8"
bench_record "sync csv ${rows} rows into postgres (x psql \\copy, Dango's columns)" "${ds}s" "${ms}s" "$mratio" "-"
