#!/usr/bin/env bash
# dango db status, db clean, source list and validate on a postgres
# warehouse (#19): they read PostgreSQL (tables, views, row counts, the last
# load, orphaned raw schemas), db clean drops there, dango state reads the
# server, and none of them creates or reads data/warehouse.duckdb.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
export WAREHOUSE_URL="postgresql://dango:$DB_PW@127.0.0.1:$PGPORT/wh"

test_expect_success 'setup: a project on PostgreSQL with a source, its raw table and load, an orphan' '
    dango init p >/dev/null </dev/null && cd p &&
    sed -i "/^  warehouse:/d" .dango/project.yml &&
    printf "warehouse:\n  type: postgres\n  url_env: WAREHOUSE_URL\n" >>.dango/project.yml &&
    rm data/warehouse.duckdb &&
    printf "id,name\n1,a\n2,b\n" >data/people.csv &&
    dango source add csv --name people --path data/people.csv >/dev/null &&
    PGDB=wh psql_do "CREATE SCHEMA raw_people; CREATE SCHEMA raw_gone; CREATE SCHEMA marts;
      CREATE TABLE raw_people.people (id bigint, name text, _dlt_load_id text);
      INSERT INTO raw_people.people VALUES (1, '"'"'a'"'"', '"'"'1'"'"'), (2, '"'"'b'"'"', '"'"'1'"'"');
      CREATE TABLE raw_people._dlt_loads (load_id text, schema_name text, status bigint, inserted_at timestamptz);
      INSERT INTO raw_people._dlt_loads VALUES ('"'"'1'"'"', '"'"'people'"'"', 0, '"'"'2024-05-06 07:08:09.5+00'"'"');
      CREATE TABLE raw_gone.old (x int); INSERT INTO raw_gone.old VALUES (1), (2), (3);
      CREATE VIEW marts.v AS SELECT * FROM raw_people.people"
'
cd p || exit 1

test_expect_success 'dango db status lists the tables and views of PostgreSQL, rows, and the orphan' '
    dango db status >out &&
    sed "s/([0-9.]* [KMG]*i*B)/(SIZE)/" out >actual &&
    cat >expect <<-EOF &&
	Warehouse: postgres 127.0.0.1:$PGPORT/wh (SIZE)

	┌────────────┬────────┬───────┬──────┐
	│   schema   │ table  │ type  │ rows │
	├────────────┼────────┼───────┼──────┤
	│ marts      │ v      │ view  │      │
	│ raw_gone   │ old    │ table │    3 │
	│ raw_people │ people │ table │    2 │
	└────────────┴────────┴───────┴──────┘
	3 tables and views, 5 rows in tables (1 metadata table not shown: --all lists them)

	⚠ Orphaned raw data (no source of that name in .dango/sources.yml):
	  raw_gone (1 table, 3 rows)
	Run '"'"'dango db clean'"'"' to remove them.
	EOF
    test_cmp expect actual &&
    ! test -e data/warehouse.duckdb
'

test_expect_success 'dango source list shows the last load and the row counts from PostgreSQL' '
    dango source list >out &&
    test_grep "Last synced: 2024-05-06 07:08:09" out &&
    test_grep "Tables: people (2 rows)" out
'

test_expect_success 'dango db clean drops the orphan in PostgreSQL' '
    dango db clean -y >out 2>&1 &&
    test_grep "raw_gone" out &&
    PGDB=wh psql_do "SELECT count(*) FROM information_schema.schemata WHERE schema_name = '"'"'raw_gone'"'"'" >n &&
    grep -q "^ *0$" n &&
    dango db status >out && ! grep -q raw_gone out
'

test_expect_success 'dango validate checks the postgres profile and the warehouse' '
    dango generate >/dev/null &&
    dango validate >out 2>&1 &&
    test_grep "profiles.yml (profile '"'"'dango'"'"', target '"'"'dev'"'"')" out
'

test_expect_success 'dango state reads PostgreSQL (a source without state there)' '
    dango state show people >out &&
    test_grep "no state yet (never synced)" out &&
    dango state reset people -y >out &&
    test_grep "Source '"'"'people'"'"' has no state yet; nothing to reset." out &&
    ! test -e data/warehouse.duckdb
'

test_expect_success 'an unreachable server: the error names it, exit 1' '
    WAREHOUSE_URL="postgresql://dango:x@127.0.0.1:1/wh" test_expect_code 1 dango db status 2>err &&
    test_grep "127.0.0.1:1/wh" err
'

test_done
