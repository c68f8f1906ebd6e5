#!/usr/bin/env bash
# SQLite sources: types by declared affinity, values that do not fit kept as
# VARCHAR, incremental state, wildcards, a replication file, errors.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
sqlite3 data/app.db <<'SQL'
CREATE TABLE alltypes (id INTEGER PRIMARY KEY, n INT, r REAL, num NUMERIC, t TEXT, vc VARCHAR(10),
  b BOOLEAN, d DATE, ts DATETIME, dec DECIMAL(8,2), j JSON, bl BLOB, anything);
INSERT INTO alltypes VALUES (1, 42, 1.5, 7, 'a "quoted", text', 'x', 1, '2024-02-29', '2024-01-01 10:00:00',
  12.5, '{"a": 1}', x'00ff', 'free');
INSERT INTO alltypes VALUES (2, NULL, NULL, NULL, '', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE messy (id INTEGER PRIMARY KEY, n INT, d DATE);
INSERT INTO messy VALUES (1, 5, '2024-01-01'), (2, 'five', 'yesterday');
CREATE TABLE orders (order_id INTEGER PRIMARY KEY, amount REAL, updated_at TEXT);
INSERT INTO orders VALUES (1, 10, '2024-01-01 10:00:00'), (2, 20, '2024-01-02 10:00:00');
SQL
write_sources() {
    cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: app
    type: sqlite
    sqlite:
      path: data/app.db
$1
EOF
}
write_sources '      streams:
        orders: {mode: incremental, primary_key: order_id, update_key: updated_at}
        "*": {}'

test_expect_success 'source test opens the file and checks the streams' '
    dango source test app >out 2>&1 &&
    test_grep "✓ connected to .*data/app.db" out &&
    test_grep "✓ orders: 2 rows, incremental on updated_at, primary key order_id" out
'

test_expect_success 'types follow the declared affinity' '
    dango sync app >out 2>err &&
    q "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '"'raw_app'"'
       AND table_name = '"'alltypes'"' AND column_name NOT LIKE '"'_dlt%'"' ORDER BY ordinal_position" >types &&
    cat >expect <<-EOF &&
	id,BIGINT
	n,BIGINT
	r,DOUBLE
	num,DOUBLE
	t,VARCHAR
	vc,VARCHAR
	b,BOOLEAN
	d,DATE
	ts,TIMESTAMP
	dec,"DECIMAL(8,2)"
	j,JSON
	bl,BLOB
	anything,VARCHAR
	EOF
    test_cmp expect types &&
    dango query --csv "SELECT COLUMNS(* EXCLUDE (_dlt_id, _dlt_load_id, _dlt_extracted_at))::VARCHAR
                       FROM raw_app.alltypes ORDER BY id" >vals &&
    cat >expect <<-\EOF &&
	id,n,r,num,t,vc,b,d,ts,dec,j,bl,anything
	1,42,1.5,7.0,"a ""quoted"", text",x,true,2024-02-29,2024-01-01 10:00:00,12.50,"{""a"": 1}",\x00\xFF,free
	2,,,,,,false,,,,,,
	EOF
    test_cmp expect vals
'

test_expect_success 'values that do not fit the affinity are kept as VARCHAR, with a warning' '
    test_grep "messy.n: values that are not BIGINT; the column is loaded as VARCHAR" err &&
    test_grep "messy.d: values that are not DATE; the column is loaded as VARCHAR" err &&
    q "SELECT id, n, d FROM raw_app.messy ORDER BY id" >v &&
    printf "1,5,2024-01-01\n2,five,yesterday\n" >expect && test_cmp expect v
'

test_expect_success 'incremental on a text timestamp merges changed rows' '
    sqlite3 data/app.db "UPDATE orders SET amount = 11, updated_at = '"'2024-01-03 00:00:00'"' WHERE order_id = 1;
                         INSERT INTO orders VALUES (3, 30, '"'2024-01-04 00:00:00'"');" &&
    dango sync app >out 2>err &&
    q "SELECT order_id, amount FROM raw_app.orders ORDER BY 1" >v &&
    printf "1,11.0\n2,20.0\n3,30.0\n" >expect && test_cmp expect v
'

test_expect_success 'a Sling replication file supplies the streams' '
    cat >replication.yaml <<-\EOF &&
	source: MY_SQLITE
	target: DUCKDB
	defaults:
	  mode: full-refresh
	streams:
	  orders:
	    object: main.{stream_table}_copy
	    target_options: {column_casing: snake}
	EOF
    write_sources "      replication: replication.yaml" &&
    dango sync app >out 2>err &&
    test_grep "replication.yaml: stream .orders.: .target_options. is ignored by Dango" err &&
    q "SELECT count(*) FROM raw_app.orders_copy" >v && echo 3 >expect && test_cmp expect v
'

test_expect_success 'the wizard (on a terminal) asks for the file and tables, then tests them' '
    run_on_tty "sqlite\napp2\ndata/app.db\norders\n\n" dango source add >out &&
    test_grep "✓ orders: 3 rows, full-refresh, primary key order_id" out &&
    test_grep "Source added to .dango/sources.yml" out &&
    dango sync app2 >out 2>err &&
    q "SELECT count(*) FROM raw_app2.orders" >v && echo 3 >expect && test_cmp expect v
'

test_expect_success 'a missing file and a file that is no database fail clearly' '
    write_sources "      streams:
        orders: {}" &&
    mv data/app.db data/app.bak &&
    test_expect_code 1 dango sync app >out 2>err &&
    test_grep "source '"'app'"': cannot connect to .*data/app.db: unable to open database file" err &&
    echo "not a database" >data/app.db &&
    test_expect_code 1 dango source test app >out 2>&1 &&
    test_grep "file is not a database" out &&
    mv data/app.bak data/app.db
'

test_done
