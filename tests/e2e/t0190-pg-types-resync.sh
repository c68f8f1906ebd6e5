#!/usr/bin/env bash
# The types of a postgres warehouse's raw tables survive a re-sync and a
# full refresh (#19): HUGEINT and UHUGEINT (numeric(39,0)) come back as
# themselves, never DOUBLE, so values beyond 2^53 keep every digit through a
# merge and a full refresh; the unsigned types and the nested ones, which
# PostgreSQL stores as a wider signed type or as jsonb, are remembered in a
# column comment, so a re-sync of an unchanged source reports no schema
# drift and refuses nothing. A real type change still does, and with
# --allow-schema-changes the server's column is widened as DuckDB's would
# be (a view reading it is rebuilt). A sync that fails in PostgreSQL
# records no drift.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start

dango init gen >/dev/null </dev/null
dango init p --skip-wizard >/dev/null </dev/null
cd p
pg_warehouse_use
mkdir -p data/nested
big_rows() {
    whq "SELECT id, h, uh, u1, u2, u4, u8 FROM raw_big.big ORDER BY id"
}

test_expect_success 'setup: 128-bit and unsigned integers in CSV (merge), unsigned and nested types in parquet' '
    printf "id,h,uh,u1,u2,u4,u8\n1,-170141183460469231731687303715884105728,340282366920938463463374607431768211455,255,65535,4294967295,18446744073709551615\n2,9007199254740993,9007199254740993,0,0,0,9007199254740993\n3,,,,,,\n" >data/big.csv &&
    dango source add csv --name big --path data/big.csv --set write_disposition=merge --set "primary_key=[id]" \
        --set "column_types={h: HUGEINT, uh: UHUGEINT, u1: UTINYINT, u2: USMALLINT, u4: UINTEGER, u8: UBIGINT}" >/dev/null &&
    (cd ../gen && dango query --write "COPY (SELECT 1 AS id, 7::UTINYINT AS u1, 70000::UINTEGER AS u4,
        {'"'"'a'"'"': 1, '"'"'b'"'"': '"'"'x'"'"'} AS st, MAP {'"'"'k'"'"': 1} AS m, [[1, 2], [3]] AS ll, 1::TINYINT AS i1,
        TIMESTAMP_S '"'"'2024-01-01 10:00:00'"'"' AS ts_s)
        TO '"'"'../p/data/nested/a.parquet'"'"' (FORMAT parquet)" >/dev/null) &&
    dango source add local_files --name nested --directory data/nested >/dev/null
'

test_expect_success 'the first sync loads them; the comments name the DuckDB types PostgreSQL does not' '
    dango sync big nested >out 2>err &&
    test_grep "Loaded 3 rows into raw_big.big" out &&
    big_rows >got &&
    cat >expect <<-\EOF &&
	id|h|uh|u1|u2|u4|u8
	1|-170141183460469231731687303715884105728|340282366920938463463374607431768211455|255|65535|4294967295|18446744073709551615
	2|9007199254740993|9007199254740993|0|0|0|9007199254740993
	3||||||
	(3 rows)
	EOF
    test_cmp expect got &&
    whq "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum)
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('"'"'raw_big'"'"', '"'"'raw_nested'"'"') AND c.relname IN ('"'"'big'"'"', '"'"'nested'"'"')
         AND a.attnum > 0 AND a.attname NOT LIKE '"'"'\_%'"'"' ORDER BY 1, a.attnum" >got &&
    cat >expect <<-\EOF &&
	relname|attname|format_type|col_description
	big|id|bigint|
	big|h|numeric(39,0)|
	big|uh|numeric(39,0)|dango: DuckDB type UHUGEINT
	big|u1|smallint|dango: DuckDB type UTINYINT
	big|u2|integer|dango: DuckDB type USMALLINT
	big|u4|bigint|dango: DuckDB type UINTEGER
	big|u8|numeric(20,0)|dango: DuckDB type UBIGINT
	nested|id|integer|
	nested|u1|smallint|dango: DuckDB type UTINYINT
	nested|u4|bigint|dango: DuckDB type UINTEGER
	nested|st|jsonb|dango: DuckDB type STRUCT(a INTEGER, b VARCHAR)
	nested|m|jsonb|dango: DuckDB type MAP(VARCHAR, INTEGER)
	nested|ll|jsonb|dango: DuckDB type INTEGER[][]
	nested|i1|smallint|dango: DuckDB type TINYINT
	nested|ts_s|timestamp without time zone|
	(15 rows)
	EOF
    test_cmp expect got &&
    dango governance drift-report >out && test_grep "No open schema drift" out
'

