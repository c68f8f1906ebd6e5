#!/usr/bin/env bash
# The web page's catalog on a postgres warehouse (#19) counts small tables
# exactly and takes PostgreSQL's estimate (pg_class.reltuples) for a table
# of 100,000 rows or more instead of reading it whole every minute: the API
# marks it rows_estimated (the page writes "~"), and the server's own
# statistics show that no snapshot scanned it.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/web_lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
export WAREHOUSE_URL="postgresql://dango:$DB_PW@127.0.0.1:$PGPORT/wh"
whv() { psql -X -A -t -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }

cat >raw.sql <<\EOF
CREATE SCHEMA raw_people;
CREATE TABLE raw_people.people (id bigint, name text, _dlt_load_id text);
INSERT INTO raw_people.people SELECT g, 'p' || g, '1' FROM generate_series(1, 150000) g;
CREATE TABLE raw_people.pets (id bigint, name text, _dlt_load_id text);
INSERT INTO raw_people.pets VALUES (1, 'Rex', '1'), (2, 'Tom', '1'), (3, 'Kit', '1');
ANALYZE raw_people.people;
ANALYZE raw_people.pets;
-- rows the statistics do not know of yet: an exact count would say 150,010
INSERT INTO raw_people.people SELECT g, 'p' || g, '1' FROM generate_series(150001, 150010) g;
CREATE TABLE raw_people._dlt_loads (load_id text, schema_name text, status bigint, inserted_at timestamptz);
INSERT INTO raw_people._dlt_loads VALUES ('1', 'people', 0, '2024-05-06 07:08:09+00');
EOF

test_expect_success 'setup: a project on PostgreSQL with a large and a small raw table' '
    dango init shop >/dev/null </dev/null && cd shop &&
    sed -i "/^  warehouse:/d" .dango/project.yml &&
    printf "warehouse:\n  type: postgres\n  url_env: WAREHOUSE_URL\n" >>.dango/project.yml &&
    rm data/warehouse.duckdb &&
    printf "id,name\n1,Ann\n" >data/people.csv &&
    dango source add csv --name people --path data/people.csv >/dev/null &&
    PGDB=wh psql_do <../raw.sql
'
cd shop || exit 1

seq_scans() { whv "SELECT seq_scan FROM pg_stat_user_tables WHERE schemaname = 'raw_people' AND relname = '$1'"; }
big_before=$(seq_scans people)
small_before=$(seq_scans pets)

start_web web && web_session
test_expect_success 'GET /api/catalog: the large table estimated, the small ones counted' '
    web_get /api/catalog >cat.json &&
    jq -c "[.schemas[] | select(.name == \"raw_people\") | .tables[] | {name, rows, rows_estimated}]" cat.json >actual &&
    echo "[{\"name\":\"_dlt_loads\",\"rows\":1,\"rows_estimated\":null},{\"name\":\"people\",\"rows\":150000,\"rows_estimated\":true},{\"name\":\"pets\",\"rows\":3,\"rows_estimated\":null}]" >expect &&
    test_cmp expect actual
'

test_expect_success 'GET /api/sources passes the mark on to the page' '
    web_get /api/sources >src.json &&
    jq -c ".sources[] | select(.name == \"people\") | .tables" src.json >actual &&
    echo "[{\"name\":\"people\",\"rows\":150000,\"rows_estimated\":true},{\"name\":\"pets\",\"rows\":3}]" >expect &&
    test_cmp expect actual &&
    web_get /assets/app.js >app.js && test_grep "t.rows_estimated ? .~." app.js
'

test_expect_success 'the snapshot never scanned the large table; the small one it counted' '
    sleep 1 &&
    test "$(seq_scans people)" = "$big_before" &&
    test "$(seq_scans pets)" -gt "$small_before"
'

test_done
