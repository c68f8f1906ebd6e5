#!/usr/bin/env bash
# dango web on a postgres warehouse (#19): health names the server, the
# catalog, sources and models pages read PostgreSQL (tables, columns, row
# counts, size), POST /api/query runs one statement in a read-only
# transaction, and readers are never blocked: while a Dango writer holds
# the lock and a PostgreSQL transaction writes, the page's queries and
# `dango query` answer at once with the committed rows.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/web_lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
export WAREHOUSE_URL="postgresql://dango:$DB_PW@127.0.0.1:$PGPORT/wh"

cat >raw.sql <<\EOF
CREATE SCHEMA raw_people;
CREATE TABLE raw_people.people (id bigint, name text, joined date, _dlt_load_id text,
  _dlt_id uuid DEFAULT gen_random_uuid(), _dlt_extracted_at timestamptz DEFAULT now());
INSERT INTO raw_people.people (id, name, joined, _dlt_load_id) VALUES
  (1, 'Ann', '2024-01-02', '1'), (2, 'Bo', '2024-02-03', '1');
CREATE TABLE raw_people._dlt_loads (load_id text, schema_name text, status bigint, inserted_at timestamptz);
INSERT INTO raw_people._dlt_loads VALUES ('1', 'people', 0, '2024-05-06 07:08:09+00');
EOF

test_expect_success 'setup: a project on PostgreSQL, generated and run' '
    dango init shop >/dev/null </dev/null && cd shop &&
    sed -i "/^  warehouse:/d" .dango/project.yml &&
    printf "warehouse:\n  type: postgres\n  url_env: WAREHOUSE_URL\n" >>.dango/project.yml &&
    rm data/warehouse.duckdb &&
    printf "id,name,joined\n1,Ann,2024-01-02\n" >data/people.csv &&
    dango source add csv --name people --path data/people.csv >/dev/null &&
    PGDB=wh psql_do <../raw.sql &&
    dango generate >/dev/null && dango run >/dev/null
'
cd shop || exit 1

start_web web && web_session
test_expect_success 'GET /api/health names the postgres warehouse, not a file' '
    web_get /api/health >health.json &&
    jq -c .warehouse health.json >actual &&
    echo "{\"type\":\"postgres\",\"path\":\"postgres 127.0.0.1:$PGPORT/wh\",\"exists\":true,\"busy\":false,\"writer\":null}" >expect &&
    test_cmp expect actual &&
    ! test -e data/warehouse.duckdb
'

test_expect_success 'GET /api/catalog: the tables, columns and rows of PostgreSQL, its size' '
    web_get /api/catalog >cat.json &&
    jq -e ".busy == false and .size_bytes > 0" cat.json &&
    jq -c "[.schemas[] | {name, tables: [.tables[] | {name, type, rows}]}]" cat.json >actual &&
    echo "[{\"name\":\"raw_people\",\"tables\":[{\"name\":\"_dlt_loads\",\"type\":\"table\",\"rows\":1},{\"name\":\"people\",\"type\":\"table\",\"rows\":2}]},{\"name\":\"staging\",\"tables\":[{\"name\":\"stg_people\",\"type\":\"view\",\"rows\":null}]}]" >expect &&
    test_cmp expect actual &&
    jq -r ".schemas[] | select(.name == \"raw_people\") | .tables[] | select(.name == \"people\") | .columns[] | \"\(.name) \(.type)\"" cat.json | head -3 >actual &&
    printf "id bigint\nname text\njoined date\n" >expect && test_cmp expect actual &&
    jq -e ".schemas[] | select(.name == \"raw_people\") | .last_load == \"2024-05-06T07:08:09Z\"" cat.json
'

test_expect_success 'GET /api/sources and /api/models read their rows from PostgreSQL' '
    web_get /api/sources >src.json &&
    jq -c ".sources[] | select(.name == \"people\") | .tables" src.json >actual &&
    echo "[{\"name\":\"people\",\"rows\":2}]" >expect && test_cmp expect actual &&
    web_get /api/models >models.json &&
    jq -e "[.models[] | select(.name == \"stg_people\")] | length == 1" models.json
'

test_expect_success 'POST /api/query: rows as JSON, typed as the DuckDB path types them' '
    web_post /api/query "{\"sql\": \"SELECT id, name, joined, id > 1 AS later FROM staging.stg_people ORDER BY id\"}" >out &&
    test "$(tail -1 out)" = 200 &&
    head -1 out | jq -c "{rows, row_count, truncated, cols: [.columns[] | [.name, .type]]}" >actual &&
    echo "{\"rows\":[[1,\"Ann\",\"2024-01-02\",false],[2,\"Bo\",\"2024-02-03\",true]],\"row_count\":2,\"truncated\":false,\"cols\":[[\"id\",\"int64\"],[\"name\",\"varchar\"],[\"joined\",\"date\"],[\"later\",\"boolean\"]]}" >expect &&
    test_cmp expect actual
'

test_expect_success 'POST /api/query is read-only and one statement' '
    web_post /api/query "{\"sql\": \"DELETE FROM raw_people.people\"}" >out &&
    test "$(tail -1 out)" = 400 && test_grep "read-only transaction" out &&
    web_post /api/query "{\"sql\": \"SET default_transaction_read_only = off; DELETE FROM raw_people.people\"}" >out &&
    test "$(tail -1 out)" = 400 && test_grep "one statement" out &&
    web_post /api/query "{\"sql\": \"COMMIT\"}" >out && test "$(tail -1 out)" = 400 &&
    PGDB=wh psql_do "SELECT count(*) FROM raw_people.people" >n && grep -q "^ *2$" n
'

test_expect_success 'readers are never blocked: a Dango writer holds the lock and PostgreSQL is written' '
    rm -f release &&
    flock -x .dango/state/dbt.lock sh -c "while [ ! -f release ]; do sleep 0.1; done" &
    (PGDB=wh psql_do "BEGIN; INSERT INTO raw_people.people (id, name) VALUES (3, '"'"'Cy'"'"');
       SELECT pg_sleep(20); COMMIT" >/dev/null 2>&1 &) &&
    sleep 1 &&
    web_get /api/health >health.json && jq -e ".warehouse.busy == false" health.json &&
    web_post /api/query "{\"sql\": \"SELECT count(*) AS n FROM raw_people.people\"}" >out &&
    test "$(tail -1 out)" = 200 && head -1 out | jq -c .rows >actual &&
    echo "[[2]]" >expect && test_cmp expect actual &&
    dango query --csv "SELECT count(*) AS n FROM raw_people.people" >actual &&
    printf "n\n2\n" >expect && test_cmp expect actual &&
    touch release && wait
'

test_expect_success 'no secret in any answer' '
    for p in /api/health /api/sources /api/catalog /api/models /; do curl -s "$WEB_URL$p"; done >all.out &&
    test_grep ! "$DB_PW" all.out
'

stop_web
test_done
