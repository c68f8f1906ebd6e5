#!/usr/bin/env bash
# Every value is shown, in every output (issue 9.1): a table with a column of
# every DuckDB type, and NULLs in each, printed as a box, CSV and JSON (golden
# files below; the text of each value is DuckDB's CAST(x AS VARCHAR), which is
# what the duckdb CLI prints, see tests/unit/test_result.c), at the prompt, in
# multi-statement input, and SELECT * of a synced raw table (UUID and
# TIMESTAMPTZ columns, which crashed).
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
cat >types.sql <<\SQL
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE main.types AS SELECT
  true AS bool_c, (-128)::TINYINT AS tinyint_c, (-32768)::SMALLINT AS smallint_c,
  2147483647::INTEGER AS int_c, (-9223372036854775808)::BIGINT AS bigint_c,
  170141183460469231731687303715884105727::HUGEINT AS hugeint_c,
  255::UTINYINT AS utinyint_c, 65535::USMALLINT AS usmallint_c, 4294967295::UINTEGER AS uinteger_c,
  18446744073709551615::UBIGINT AS ubigint_c, 340282366920938463463374607431768211455::UHUGEINT AS uhugeint_c,
  0.1::FLOAT AS float_c, 1e20::DOUBLE AS double_c, 12345.678::DECIMAL(10,3) AS decimal_c,
  12345678901234567890.123456789::DECIMAL(38,9) AS decimal38_c,
  'it''s "x", y' AS varchar_c, '\xAA\x00b'::BLOB AS blob_c,
  DATE '2024-02-29' AS date_c, TIME '12:34:56.789' AS time_c,
  TIMESTAMP '2024-02-29 12:34:56.789012' AS timestamp_c, TIMESTAMP_S '2024-02-29 12:34:56' AS timestamp_s_c,
  TIMESTAMP_MS '2024-02-29 12:34:56.789' AS timestamp_ms_c, TIMESTAMP_NS '2024-02-29 12:34:56.123456789' AS timestamp_ns_c,
  TIMESTAMPTZ '2024-02-29 12:34:56+00' AS timestamptz_c, '12:34:56+05:30'::TIMETZ AS timetz_c,
  INTERVAL '1 year 2 months 3 days 04:05:06' AS interval_c,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS uuid_c,
  [1, 2, NULL] AS list_c, ['a', 'b, c', NULL] AS list_varchar_c, [1, 2, 3]::INTEGER[3] AS array_c,
  {'name': 'Ann', 'tags': ['x']} AS struct_c, MAP {'k': 1, 'j': 2} AS map_c,
  union_value(num := 42)::UNION(num INTEGER, str VARCHAR) AS union_c, 'happy'::mood AS enum_c,
  '10110'::BIT AS bit_c, 123456789012345678901234567890::BIGNUM AS bignum_c, '{"a": [1, 2]}'::JSON AS json_c;
INSERT INTO main.types DEFAULT VALUES;
SQL
dango query --write <types.sql >/dev/null

COLS="bool_c, tinyint_c, smallint_c, int_c, bigint_c, hugeint_c, utinyint_c, usmallint_c
uinteger_c, ubigint_c, uhugeint_c, float_c, double_c, decimal_c, decimal38_c
varchar_c, blob_c, date_c, time_c, timestamp_c, timestamp_s_c, timestamp_ms_c
timestamp_ns_c, timestamptz_c, timetz_c, interval_c, uuid_c
list_c, list_varchar_c, array_c, struct_c, map_c, union_c
enum_c, bit_c, bignum_c, json_c"

