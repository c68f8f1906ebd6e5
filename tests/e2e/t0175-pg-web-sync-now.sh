#!/usr/bin/env bash
# A whole project on a postgres warehouse (#19), the way a user drives it:
# the web page's Sync Now loads a CSV source into PostgreSQL (the rows read
# back with psql and shown by the page), a second Sync Now picks up new
# rows, and two sources synced at once with a dango run beside them all
# succeed (advisory locks per source and per model, no file lock).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/web_lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
export WAREHOUSE_URL="postgresql://dango:$DB_PW@127.0.0.1:$PGPORT/wh"
pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }

test_expect_success 'setup: a project on PostgreSQL with two CSV sources' '
    dango init shop >/dev/null </dev/null && cd shop &&
    sed -i "/^  warehouse:/d" .dango/project.yml &&
    printf "warehouse:\n  type: postgres\n  url_env: WAREHOUSE_URL\n" >>.dango/project.yml &&
    rm -f data/warehouse.duckdb &&
    printf "id,day,amount\n1,2024-01-01,1.50\n2,2024-01-02,2.25\n" >data/sales.csv &&
    printf "id,name\n1,Ann\n" >data/people.csv &&
    dango source add csv --name sales --path data/sales.csv >/dev/null &&
    dango source add csv --name people --path data/people.csv >/dev/null
'
cd shop || exit 1

start_web web && web_session
test_expect_success 'Sync Now loads the source into PostgreSQL; the page shows its rows' '
    web_post /api/sources/sales/sync "{}" >post.out &&
    test "$(tail -1 post.out)" = 202 &&
    id=$(head -1 post.out | jq -r .run_id) && test -n "$id" &&
    wait_run "$id" &&
    jq -e ".status == \"completed\" and .error == null" run.json &&
    pgcsv "SELECT id, day, amount FROM raw_sales.sales ORDER BY id" >actual &&
    printf "1,2024-01-01,1.5\n2,2024-01-02,2.25\n" >expect && test_cmp expect actual &&
    web_get /api/sources >src.json &&
    jq -c ".sources[] | select(.name == \"sales\") | .tables" src.json >actual &&
    echo "[{\"name\":\"sales\",\"rows\":2}]" >expect && test_cmp expect actual &&
    ! test -e data/warehouse.duckdb
'

test_expect_success 'a second Sync Now loads the rows added since' '
    printf "3,2024-01-03,3.00\n" >>data/sales.csv &&
    web_post /api/sources/sales/sync "{}" >post.out &&
    id=$(head -1 post.out | jq -r .run_id) && wait_run "$id" &&
    jq -e ".status == \"completed\"" run.json &&
    pgcsv "SELECT id FROM raw_sales.sales ORDER BY id" >actual &&
    printf "1\n2\n3\n" >expect && test_cmp expect actual
'
stop_web

test_expect_success 'two sources synced at once, and a dango run beside them, all succeed' '
    # the set-up ends with ";": joined by && to the first "{ ... } &" it
    # would run in the background, beside the sync reading the file
    dango generate >/dev/null &&
    printf "2,Bo\n" >>data/people.csv && printf "4,2024-01-04,4.00\n" >>data/sales.csv && touch appended;
    { dango sync sales >s1.out 2>&1; echo $? >rc1; } &
    { dango sync people >s2.out 2>&1; echo $? >rc2; } &
    { dango run >r.out 2>&1; echo $? >rc3; } &
    wait && test -f appended &&
    echo 0 >expect && test_cmp expect rc1 && test_cmp expect rc2 && test_cmp expect rc3 &&
    pgcsv "SELECT count(*) FROM raw_sales.sales" >actual && echo 4 >expect && test_cmp expect actual &&
    pgcsv "SELECT id, name FROM raw_people.people ORDER BY id" >actual &&
    printf "1,Ann\n2,Bo\n" >expect && test_cmp expect actual &&
    dango run >r2.out 2>&1 &&
    pgcsv "SELECT count(*) FROM staging.stg_sales" >actual && echo 4 >expect && test_cmp expect actual
'

test_done