test_expect_success 'a re-sync of a changed file merges values beyond 2^53 exactly, with no drift' '
    printf "id,h,uh,u1,u2,u4,u8\n2,9007199254740995,18446744073709551617,1,2,3,18446744073709551614\n4,-9007199254740993,1,2,3,4,5\n" >data/big.csv &&
    cp data/nested/a.parquet data/nested/b.parquet &&
    dango sync big nested >out 2>err &&
    test_grep ! "drift" err && test_grep ! "schema change" err && test_grep ! "schema change" out &&
    big_rows >got &&
    cat >expect <<-\EOF &&
	id|h|uh|u1|u2|u4|u8
	2|9007199254740995|18446744073709551617|1|2|3|18446744073709551614
	4|-9007199254740993|1|2|3|4|5
	(2 rows)
	EOF
    test_cmp expect got &&
    whq "SELECT id, u1, u4, st, m, ll, i1 FROM raw_nested.nested ORDER BY _dango_filename" >got &&
    cat >expect <<-\EOF &&
	id|u1|u4|st|m|ll|i1
	1|7|70000|{"a": 1, "b": "x"}|{"k": 1}|[[1, 2], [3]]|1
	1|7|70000|{"a": 1, "b": "x"}|{"k": 1}|[[1, 2], [3]]|1
	(2 rows)
	EOF
    test_cmp expect got &&
    dango governance drift-report >out && test_grep "No open schema drift" out
'

test_expect_success 'a full refresh keeps the types and every digit, with no drift' '
    dango sync big nested --full-refresh -y >out 2>err &&
    test_grep "Loaded 2 rows into raw_big.big" out &&
    test_grep ! "drift" err &&
    whq "SELECT id, h, uh, u1, u2, u4, u8 FROM raw_big.big ORDER BY id" >got &&
    cat >expect <<-\EOF &&
	id|h|uh|u1|u2|u4|u8
	2|9007199254740995|18446744073709551617|1|2|3|18446744073709551614
	4|-9007199254740993|1|2|3|4|5
	(2 rows)
	EOF
    test_cmp expect got &&
    whq "SELECT format_type(atttypid, atttypmod), col_description(attrelid, attnum) FROM pg_attribute
         WHERE attrelid = '"'"'raw_big.big'"'"'::regclass AND attname IN ('"'"'h'"'"', '"'"'uh'"'"') ORDER BY attnum" >got &&
    printf "format_type|col_description\nnumeric(39,0)|\nnumeric(39,0)|dango: DuckDB type UHUGEINT\n(2 rows)\n" >expect &&
    test_cmp expect got &&
    dango governance drift-report >out && test_grep "No open schema drift" out
'

test_expect_success 'a table whose note was removed still reads numeric(39,0) as HUGEINT: 2^53 + 5 goes in exactly' '
    whq "COMMENT ON COLUMN raw_big.big.uh IS NULL" >/dev/null &&
    printf "id,h,uh,u1,u2,u4,u8\n4,9007199254740997,7,2,3,4,5\n" >data/big.csv &&
    dango sync big >out 2>err &&
    whq "SELECT id, h, uh FROM raw_big.big ORDER BY id" >got &&
    printf "id|h|uh\n4|9007199254740997|7\n(1 row)\n" >expect &&
    test_cmp expect got
'

test_expect_success 'a real type change is refused, and with --allow-schema-changes widens the column and is drift' '
    whq "CREATE VIEW public.small AS SELECT id, u1 FROM raw_nested.nested" >/dev/null &&
    (cd ../gen && dango query --write "COPY (SELECT 2 AS id, '"'"'many'"'"' AS u1, 70000::UINTEGER AS u4,
        {'"'"'a'"'"': 1, '"'"'b'"'"': '"'"'x'"'"'} AS st, MAP {'"'"'k'"'"': 1} AS m, [[1, 2], [3]] AS ll, 1::TINYINT AS i1,
        TIMESTAMP_S '"'"'2024-01-01 10:00:00'"'"' AS ts_s)
        TO '"'"'../p/data/nested/c.parquet'"'"' (FORMAT parquet)" >/dev/null) &&
    test_must_fail dango sync nested >out 2>err &&
    test_grep "it was UTINYINT, the file now needs VARCHAR" err &&
    dango sync nested --allow-schema-changes >out 2>err &&
    test_grep "u1 UTINYINT -> VARCHAR" out &&
    test_grep "breaking schema drift in raw_nested: nested.u1 UTINYINT -> VARCHAR" err &&
    whq "SELECT * FROM public.small ORDER BY id, u1" >got &&
    printf "id|u1\n1|7\n1|7\n2|many\n(3 rows)\n" >expect &&
    test_cmp expect got &&
    whq "SELECT format_type(atttypid, atttypmod), col_description(attrelid, attnum) FROM pg_attribute
         WHERE attrelid = '"'"'raw_nested.nested'"'"'::regclass AND attname = '"'"'u1'"'"'" >got &&
    printf "format_type|col_description\ntext|\n(1 row)\n" >expect &&
    test_cmp expect got &&
    dango sync nested >out 2>err && test_grep ! "schema change" out
