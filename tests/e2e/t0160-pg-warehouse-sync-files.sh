#!/usr/bin/env bash
# dango sync into a PostgreSQL warehouse (#19, loading): a CSV file source
# read and typed by DuckDB, sent with COPY, data and file state committed
# in one PostgreSQL transaction; the rows read back with psql SELECT *;
# an unchanged file skipped, a changed one replacing its rows; a bad row
# failing the sync and leaving tables and state as they were; full refresh
# swapping a new table in.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
wh() { PGDB=wh psql_do "$1"; }

dango init p >/dev/null </dev/null
cd p
pg_warehouse_use

cat >data/sales.csv <<\EOF
id,name,amount,active,day,created_at,paid_at
1,Ann,1.5,true,2024-01-02,2024-01-01 10:00:00,2024-01-01 10:00:00+02
2,"Bo, ""Jr""",2.25,false,2024-02-29,2024-01-02 11:00:00.5,
3,,,,,,2024-03-01 00:00:00+00
EOF

test_expect_success 'a csv source syncs into the postgres warehouse' '
    dango source add csv --name sales --path data/sales.csv >/dev/null &&
    dango sync sales >raw 2>err && strip_clock <raw >out &&
    test_grep "^Loaded 3 rows into raw_sales.sales$" out
'

test_expect_success 'SELECT * reads the rows back with their types' '
    whq "SELECT id, name, amount, active, day, created_at, paid_at, _dango_filename, _dango_deleted FROM raw_sales.sales ORDER BY id" >got &&
    cat >expect <<-\EOF &&
	id|name|amount|active|day|created_at|paid_at|_dango_filename|_dango_deleted
	1|Ann|1.5|t|2024-01-02|2024-01-01 10:00:00|2024-01-01 08:00:00+00|data/sales.csv|f
	2|Bo, "Jr"|2.25|f|2024-02-29|2024-01-02 11:00:00.5||data/sales.csv|f
	3||||||2024-03-01 00:00:00+00|data/sales.csv|f
	(3 rows)
	EOF
    test_cmp expect got &&
    whq "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '"'"'raw_sales'"'"' AND table_name = '"'"'sales'"'"' ORDER BY ordinal_position" >types &&
    cat >expect <<-\EOF &&
	column_name|data_type
	id|bigint
	name|text
	amount|double precision
	active|boolean
	day|date
	created_at|timestamp without time zone
	paid_at|timestamp with time zone
	_dlt_load_id|text
	_dlt_id|uuid
	_dlt_extracted_at|timestamp with time zone
	_dango_filename|text
	_dango_file_mtime|timestamp without time zone
	_dango_loaded_at|timestamp with time zone
	_dango_deleted|boolean
	(14 rows)
	EOF
    test_cmp expect types &&
    whq "SELECT name IS NULL, name = '"'"''"'"' FROM raw_sales.sales WHERE id = 3" >n && printf "?column?|?column?\nt|\n(1 row)\n" >expect && test_cmp expect n
'

test_expect_success 'state, _dlt_loads and file metadata are in the same database' '
    whq "SELECT l.schema_name, l.status, f.path, f.rows, f.status, f.load_id = l.load_id FROM raw_sales._dlt_loads l, raw_sales._dango_file_metadata f" >m &&
    printf "schema_name|status|path|rows|status|?column?\nsales|0|data/sales.csv|3|new|t\n(1 row)\n" >expect && test_cmp expect m &&
    whq "SELECT count(DISTINCT _dlt_id), count(DISTINCT _dlt_load_id) FROM raw_sales.sales" >ids &&
    printf "count|count\n3|1\n(1 row)\n" >expect && test_cmp expect ids
'

test_expect_success 'an unchanged file is skipped; a changed one replaces its rows' '
    dango sync sales >out && test_grep "1 file unchanged, skipped" out &&
    whq "SELECT count(*) FROM raw_sales.sales" >n && printf "count\n3\n(1 row)\n" >expect && test_cmp expect n &&
    printf "id,name,amount,active,day,created_at,paid_at\n1,Ann,9.5,true,2024-01-02,2024-01-01 10:00:00,\n4,Di,4,true,2024-01-04,2024-01-04 00:00:00,\n" >data/sales.csv &&
    touch -d "2030-01-01" data/sales.csv &&
    dango sync sales >out && test_grep "Reading data/sales.csv (updated)" out && test_grep "Loaded 2 rows" out &&
    whq "SELECT id, amount FROM raw_sales.sales ORDER BY id" >got &&
    printf "id|amount\n1|9.5\n4|4\n(2 rows)\n" >expect && test_cmp expect got &&
    whq "SELECT count(*) FROM raw_sales._dlt_loads" >n && printf "count\n3\n(1 row)\n" >expect && test_cmp expect n
