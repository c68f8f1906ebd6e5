#!/usr/bin/env bash
# Benchmark of the database sources (issue: database sources):
#  ROWS rows (integers, numerics, text, timestamps, jsonb) in a local
#  PostgreSQL, synced full-refresh by `dango sync`, against the two-step
#  reference measured in the same run: psql's \copy (select ...) to a CSV
#  file, then DuckDB's CREATE TABLE AS SELECT * FROM read_csv(file). Then the
#  incremental re-sync of 10,000 changed rows. With MARIADB=1 the same for
#  MariaDB (reference: `mariadb --batch` to a file, then read_csv).
#  Targets: dango >= 0.8x the reference's rows per second, peak RSS < 300 MB,
#  incremental re-sync < 1 s.
# Prints its figures; record them in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dango=${DANGO:-$root/dango}
rows=${ROWS:-5000000}
work=${BENCH_DIR:-$root/bench/out/db_source}
rm -rf "$work" && mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)"; exit 1; }
. bench/lib.sh
build_ctas "$work/ref"

# the servers of the tests (tests/e2e/db_lib.sh), stopped on exit
TRASH=$work
test_cleanup() { :; }
. "$root/tests/e2e/db_lib.sh"
. "$root/bench/db_items.sh"

measure() { # label, command... -> "label seconds maxrss_kb cpu_seconds"
    local label=$1; shift
    /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$@" >"$work/$label.log" 2>&1 || {
        echo "bench: $label failed:"; cat "$work/$label.log"; exit 1; }
    read -r secs kb user sys <"$work/time.txt"
    echo "$label $secs $kb $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')"
}

report() { # name rows dango_s dango_kb copy_s ref_s ref_kb inc_s inc_cpu_s server_s
    awk -v name="$1" -v n="$2" -v ds="$3" -v dk="$4" -v cs="$5" -v rs="$6" -v rk="$7" -v is="$8" -v ic="$9" -v qs="${10}" \
        -v loadavg="$(cut -d" " -f1-3 /proc/loadavg)" 'BEGIN {
    printf "%s: %d rows\n", name, n
    printf "  dango sync (full refresh):          %6.2f s  %9.0f rows/s  peak %5.0f MB\n", ds, n / ds, dk / 1024
    printf "  reference (dump %.2f s + read_csv %.2f s): %6.2f s  %9.0f rows/s  peak %5.0f MB (read_csv)\n", cs, rs, cs + rs, n / (cs + rs), rk / 1024
    printf "  throughput ratio dango/reference: %.2f (target >= 0.80)\n", (cs + rs) / ds
    printf "  peak memory under 300 MB: %s\n", dk / 1024 < 300 ? "yes" : "NO"
    printf "  incremental re-sync of 10,000 changed rows: %.2f s (target < 1 s), %.2f s of CPU\n", is, ic
    printf "  the server alone answering the same rows to its own client: %.2f s\n", qs
    printf "  load average: %s\n", loadavg
}'
}

project() { # source block (YAML, indented 4)
    rm -rf "$work/p" && mkdir -p "$work/p" && cd "$work/p"
    "$dango" init --skip-wizard </dev/null >/dev/null
    sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
    printf 'version: "1.0"\nsources:\n%s\n' "$1" >.dango/sources.yml
}

# ---- PostgreSQL ----
pg_start
pg_items_table "$rows"
project "  - name: shop
    type: postgres
    postgres:
      host: 127.0.0.1
      port: $PGPORT
      database: postgres
      user: dango
      password_env: PW
      streams:
        public.items: {mode: incremental, primary_key: id, update_key: updated_at}"
export PW=$DB_PW
dng=$(measure dango "$dango" sync shop --full-refresh --yes)
n=$("$dango" query --csv "SELECT count(*) FROM raw_shop.items" | tail -1)
[ "$n" = "$rows" ] || { echo "bench: loaded $n rows, expected $rows"; exit 1; }
copy=$(measure copy env PGPASSWORD="$DB_PW" psql -X -h 127.0.0.1 -p "$PGPORT" -U dango -d postgres \
    -c "\\copy (SELECT * FROM items) TO '$work/items.csv' csv")
