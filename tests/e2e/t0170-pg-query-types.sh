#!/usr/bin/env bash
# dango query on a postgres warehouse (#19): a table with a column of every
# common type and a row of NULLs, read back with SELECT * as a box, CSV and
# JSON, printed exactly as the DuckDB path prints the same values (the same
# table made in a DuckDB project is the reference); the query runs in a
# read-only transaction (PostgreSQL refuses a write, and the message says
# how to write), cannot end that transaction, stops at the statement
# timeout; --write writes; the password never shows.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
export WAREHOUSE_URL="postgresql://dango:$DB_PW@127.0.0.1:$PGPORT/wh"

# a Dango project on the postgres warehouse
pg_project() {
    dango init "$1" >/dev/null </dev/null &&
    sed -i '/^  warehouse:/d' "$1/.dango/project.yml" &&
    printf 'warehouse:\n  type: postgres\n  url_env: WAREHOUSE_URL\n' >>"$1/.dango/project.yml" &&
    rm -f "$1/data/warehouse.duckdb"
}

test_expect_success 'setup: the same table in DuckDB and in PostgreSQL' '
    dango init duck >/dev/null </dev/null &&
    (cd duck && dango query --write "CREATE TABLE main.types AS SELECT
        true AS bool_c, 7::SMALLINT AS smallint_c, 2147483647::INTEGER AS int_c,
        (-9223372036854775808)::BIGINT AS bigint_c, 12345.678::DECIMAL(10,3) AS decimal_c,
        0.1::FLOAT AS float_c, 1e20::DOUBLE AS double_c, 3.25::DOUBLE AS double2_c,
        '"'"'it'"'"''"'"'s \"x\", y'"'"' AS text_c, '"'"'\xAA\x00b'"'"'::BLOB AS bytea_c,
        DATE '"'"'2024-02-29'"'"' AS date_c, TIME '"'"'12:34:56.789'"'"' AS time_c,
        TIMESTAMP '"'"'2024-02-29 12:34:56.789012'"'"' AS timestamp_c,
        TIMESTAMPTZ '"'"'2024-02-29 12:34:56+00'"'"' AS timestamptz_c,
        INTERVAL '"'"'1 year 2 months 3 days 04:05:06'"'"' AS interval_c,
        '"'"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"'"'::UUID AS uuid_c,
        '"'"'{\"a\": [1, 2]}'"'"'::JSON AS json_c,
        [1, 2, NULL]::INTEGER[] AS int_array_c, ['"'"'a'"'"', '"'"'b, c'"'"', NULL] AS text_array_c;
      INSERT INTO main.types DEFAULT VALUES" >/dev/null) &&
    pg_project p &&
    PGDB=wh psql_do "CREATE TABLE public.types AS SELECT
        true AS bool_c, 7::smallint AS smallint_c, 2147483647::integer AS int_c,
        (-9223372036854775808)::bigint AS bigint_c, 12345.678::numeric(10,3) AS decimal_c,
        0.1::real AS float_c, 1e20::double precision AS double_c, 3.25::float8 AS double2_c,
        '"'"'it'"'"''"'"'s \"x\", y'"'"'::text AS text_c, '"'"'\xaa0062'"'"'::bytea AS bytea_c,
        DATE '"'"'2024-02-29'"'"' AS date_c, TIME '"'"'12:34:56.789'"'"' AS time_c,
        TIMESTAMP '"'"'2024-02-29 12:34:56.789012'"'"' AS timestamp_c,
        TIMESTAMPTZ '"'"'2024-02-29 12:34:56+00'"'"' AS timestamptz_c,
        INTERVAL '"'"'1 year 2 months 3 days 04:05:06'"'"' AS interval_c,
        '"'"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"'"'::uuid AS uuid_c,
        '"'"'{\"a\": [1, 2]}'"'"'::jsonb AS json_c,
        ARRAY[1, 2, NULL]::int[] AS int_array_c, ARRAY['"'"'a'"'"', '"'"'b, c'"'"', NULL] AS text_array_c;
      INSERT INTO public.types DEFAULT VALUES"
'

for fmt in box csv json; do
    test_expect_success "SELECT * prints every type as the DuckDB path does ($fmt)" '
        flag= && { [ '$fmt' = box ] || flag=--'$fmt'; } &&
        (cd duck && TZ=UTC dango query $flag "SELECT * FROM main.types") >expect &&
        [ $(wc -l <expect) -ge 2 ] &&
        (cd p && TZ=UTC dango query $flag "SELECT * FROM types") >actual &&
        test_cmp expect actual
    '
done

test_expect_success 'the printed values themselves (CSV)' '
    (cd p && dango query --csv "SELECT * FROM types") >actual &&
    cat >expect <<-\EOF &&
	bool_c,smallint_c,int_c,bigint_c,decimal_c,float_c,double_c,double2_c,text_c,bytea_c,date_c,time_c,timestamp_c,timestamptz_c,interval_c,uuid_c,json_c,int_array_c,text_array_c
	true,7,2147483647,-9223372036854775808,12345.678,0.1,1e+20,3.25,"it'"'"'s ""x"", y",\xAA\x00b,2024-02-29,12:34:56.789,2024-02-29 12:34:56.789012,2024-02-29 12:34:56+00,1 year 2 months 3 days 04:05:06,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,"{""a"": [1, 2]}","[1, 2, NULL]","[a, '"'"'b, c'"'"', NULL]"
	,,,,,,,,,,,,,,,,,,
	EOF
    test_cmp expect actual
'

cat >more_duck.sql <<\EOF
SELECT [[1, 2], [3, 4]] AS nested_c, 'inf'::DOUBLE AS inf_c, '-inf'::DOUBLE AS ninf_c, 'nan'::DOUBLE AS nan_c,
  [true, false, NULL] AS bools_c, [' a', 'null', '', 'x"y', 'it''s'] AS quoted_c,
  [TIMESTAMP '2024-01-01 00:00:00'] AS ts_list_c, DATE '0044-03-15 (BC)' AS bc_c,
  INTERVAL '-1 day' AS neg_c, INTERVAL '-1 year -1 month 2 days 03:04:05' AS neg2_c,
  1.5::DECIMAL(4,1) AS dec_c, (-0.25)::DECIMAL(5,2) AS negdec_c
EOF
cat >more_pg.sql <<\EOF
SELECT ARRAY[[1, 2], [3, 4]] AS nested_c, 'Infinity'::float8 AS inf_c, '-Infinity'::float8 AS ninf_c, 'NaN'::float8 AS nan_c,
  ARRAY[true, false, NULL] AS bools_c, ARRAY[' a', 'null', '', 'x"y', 'it''s'] AS quoted_c,
  ARRAY[TIMESTAMP '2024-01-01 00:00:00'] AS ts_list_c, DATE '0044-03-15 BC' AS bc_c,
  INTERVAL '-1 day' AS neg_c, INTERVAL '-1 year -1 month 2 days 03:04:05' AS neg2_c,
  1.5::numeric(4,1) AS dec_c, (-0.25)::numeric(5,2) AS negdec_c
EOF

test_expect_success 'more values: nested lists, infinities, quoted list elements, BC dates, negative intervals' '
    for flag in "" --csv --json; do
        (cd duck && dango query $flag <../more_duck.sql) >expect &&
        (cd p && dango query $flag <../more_pg.sql) >actual &&
        test_cmp expect actual || return 1
    done
'

test_expect_success 'a write is refused by the read-only transaction, and says how to write' '
    (cd p && test_must_fail dango query "INSERT INTO types (int_c) VALUES (1)") 2>err &&
    test_grep "cannot execute INSERT in a read-only transaction" err &&
    test_grep "pass --write to change it" err &&
    (cd p && test_must_fail dango query "SET TRANSACTION READ WRITE; DELETE FROM types") 2>err &&
    test_grep "read-write mode must be set before any query" err &&
    (cd p && test_must_fail dango query "COMMIT; DELETE FROM types") 2>err &&
    test_grep "cannot end" err &&
    (cd p && dango query --csv "SELECT count(*) AS n FROM types") >actual &&
    printf "n\n2\n" >expect && test_cmp expect actual
'

test_expect_success 'several statements print one result each; a statement with ; in a string' '
    (cd p && dango query --csv "SELECT '"'"'a;b'"'"' AS s; SELECT \$\$x;y\$\$ AS t -- c;
      ; SELECT 1 AS one") >actual &&
    printf "s\na;b\nt\nx;y\none\n1\n" >expect && test_cmp expect actual
'

test_expect_success 'a read-only query stops at the statement timeout' '
    (cd p && test_must_fail dango query --timeout 1 "SELECT pg_sleep(5)") 2>err &&
    test_grep "statement timeout" err &&
    test_grep "stops after 1 seconds" err &&
    (cd duck && test_must_fail dango query --timeout 1 "SELECT 1") 2>err &&
    test_grep "is for a postgres warehouse" err
'

test_expect_success '--write writes, in the postgres warehouse' '
    (cd p && dango query --write "CREATE TABLE t2 (a int); INSERT INTO t2 VALUES (5)" &&
     dango query --csv "SELECT * FROM t2") >actual &&
    printf "a\n5\n" >expect && test_cmp expect actual &&
    PGDB=wh psql_do "SELECT a FROM public.t2" | grep -q 5 &&
    ! test -e p/data/warehouse.duckdb
'

test_expect_success 'a wrong password names the server, never the password' '
    (cd p && WAREHOUSE_URL="postgresql://dango:hunter2wrong@127.0.0.1:$PGPORT/wh" \
        test_must_fail dango query "SELECT 1") 2>err &&
    test_grep "127.0.0.1:$PGPORT/wh" err &&
    ! grep -q hunter2wrong err
'

test_done
