#!/usr/bin/env bash
# Two builds of dango (e.g. on two DuckDB versions) re-syncing the same
# PostgreSQL table, back to back: the table of bench/db_source.sh (ROWS rows,
# default 5,000,000), one project per build, each full-refreshed once, then
# ROUNDS (default 3) rounds of an UPDATE of 10,000 rows spread over the table
# and an incremental re-sync by each build, the order alternating.
#   DANGO_A=/path/dango DANGO_B=/path/dango bench/db_resync_pair.sh
# Prints wall, CPU (user + sys) and peak RSS of each sync with the load average,
# and the rows each re-sync read. RUNTIME__LOG_LEVEL=DEBUG keeps each statement's
# time in bench/out/db_resync_pair/resync_*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rows=${ROWS:-5000000}
rounds=${ROUNDS:-3}
work=${BENCH_DIR:-$root/bench/out/db_resync_pair}
: "${DANGO_A:?the first build}" "${DANGO_B:?the second build}"
rm -rf "$work" && mkdir -p "$work"
TRASH=$work
test_cleanup() { :; }
. "$root/tests/e2e/db_lib.sh"
. "$root/bench/db_items.sh"

measure() { # label command... -> "label wall_s cpu_s peak_MB load"
    local label=$1; shift
    /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$@" >"$work/$label.log" 2>&1 || {
        echo "bench: $label failed:"; cat "$work/$label.log"; exit 1; }
    read -r secs kb user sys <"$work/time.txt"
    awk -v l="$label" -v s="$secs" -v k="$kb" -v u="$user" -v y="$sys" -v a="$(cut -d' ' -f1 /proc/loadavg)" \
        'BEGIN { printf "%-12s %7.2f s wall %6.2f s CPU %5.0f MB  load %s\n", l, s, u + y, k / 1024, a }'
}

project() { # folder build
    mkdir -p "$1" && cd "$1"
    "$2" init --skip-wizard </dev/null >/dev/null
    sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
    printf 'version: "1.0"\nsources:\n  - name: shop\n    type: postgres\n    postgres:\n      host: 127.0.0.1\n      port: %s\n      database: postgres\n      user: dango\n      password_env: PW\n      streams:\n        public.items: {mode: incremental, primary_key: id, update_key: updated_at}\n' \
        "$PGPORT" >.dango/sources.yml
}

pg_start
trap pg_stop EXIT
pg_items_table "$rows"
export PW=$DB_PW
echo "$rows rows; A: $("$DANGO_A" --version); B: $("$DANGO_B" --version)"
(project "$work/a" "$DANGO_A" && measure full_A "$DANGO_A" sync shop --full-refresh --yes)
(project "$work/b" "$DANGO_B" && measure full_B "$DANGO_B" sync shop --full-refresh --yes)
for r in $(seq "$rounds"); do
    # clock_timestamp(): each row its own time, so the next round re-reads only the
    # last row at its cursor (>=), not the whole previous round (now() is one time)
    psql_do "UPDATE items SET qty = qty + 1, updated_at = clock_timestamp() WHERE id % ($rows / 10000) = $r"
    order="A B"; [ $((r % 2)) -eq 0 ] && order="B A"
    for side in $order; do
        bin=DANGO_$side
        (cd "$work/$(tr AB ab <<<"$side")" && measure "resync_$side" "${!bin}" sync shop &&
            cp "$work/resync_$side.log" "$work/resync_${side}_$r.log" &&
            grep -o "Loaded [0-9,]* rows" "$work/resync_$side.log" | sed "s/^/    /")
    done
done
for side in a b; do
    (cd "$work/$side" && "$([ $side = a ] && echo "$DANGO_A" || echo "$DANGO_B")" query --csv \
        "SELECT count(*) AS rows, sum(qty) AS qty FROM raw_shop.items" | tail -1 | sed "s/^/check $side: /")
done