cat >expect_box <<\EOF
┌─────────┬───────────┬────────────┬────────────┬──────────────────────┬─────────────────────────────────────────┬────────────┬─────────────┐
│ bool_c  │ tinyint_c │ smallint_c │   int_c    │       bigint_c       │                hugeint_c                │ utinyint_c │ usmallint_c │
│ boolean │   int8    │   int16    │   int32    │        int64         │                 int128                  │   uint8    │   uint16    │
├─────────┼───────────┼────────────┼────────────┼──────────────────────┼─────────────────────────────────────────┼────────────┼─────────────┤
│ true    │      -128 │     -32768 │ 2147483647 │ -9223372036854775808 │ 170141183460469231731687303715884105727 │        255 │       65535 │
│ NULL    │ NULL      │ NULL       │ NULL       │ NULL                 │ NULL                                    │ NULL       │ NULL        │
└─────────┴───────────┴────────────┴────────────┴──────────────────────┴─────────────────────────────────────────┴────────────┴─────────────┘
┌────────────┬──────────────────────┬─────────────────────────────────────────┬─────────┬──────────┬───────────────┬────────────────────────────────┐
│ uinteger_c │      ubigint_c       │               uhugeint_c                │ float_c │ double_c │   decimal_c   │          decimal38_c           │
│   uint32   │        uint64        │                 uint128                 │  float  │  double  │ decimal(10,3) │         decimal(38,9)          │
├────────────┼──────────────────────┼─────────────────────────────────────────┼─────────┼──────────┼───────────────┼────────────────────────────────┤
│ 4294967295 │ 18446744073709551615 │ 340282366920938463463374607431768211455 │     0.1 │    1e+20 │     12345.678 │ 12345678901234567890.123456789 │
│ NULL       │ NULL                 │ NULL                                    │ NULL    │ NULL     │ NULL          │ NULL                           │
└────────────┴──────────────────────┴─────────────────────────────────────────┴─────────┴──────────┴───────────────┴────────────────────────────────┘
┌─────────────┬───────────┬────────────┬──────────────┬────────────────────────────┬─────────────────────┬─────────────────────────┐
│  varchar_c  │  blob_c   │   date_c   │    time_c    │        timestamp_c         │    timestamp_s_c    │     timestamp_ms_c      │
│   varchar   │   blob    │    date    │     time     │         timestamp          │     timestamp_s     │      timestamp_ms       │
├─────────────┼───────────┼────────────┼──────────────┼────────────────────────────┼─────────────────────┼─────────────────────────┤
│ it's "x", y │ \xAA\x00b │ 2024-02-29 │ 12:34:56.789 │ 2024-02-29 12:34:56.789012 │ 2024-02-29 12:34:56 │ 2024-02-29 12:34:56.789 │
│ NULL        │ NULL      │ NULL       │ NULL         │ NULL                       │ NULL                │ NULL                    │
└─────────────┴───────────┴────────────┴──────────────┴────────────────────────────┴─────────────────────┴─────────────────────────┘
┌───────────────────────────────┬──────────────────────────┬─────────────────────┬─────────────────────────────────┬──────────────────────────────────────┐
│        timestamp_ns_c         │      timestamptz_c       │      timetz_c       │           interval_c            │                uuid_c                │
│         timestamp_ns          │ timestamp with time zone │ time with time zone │            interval             │                 uuid                 │
├───────────────────────────────┼──────────────────────────┼─────────────────────┼─────────────────────────────────┼──────────────────────────────────────┤
│ 2024-02-29 12:34:56.123456789 │ 2024-02-29 12:34:56+00   │ 12:34:56+05:30      │ 1 year 2 months 3 days 04:05:06 │ a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 │
│ NULL                          │ NULL                     │ NULL                │ NULL                            │ NULL                                 │
└───────────────────────────────┴──────────────────────────┴─────────────────────┴─────────────────────────────────┴──────────────────────────────────────┘
┌──────────────┬───────────────────┬───────────┬──────────────────────────────────────┬─────────────────────┬───────────────────────────────┐
│    list_c    │  list_varchar_c   │  array_c  │               struct_c               │        map_c        │            union_c            │
│   int32[]    │     varchar[]     │ int32[3]  │ struct(name varchar, tags varchar[]) │ map(varchar, int32) │ union(num int32, str varchar) │
├──────────────┼───────────────────┼───────────┼──────────────────────────────────────┼─────────────────────┼───────────────────────────────┤
│ [1, 2, NULL] │ [a, 'b, c', NULL] │ [1, 2, 3] │ {'name': Ann, 'tags': [x]}           │ {k=1, j=2}          │ 42                            │
│ NULL         │ NULL              │ NULL      │ NULL                                 │ NULL                │ NULL                          │
└──────────────┴───────────────────┴───────────┴──────────────────────────────────────┴─────────────────────┴───────────────────────────────┘
┌────────────────────────────┬───────┬────────────────────────────────┬───────────────┐
│           enum_c           │ bit_c │            bignum_c            │    json_c     │
│ enum('sad', 'ok', 'happy') │  bit  │             bignum             │     json      │
├────────────────────────────┼───────┼────────────────────────────────┼───────────────┤
│ happy                      │ 10110 │ 123456789012345678901234567890 │ {"a": [1, 2]} │
│ NULL                       │ NULL  │ NULL                           │ NULL          │
└────────────────────────────┴───────┴────────────────────────────────┴───────────────┘
EOF
cat >expect_csv <<\EOF
bool_c,tinyint_c,smallint_c,int_c,bigint_c,hugeint_c,utinyint_c,usmallint_c,uinteger_c,ubigint_c,uhugeint_c,float_c,double_c,decimal_c,decimal38_c,varchar_c,blob_c,date_c,time_c,timestamp_c,timestamp_s_c,timestamp_ms_c,timestamp_ns_c,timestamptz_c,timetz_c,interval_c,uuid_c,list_c,list_varchar_c,array_c,struct_c,map_c,union_c,enum_c,bit_c,bignum_c,json_c
true,-128,-32768,2147483647,-9223372036854775808,170141183460469231731687303715884105727,255,65535,4294967295,18446744073709551615,340282366920938463463374607431768211455,0.1,1e+20,12345.678,12345678901234567890.123456789,"it's ""x"", y",\xAA\x00b,2024-02-29,12:34:56.789,2024-02-29 12:34:56.789012,2024-02-29 12:34:56,2024-02-29 12:34:56.789,2024-02-29 12:34:56.123456789,2024-02-29 12:34:56+00,12:34:56+05:30,1 year 2 months 3 days 04:05:06,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,"[1, 2, NULL]","[a, 'b, c', NULL]","[1, 2, 3]","{'name': Ann, 'tags': [x]}","{k=1, j=2}",42,happy,10110,123456789012345678901234567890,"{""a"": [1, 2]}"
,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
EOF
cat >expect_json <<\EOF
[{"bool_c": true, "tinyint_c": -128, "smallint_c": -32768, "int_c": 2147483647, "bigint_c": -9223372036854775808, "hugeint_c": 170141183460469231731687303715884105727, "utinyint_c": 255, "usmallint_c": 65535, "uinteger_c": 4294967295, "ubigint_c": 18446744073709551615, "uhugeint_c": 340282366920938463463374607431768211455, "float_c": 0.1, "double_c": 1e+20, "decimal_c": 12345.678, "decimal38_c": 12345678901234567890.123456789, "varchar_c": "it's \"x\", y", "blob_c": "\\xAA\\x00b", "date_c": "2024-02-29", "time_c": "12:34:56.789", "timestamp_c": "2024-02-29 12:34:56.789012", "timestamp_s_c": "2024-02-29 12:34:56", "timestamp_ms_c": "2024-02-29 12:34:56.789", "timestamp_ns_c": "2024-02-29 12:34:56.123456789", "timestamptz_c": "2024-02-29 12:34:56+00", "timetz_c": "12:34:56+05:30", "interval_c": "1 year 2 months 3 days 04:05:06", "uuid_c": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "list_c": [1, 2, null], "list_varchar_c": ["a", "b, c", null], "array_c": [1, 2, 3], "struct_c": {"name": "Ann", "tags": ["x"]}, "map_c": {"k": 1, "j": 2}, "union_c": 42, "enum_c": "happy", "bit_c": "10110", "bignum_c": 123456789012345678901234567890, "json_c": {"a": [1, 2]}},
 {"bool_c": null, "tinyint_c": null, "smallint_c": null, "int_c": null, "bigint_c": null, "hugeint_c": null, "utinyint_c": null, "usmallint_c": null, "uinteger_c": null, "ubigint_c": null, "uhugeint_c": null, "float_c": null, "double_c": null, "decimal_c": null, "decimal38_c": null, "varchar_c": null, "blob_c": null, "date_c": null, "time_c": null, "timestamp_c": null, "timestamp_s_c": null, "timestamp_ms_c": null, "timestamp_ns_c": null, "timestamptz_c": null, "timetz_c": null, "interval_c": null, "uuid_c": null, "list_c": null, "list_varchar_c": null, "array_c": null, "struct_c": null, "map_c": null, "union_c": null, "enum_c": null, "bit_c": null, "bignum_c": null, "json_c": null}]