rm -f "$work/ref.duckdb"
ref=$(measure ref "$work/ref" "$work/ref.duckdb" "read_csv('$work/items.csv', header=false)")
rm -f "$work/ref.duckdb" "$work/items.csv"
psql_do "UPDATE items SET qty = qty + 1, updated_at = now() WHERE id % ($rows / 10000) = 0"
inc=$(measure inc "$dango" sync shop)
# what the server alone needs for those rows (after dango's read: a warm cache)
srv=$(measure srv env PGPASSWORD="$DB_PW" psql -X -h 127.0.0.1 -p "$PGPORT" -U dango -d postgres \
    -c "\\copy (SELECT * FROM items WHERE updated_at >= '2025-01-01') TO '/dev/null' csv")
read -r _ ds dk _ <<<"$dng"; read -r _ cs _ _ <<<"$copy"; read -r _ rs rk _ <<<"$ref"; read -r _ is _ ic <<<"$inc"
report "postgres" "$rows" "$ds" "$dk" "$cs" "$rs" "$rk" "$is" "$ic" "$(cut -d" " -f2 <<<"$srv")"
pg_stop

# ---- MariaDB ----
[ "${MARIADB:-0}" = 1 ] || exit 0
mariadb_start
# MariaDB's default buffer pool (128 MB) holds a tenth of this table, so its
# index lookups of the changed rows read through the OS: 1.15 s for the
# server alone. A server with a table of 5M rows has a pool sized for it.
my_do "SET GLOBAL innodb_buffer_pool_size = 1073741824"
MYDB=shop my_do <<SQL
CREATE TABLE items (id bigint PRIMARY KEY, qty int, amount decimal(12,2), name varchar(40),
  created_at datetime, updated_at datetime, payload json, KEY (updated_at));
INSERT INTO items SELECT seq, seq % 1000, (seq % 100000) / 100.0, concat('item number ', seq),
  '2024-01-01' + INTERVAL seq SECOND, '2024-01-01' + INTERVAL seq SECOND,
  json_object('k', seq % 7, 'tag', concat('t', seq % 13)) FROM seq_1_to_$rows;
SQL
project "  - name: shop
    type: mysql
    mysql:
      host: 127.0.0.1
      port: $MYPORT
      database: shop
      user: dango
      password_env: PW
      streams:
        shop.items: {mode: incremental, primary_key: id, update_key: updated_at}"
dng=$(measure dango "$dango" sync shop --full-refresh --yes)
copy=$(measure copy sh -c "mariadb --no-defaults -h 127.0.0.1 -P $MYPORT -u dango -p$DB_PW shop --batch --quick \
    -e 'SELECT * FROM items' >'$work/items.tsv'")
rm -f "$work/ref.duckdb"
ref=$(measure ref "$work/ref" "$work/ref.duckdb" "read_csv('$work/items.tsv', delim='\t', header=true)")
rm -f "$work/ref.duckdb" "$work/items.tsv"
MYDB=shop my_do "UPDATE items SET qty = qty + 1, updated_at = now() WHERE id % ($rows DIV 10000) = 0"
inc=$(measure inc "$dango" sync shop)
srv=$(measure srv sh -c "mariadb --no-defaults -h 127.0.0.1 -P $MYPORT -u dango -p$DB_PW shop --batch --quick \
    -e \"SELECT * FROM items WHERE updated_at >= '2025-01-01'\" >/dev/null")
read -r _ ds dk _ <<<"$dng"; read -r _ cs _ _ <<<"$copy"; read -r _ rs rk _ <<<"$ref"; read -r _ is _ ic <<<"$inc"
report "mariadb" "$rows" "$ds" "$dk" "$cs" "$rs" "$rk" "$is" "$ic" "$(cut -d" " -f2 <<<"$srv")"