'

test_expect_success 'a sync that fails in PostgreSQL records no drift (the rows never got in)' '
    whq "CREATE VIEW public.maps AS SELECT id, m FROM raw_nested.nested" >/dev/null &&
    (cd ../gen && dango query --write "COPY (SELECT 3 AS id, 1::UTINYINT AS u1) TO '"'"'../p/data/nested/d.parquet'"'"' (FORMAT parquet)") >/dev/null &&
    rm data/nested/a.parquet data/nested/b.parquet data/nested/c.parquet &&
    test_must_fail dango sync nested --full-refresh -y --allow-schema-changes >out 2>err &&
    test_grep "the view public.maps, which reads raw_nested.nested, no longer fits" err &&
    test_grep ! "drift" err &&
    test_expect_code 1 dango governance drift-report nested >out &&
    test_grep "nested.u1 *type changed UTINYINT -> VARCHAR" out &&
    test_grep ! "nested.m" out
'

test_expect_success 'a note that is not a plain type is ignored and removed: nothing of it runs in the stage' '
    whq "COMMENT ON COLUMN raw_nested.nested.u1 IS '"'"'dango: DuckDB type VARCHAR); COPY (SELECT 1) TO '"''"'$PWD/pwned.csv'"''"'; CREATE TABLE raw_nested.x (y VARCHAR'"'"';
         COMMENT ON COLUMN raw_nested.nested.st IS '"'"'dango: DuckDB type STRUCT(a INTEGER DEFAULT (1), b VARCHAR)'"'"'" >/dev/null &&
    rm data/nested/d.parquet &&
    (cd ../gen && dango query --write "COPY (SELECT 4 AS id, '"'"'few'"'"' AS u1, 70000::UINTEGER AS u4,
        {'"'"'a'"'"': 1, '"'"'b'"'"': '"'"'x'"'"'} AS st, MAP {'"'"'k'"'"': 1} AS m, [[1, 2], [3]] AS ll, 1::TINYINT AS i1,
        TIMESTAMP_S '"'"'2024-01-01 10:00:00'"'"' AS ts_s)
        TO '"'"'../p/data/nested/e.parquet'"'"' (FORMAT parquet)" >/dev/null) &&
    { dango sync nested >out 2>err || { cat out err; false; }; } &&
    test_grep "Loaded 1 row into raw_nested.nested" out && test_grep ! "schema change" out &&
    test ! -e pwned.csv &&
    whq "SELECT col_description(attrelid, attnum) FROM pg_attribute WHERE attrelid = '"'"'raw_nested.nested'"'"'::regclass
         AND attname IN ('"'"'u1'"'"', '"'"'st'"'"') ORDER BY attnum" >got &&
    printf "col_description\n\n\n(2 rows)\n" >expect && test_cmp expect got
'

test_expect_success 'a column added later gets its note too: the next sync of it is no change' '
    (cd ../gen && dango query --write "COPY (SELECT 5 AS id, '"'"'more'"'"' AS u1, 70000::UINTEGER AS u4,
        {'"'"'a'"'"': 1, '"'"'b'"'"': '"'"'x'"'"'} AS st, MAP {'"'"'k'"'"': 1} AS m, [[1, 2], [3]] AS ll, 1::TINYINT AS i1,
        TIMESTAMP_S '"'"'2024-01-01 10:00:00'"'"' AS ts_s, 65535::USMALLINT AS added)
        TO '"'"'../p/data/nested/f.parquet'"'"' (FORMAT parquet)" >/dev/null) &&
    dango sync nested --allow-schema-changes >out 2>err &&
    test_grep "new column added" out &&
    whq "SELECT format_type(atttypid, atttypmod), col_description(attrelid, attnum) FROM pg_attribute
         WHERE attrelid = '"'"'raw_nested.nested'"'"'::regclass AND attname = '"'"'added'"'"'" >got &&
    printf "format_type|col_description\ninteger|dango: DuckDB type USMALLINT\n(1 row)\n" >expect && test_cmp expect got &&
    cp data/nested/f.parquet data/nested/g.parquet &&
    dango sync nested >out 2>err && test_grep ! "schema change" out && test_grep ! "added" err &&
    whq "SELECT id, added FROM raw_nested.nested WHERE added IS NOT NULL ORDER BY _dango_filename" >got &&
    printf "id|added\n5|65535\n5|65535\n(2 rows)\n" >expect && test_cmp expect got
'

test_done