EOF

test_expect_success 'the box shows every type, and NULL in each' '
    echo "$COLS" | while read -r cols; do dango query "SELECT $cols FROM main.types" || exit 1; done >out &&
    test_cmp expect_box out
'

test_expect_success 'every column of every type in one box, without a crash' '
    dango query "SELECT * FROM main.types" >out &&
    test_grep "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" out && test_grep "{.name.: Ann, .tags.: \[x\]}" out &&
    test $(wc -l <out) -eq 7
'

test_expect_success '--csv shows every type, NULL as an empty field' '
    dango query --csv "SELECT * FROM main.types" >out && test_cmp expect_csv out
'

test_expect_success '--json gives JSON types: numbers exact, nested values as arrays and objects, null' '
    dango query --json "SELECT * FROM main.types" >out && test_cmp expect_json out
'

test_expect_success 'the smallest crash of issue 9: a UUID followed by another column' '
    dango query --csv "select gen_random_uuid() u, 1 x" >out &&
    grep -Eq "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12},1$" out
'

test_expect_success 'the prompt shows every value' '
    run_on_tty "SELECT uuid_c, list_c, struct_c, decimal38_c, timestamptz_c FROM main.types;\n.quit\n" dango query >out &&
    test_grep "│ a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 │ \[1, 2, NULL\] │ {.name.: Ann, .tags.: \[x\]} *│ 12345678901234567890.123456789 │ 2024-02-29 12:34:56+00 *│" out &&
    test_grep "│ NULL                                 │ NULL         │ NULL" out