'

test_expect_success 'a bad row fails the sync and leaves tables and state as they were' '
    whq "SELECT * FROM raw_sales._dango_file_metadata" >meta.before &&
    whq "SELECT * FROM raw_sales.sales ORDER BY id" >rows.before &&
    printf "id,name,amount,active,day,created_at,paid_at\n1,Ann,9.5,true,2024-01-02,2024-01-01 10:00:00,\nx,Ed,5,true,2024-01-05,2024-01-05 00:00:00,\n" >data/sales.csv &&
    touch -d "2031-01-01" data/sales.csv &&
    test_must_fail dango sync sales >out 2>err &&
    test_grep "Nothing was changed for sales" out && test_grep "data/sales.csv" err && cat err >&2 &&
    whq "SELECT * FROM raw_sales._dango_file_metadata" >meta.after && test_cmp meta.before meta.after &&
    whq "SELECT * FROM raw_sales.sales ORDER BY id" >rows.after && test_cmp rows.before rows.after
'

test_expect_success 'full refresh builds a new table and swaps it in' '
    printf "id,name,amount,active,day,created_at,paid_at\n7,Gu,7,true,2024-01-07,2024-01-07 00:00:00,\n8,Ha,8,false,2024-01-08,2024-01-08 00:00:00,\n" >data/sales.csv &&
    dango sync sales --full-refresh -y >out 2>err &&
    test_grep "Loaded 2 rows" out &&
    whq "SELECT id, name FROM raw_sales.sales ORDER BY id" >got &&
    printf "id|name\n7|Gu\n8|Ha\n(2 rows)\n" >expect && test_cmp expect got &&
    whq "SELECT path, rows, status FROM raw_sales._dango_file_metadata" >m &&
    printf "path|rows|status\ndata/sales.csv|2|new\n(1 row)\n" >expect && test_cmp expect m &&
    whq "SELECT count(*) FROM pg_tables WHERE schemaname = '"'"'raw_sales'"'"' AND tablename LIKE '"'"'%dango_new'"'"'" >n &&
    printf "count\n0\n(1 row)\n" >expect && test_cmp expect n
'

test_expect_success 'every sync, failed ones too, is in _dango.sync_history' '
    whq "SELECT source, status, rows, error IS NULL FROM _dango.sync_history ORDER BY started_at, finished_at" >h &&
    cat >expect <<-\EOF &&
	source|status|rows|?column?
	sales|success|3|t
	sales|success|0|t
	sales|success|2|t
	sales|failed|0|f
	sales|success|2|t
	(5 rows)
	EOF
    test_cmp expect h
'

test_expect_success 'a full refresh that loads nothing is refused' '
    printf "id,name,amount,active,day,created_at,paid_at\n" >data/sales.csv &&
    test_must_fail dango sync sales --full-refresh -y >out 2>err &&
    test_grep "loaded 0 rows over 2 existing rows; refusing" err &&
    whq "SELECT count(*) FROM raw_sales.sales" >n && printf "count\n2\n(1 row)\n" >expect && test_cmp expect n
'

test_expect_success 'a full refresh under half the rows keeps the old table as a backup' '
    printf "id,name,amount,active,day,created_at,paid_at\n1,a,,,,,\n2,b,,,,,\n3,c,,,,,\n4,d,,,,,\n" >data/sales.csv &&
    dango sync sales --full-refresh -y >out 2>err &&
    printf "id,name,amount,active,day,created_at,paid_at\n9,z,,,,,\n" >data/sales.csv &&
    dango sync sales --full-refresh -y >out 2>err &&
    test_grep "  - sales (4 rows will be replaced)" out &&
    test_grep "raw_sales.sales (4 rows)" out &&
    test_grep "loaded 1 rows, under half of the previous 4; the old table is kept as raw_sales._dango_backup_" err &&
    whq "SELECT id, name FROM raw_sales.sales" >got && printf "id|name\n9|z\n(1 row)\n" >expect && test_cmp expect got &&
    b=$(psql -X -A -t -h "$PGROOT" -p "$PGPORT" -U dango -d wh -c "SELECT tablename FROM pg_tables WHERE schemaname = '"'"'raw_sales'"'"' AND tablename LIKE '"'"'\_dango\_backup\_%'"'"'") &&
    whq "SELECT id FROM raw_sales.\"$b\" ORDER BY id" >old && printf "id\n1\n2\n3\n4\n(4 rows)\n" >expect && test_cmp expect old
'

test_done
