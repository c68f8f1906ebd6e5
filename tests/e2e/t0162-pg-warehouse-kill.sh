#!/usr/bin/env bash
# kill -9 during a sync into a PostgreSQL warehouse (#19): at every point
# of the load (reading, staging, COPY, commit) the server holds either the
# previous rows and state (as before the kill) or the new ones, never a mix, never twice; the
# advisory lock dies with the process, so the next sync runs at once.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
whv() { psql -X -A -t -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }

dango init p >/dev/null </dev/null
cd p
pg_warehouse_use
N=600000
big() { awk -v n=$N -v v="$1" 'BEGIN { print "id,name,amount"; for (i = 0; i < n; i++) printf "%d,%s %d,%d.5\n", i, v, i, i }' >data/big.csv; }
big v1
dango source add csv --name big --path data/big.csv >/dev/null

# what the server holds: rows, distinct ids, versions, metadata rows and
# whether the metadata's load is the rows' load
snapshot() {
    whv "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || string_agg(DISTINCT split_part(name, ' ', 1), ',')
         || ' ' || (SELECT count(*) FROM raw_big._dango_file_metadata)
         || ' ' || (SELECT bool_and(f.load_id = b._dlt_load_id AND f.rows = $N) FROM raw_big._dango_file_metadata f,
                    (SELECT DISTINCT _dlt_load_id FROM raw_big.big) b)
         FROM raw_big.big"
}

test_expect_success 'a first sync loads the file' '
    dango sync big >out 2>err && snapshot >s && echo "$N $N v1 1 true" >expect && test_cmp expect s
'

kill_at() { # version delay
    big "$1"
    touch -d "20$(( 30 + ${2%.*} ))-01-0${3:-1}" data/big.csv
    dango sync big >out 2>&1 &
    local pid=$!
    wait_for_grep "Reading data/big.csv" out
    sleep "$2"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    snapshot
}

v=1
for delay in 0 0.2 0.5 0.8 1.2 1.8 2.5; do
    v=$((v + 1))
    test_expect_success "kill -9 ${delay}s into an update: the old rows or the new, exactly once" '
        snapshot >old &&
        kill_at v'"$v"' '"$delay"' >s &&
        echo "$N $N v'"$v"' 1 true" >new &&
        { cmp -s old s || cmp -s new s || { cat s; false; }; } &&
        whv "SELECT count(*) FROM pg_tables WHERE schemaname = '"'"'raw_big'"'"' AND tablename <> '"'"'big'"'"' AND tablename NOT LIKE '"'"'\_d%'"'"'" >left &&
        echo 0 >zero && test_cmp zero left
    '
done

test_expect_success 'after the kills the lock is free and a sync completes' '
    big final && touch -d 2040-01-01 data/big.csv &&
    dango sync big --wait 0 >out 2>err && snapshot >s && echo "$N $N final 1 true" >expect && test_cmp expect s &&
    whv "SELECT count(*) FROM raw_big._dlt_loads" >loads && whv "SELECT count(DISTINCT _dlt_load_id) FROM raw_big.big" >one &&
    echo 1 >expect && test_cmp expect one
'

test_done