'

test_expect_success 'TIMESTAMPTZ shows in the session time zone' '
    TZ=America/New_York dango query --csv "SELECT timestamptz_c AS t, [timestamptz_c] AS l FROM main.types LIMIT 1" >out &&
    printf "t,l\n2024-02-29 07:34:56-05,['"'"'2024-02-29 07:34:56-05'"'"']\n" >expect && test_cmp expect out &&
    TZ=Asia/Kolkata dango query --json "SELECT TIMESTAMPTZ '"'"'2024-07-01 00:00:00+00'"'"' AS t" >out &&
    echo "[{\"t\": \"2024-07-01 05:30:00+05:30\"}]" >expect && test_cmp expect out
'

test_expect_success 'multi-statement input prints every statement'"'"'s result, as the duckdb CLI does' '
    dango query "SELECT 1 AS a; CREATE TEMP TABLE x AS SELECT 2 AS b; INSERT INTO x VALUES (3); SELECT b FROM x ORDER BY b; SELECT '"'"'z;'"'"' AS c" >out &&
    cat >expect <<-\EOF &&
	┌───────┐
	│   a   │
	│ int32 │
	├───────┤
	│     1 │
	└───────┘
	┌───────┐
	│   b   │
	│ int32 │
	├───────┤
	│     2 │
	│     3 │
	└───────┘
	┌─────────┐
	│    c    │
	│ varchar │
	├─────────┤
	│ z;      │
	└─────────┘
	EOF
    test_cmp expect out &&
    dango query --csv "SELECT 1 AS a; SELECT 2 AS b, 3 AS c" >out && printf "a\n1\nb,c\n2,3\n" >expect && test_cmp expect out &&
    echo "SELECT [1] AS a; SELECT {'"'"'k'"'"': NULL} AS b;" | dango query --json >out &&
    printf "[{\"a\": [1]}]\n[{\"b\": {\"k\": null}}]\n" >expect && test_cmp expect out
