#!/usr/bin/env bash
# dango query, dango db status, dango db clean
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf "id\n1\n" >data/s.csv
dango source add csv --name sales --path data/s.csv >/dev/null

test_expect_success 'query prints a box table with names and types' '
    dango query "SELECT 1 AS id, '"'"'Ann'"'"' AS name, NULL::DOUBLE AS score UNION ALL SELECT 22, '"'"'Bo'"'"', 1.5 ORDER BY id" >out &&
    cat >expect <<-\EOF &&
	┌───────┬─────────┬────────┐
	│  id   │  name   │ score  │
	│ int32 │ varchar │ double │
	├───────┼─────────┼────────┤
	│     1 │ Ann     │ NULL   │
	│    22 │ Bo      │    1.5 │
	└───────┴─────────┴────────┘
	EOF
    test_cmp expect out
'

test_expect_success 'long results show the first and last rows' '
    dango query "SELECT * FROM range(100) t(i)" >out &&
    test_grep "│     0 │" out && test_grep "│    99 │" out && ! grep -q "│    50 │" out &&
    test_grep "^100 rows (40 shown)$" out &&
    dango query --max-rows 0 "SELECT * FROM range(100) t(i)" >all && test_grep "│    50 │" all
'

test_expect_success 'query --csv quotes as RFC 4180 and leaves NULL empty' '
    dango query --csv "SELECT 1 AS a, '"'"'x,y'"'"' AS b, NULL AS c, '"'"'say \"hi\"'"'"' AS d" >out &&
    printf "a,b,c,d\n1,\"x,y\",,\"say \"\"hi\"\"\"\n" >expect && test_cmp expect out
'

test_expect_success 'query --json gives typed values' '
    dango query --json "SELECT 1 AS a, 2.5 AS b, true AS c, NULL AS d, '"'"'t'"'"' AS e" >out &&
    printf "[{\"a\": 1, \"b\": 2.5, \"c\": true, \"d\": null, \"e\": \"t\"}]\n" >expect && test_cmp expect out
'

test_expect_success 'query reads SQL from standard input' '
    echo "SELECT 40 + 2 AS answer" | dango query --csv >out &&
    printf "answer\n42\n" >expect && test_cmp expect out
'

test_expect_success 'a SQL error is reported with DuckDB'"'"'s message, exit 1' '
    test_expect_code 1 dango query "SELECT * FROM nope" 2>err &&
    test_grep "Table with name nope does not exist" err
'

test_expect_success 'the warehouse is read-only unless --write' '
    test_expect_code 1 dango query "CREATE TABLE t (x INT)" 2>err &&
    test_grep "read-only" err && test_grep "pass --write" err &&
    dango query --write "CREATE TABLE main.t AS SELECT 7 AS x" >/dev/null &&
    q "SELECT x FROM main.t" >out && echo 7 >expect && test_cmp expect out
'

test_expect_success 'the interactive prompt runs statements and .tables' '
    run_on_tty "SELECT 6 *\n 7 AS v;\n.tables\n.quit\n" dango query >out &&
    test_grep "dango> " out && test_grep "│    42 │" out && test_grep "│ main    │ t       │ BASE TABLE │" out
'

test_expect_success 'db status lists schemas, tables, rows and the file size' '
    dango query --write "CREATE SCHEMA raw_sales; CREATE TABLE raw_sales.sales AS SELECT * FROM range(1500);
        CREATE VIEW staging.stg_sales AS SELECT * FROM raw_sales.sales" >/dev/null &&
    dango db status >out &&
    test_grep "^Warehouse: data/warehouse.duckdb ([0-9.]* [KMG]*B" out &&
    test_grep "│ raw_sales │ sales     │ table │ 1,500 │" out &&
    test_grep "│ staging   │ stg_sales │ view  │       │" out &&
    ! grep -q "Orphaned" out
'

test_expect_success 'db status names orphaned raw schemas and tables' '
    dango query --write "CREATE SCHEMA raw_gone; CREATE TABLE raw_gone.a AS SELECT 1 AS x;
        CREATE TABLE raw_gone.b AS SELECT 1 AS x UNION ALL SELECT 2; CREATE TABLE raw.old_export AS SELECT 1 AS x;
        CREATE TABLE raw.sales AS SELECT 1 AS x; CREATE SCHEMA raw_empty" >/dev/null &&
    dango db status >out &&
    test_grep "Orphaned raw data" out &&
    test_grep "^  raw_gone (2 tables, 3 rows)$" out &&
    test_grep "^  raw.old_export (1 row)$" out &&
    test_grep "^  raw_empty (0 tables, 0 rows)$" out &&
    ! grep -q "^  raw_sales" out && ! grep -q "^  raw.sales" out &&
    test_grep "dango db clean" out
'

test_expect_success 'db clean without a terminal and without -y refuses' '
    test_expect_code 1 dango db clean </dev/null >out 2>err &&
    test_grep "raw_gone (2 tables, 3 rows)" out && test_grep "pass -y" err &&
    q "SELECT count(*) FROM raw_gone.b" >n && echo 2 >expect && test_cmp expect n
'

test_expect_success 'db clean -y drops exactly the orphans' '
    dango db clean -y >out && test_grep "Dropped 3 orphaned items" out &&
    q "SELECT count(*) FROM information_schema.schemata WHERE schema_name IN ('"'"'raw_gone'"'"', '"'"'raw_empty'"'"')" >n &&
    echo 0 >expect && test_cmp expect n &&
    q "SELECT count(*) FROM raw_sales.sales" >n && echo 1500 >expect && test_cmp expect n &&
    q "SELECT count(*) FROM raw.sales" >n && echo 1 >expect && test_cmp expect n &&
    dango db clean -y >out && test_grep "No orphaned raw data" out
'

test_expect_success 'a removed source becomes an orphan, and clean on a terminal asks' '
    dango source remove sales -y >/dev/null &&
    run_on_tty "y\n" dango db clean >out &&
    test_grep "Drop them? (y/N)" out && test_grep "Dropped 2 orphaned items" out &&
    test_expect_code 1 dango query "SELECT * FROM raw_sales.sales" 2>/dev/null
'

test_expect_success 'the warehouse opens with DuckDB readers other than dango' '
    cat >reader.c <<-\EOF &&
	#include <duckdb.h>
	#include <stdio.h>
	int main(int c, char **v) {
	    duckdb_database db; duckdb_connection con; duckdb_result r;
	    duckdb_config cfg; duckdb_create_config(&cfg); duckdb_set_config(cfg, "access_mode", "READ_ONLY");
	    if (duckdb_open_ext(v[1], &db, cfg, NULL) != DuckDBSuccess) return 1;
	    duckdb_connect(db, &con);
	    if (duckdb_query(con, "SELECT x FROM main.t", &r) != DuckDBSuccess) return 2;
	    printf("%lld\n", (long long)duckdb_value_int64(&r, 0, 0));
	    duckdb_destroy_result(&r); duckdb_disconnect(&con); duckdb_close(&db); duckdb_destroy_config(&cfg);
	    return 0;
	}
	EOF
    cc -o reader reader.c -I"$SRC_DIR/third_party/duckdb/include" -L"$SRC_DIR/third_party/duckdb/lib" -lduckdb \
        -Wl,-rpath,"$SRC_DIR/third_party/duckdb/lib" && ./reader data/warehouse.duckdb >out &&
    echo 7 >expect && test_cmp expect out
'

test_done