'

test_expect_success 'statements that return only a status print nothing (BEGIN, SET, COMMIT, CHECKPOINT, INSERT)' '
    dango query --write --csv "BEGIN; SET threads = 2; CREATE TABLE main.s AS SELECT 1 AS v; INSERT INTO main.s VALUES (2);
        UPDATE main.s SET v = v * 10; COMMIT; CHECKPOINT; SELECT sum(v) AS total FROM main.s; DROP TABLE main.s" >out &&
    printf "total\n30\n" >expect && test_cmp expect out
'

test_expect_success 'a failing statement stops the rest: the results before it are shown, exit 1' '
    test_expect_code 1 dango query --csv "SELECT 1 AS a; SELECT * FROM nope; SELECT 2 AS b" >out 2>err &&
    printf "a\n1\n" >expect && test_cmp expect out &&
    test_grep "Table with name nope does not exist" err
'

test_expect_success 'SELECT * of a synced raw table shows every column (UUID, TIMESTAMPTZ)' '
    printf "id,name,amount,ordered_at\n1,Ann,10.5,2024-01-02\n2,Bo,20,2024-01-03\n3,Cy,,2024-01-04\n" >data/orders.csv &&
    dango source add csv --name orders --path data/orders.csv >/dev/null &&
    dango sync >/dev/null &&
    dango query "SELECT * FROM raw_orders.orders LIMIT 2" >box &&
    test_grep "│     1 │ Ann     │   10.5 │ 2024-01-02 │ [0-9.]* │ [0-9a-f-]\{36\} │ 20[0-9-]* [0-9:.]*+00 │ data/orders.csv │" box &&
    test_grep "│     2 │ Bo      │   20.0 │ 2024-01-03 │" box &&
    dango query --csv "SELECT * FROM raw_orders.orders ORDER BY id LIMIT 2" >csv &&
    test_grep "^id,name,amount,ordered_at,_dlt_load_id,_dlt_id,_dlt_extracted_at,_dango_filename,_dango_file_mtime,_dango_loaded_at,_dango_deleted$" csv &&
    grep -Eq "^1,Ann,10.5,2024-01-02,[0-9.]+,[0-9a-f]{8}-[0-9a-f-]{27},20[0-9-]+ [0-9:.]+\+00,data/orders.csv,20[0-9-]+ [0-9:]+,20[0-9-]+ [0-9:.]+\+00,false$" csv &&
    dango query --json "SELECT * FROM raw_orders.orders ORDER BY id LIMIT 2" >json &&
    grep -Eq "^\[\{\"id\": 1, \"name\": \"Ann\", \"amount\": 10.5, \"ordered_at\": \"2024-01-02\", \"_dlt_load_id\": \"[0-9.]+\", \"_dlt_id\": \"[0-9a-f-]{36}\", \"_dlt_extracted_at\": \"[0-9-]+ [0-9:.]+\+00\"" json &&
    run_on_tty "SELECT * FROM raw_orders.orders WHERE id = 3;\n.quit\n" dango query >tty &&
    test_grep "│     3 │ Cy      │ NULL   │ 2024-01-04 │" tty
'

test_done
