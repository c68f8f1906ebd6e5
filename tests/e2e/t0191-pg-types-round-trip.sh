#!/usr/bin/env bash
# Every type a source gives maps to PostgreSQL and back without loss (#19):
# the same sources synced into a DuckDB project and into a postgres one (a
# parquet folder with integers of every width and sign, decimals up to 38
# digits, floats with their infinities, boolean, date, time (also with
# nanoseconds), timetz, timestamps of every unit, timestamptz, interval,
# uuid, text with unicode, quotes, backslashes, newlines, empty and NULL,
# blob, json, lists of each scalar type (blob too), fixed-size arrays,
# structs (field names quoted too), maps, nested lists; a CSV with HUGEINT
# and UHUGEINT beyond 2^64), read back after the first sync, an
# incremental re-sync (a new file, a changed CSV) and a full refresh:
# psql's SELECT on the server as a user reads it, and dango query's printed
# values equal on both warehouses (CSV for the scalar and list columns;
# JSON, keys sorted, for every column: structs and maps are jsonb in
# PostgreSQL). Nanoseconds of a timestamp, which PostgreSQL cannot keep,
# are rounded with a warning, never silently; a NUL character, which it
# cannot store at all, fails the sync with a message saying so.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start

dango init gen >/dev/null </dev/null
for P in d p; do dango init $P --skip-wizard >/dev/null </dev/null && mkdir -p $P/data/types; done
(cd p && pg_warehouse_use)

COLS="id, i1, i2, i4, i8, u1, u2, u4, u8, d5, d18, d38, d38s, f4, f8, b, dt, tm, tm_ns, ttz, ts, ts_ms, tstz, iv, u, s, bl, js,
      l_i, l_s, l_bl, l_d, l_dt, l_tz, l_u, l_b, l_f, l_iv, l_tm, l_js, l_u1, arr, st, m, ll, l_st, st_q"
SCALAR="id, i1, i2, i4, i8, u1, u2, u4, u8, d5, d18, d38, d38s, f4, f8, b, dt, tm, tm_ns, ttz, ts, ts_ms, tstz, iv, u, s, bl, js,
      l_i, l_s, l_bl, l_d, l_dt, l_tz, l_u, l_b, l_f, l_iv, l_tm, l_js, l_u1, arr"

# rows FROM..TO of every type as a parquet file of both projects
gen_types() {
    local file=$1 from=$2 to=$3
    for P in d p; do
        (cd gen && dango query --write "COPY (SELECT * FROM (SELECT * FROM (VALUES
 (1, (-128)::TINYINT, (-32768)::SMALLINT, (-2147483648)::INTEGER, (-9223372036854775808)::BIGINT,
  255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, 18446744073709551615::UBIGINT,
  (-999.99)::DECIMAL(5,2), 123456789012.345678::DECIMAL(18,6), 99999999999999999999999999999999999999::DECIMAL(38,0),
  (-1234567890123456789012345678.9012345678)::DECIMAL(38,10), '-inf'::FLOAT, 'nan'::DOUBLE, true,
  DATE '0044-03-15 (BC)', TIME '23:59:59.999999', TIME_NS '01:02:03.123456789', TIMETZ '10:00:00+02', TIMESTAMP '1999-12-31 23:59:59.999999',
  TIMESTAMP_MS '2024-01-01 10:00:00.123', TIMESTAMPTZ '2024-06-30 23:30:00+05:30',
  INTERVAL '1 year 2 months 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID,
  'héllo ✓ 日本 \"q\" ''s\\ back	tab
new line', '\\x00\\xFF\\x10'::BLOB, '{\"a\": [1, 2.5, null], \"s\": \"x\\\\y é\"}'::JSON,
  [1, NULL, -3], ['a\"b', 'c\\d', 'e,f', '{g}', '', 'NULL', NULL, 'new
line', 'é✓'], ['\\x00\\xFF'::BLOB, ''::BLOB, NULL], [1.50::DECIMAL(10,2), NULL],
  [DATE '2024-02-29', 'infinity'::DATE], [TIMESTAMPTZ '2024-01-01 10:00:00+02', NULL],
  ['00000000-0000-0000-0000-000000000001'::UUID], [true, false, NULL], ['inf'::DOUBLE, -0.5, 1e300],
  [INTERVAL '1 day 00:00:01'], [TIME '10:00:00.5'], ['{\"k\": 1}'::JSON], [0::UTINYINT, 255::UTINYINT],
  [1, 2, 3]::INTEGER[3], {'a': 1, 'b': 'q\"x\\y', 'c': [1, 2]}, MAP {'k': 1, 'l': NULL}, [[1, 2], [3]],
  [{'x': 1, 'y': 'z'}], {'my field': 1, 'Up': 'x', 'select': true, 'a\"q': 4}),
 (2, 127::TINYINT, 32767::SMALLINT, 2147483647::INTEGER, 9223372036854775807::BIGINT,
  0::UTINYINT, 0::USMALLINT, 0::UINTEGER, 9007199254740993::UBIGINT,
  0.01::DECIMAL(5,2), (-0.000001)::DECIMAL(18,6), (-99999999999999999999999999999999999999)::DECIMAL(38,0),
  0.0000000001::DECIMAL(38,10), 3.4028235e38::FLOAT, 1.7976931348623157e308::DOUBLE, false,
  DATE 'infinity', TIME '00:00:00', TIME_NS '23:59:59.999999999', TIMETZ '23:59:59-11', TIMESTAMP 'infinity', TIMESTAMP_MS '1969-12-31 23:59:59.999',
  TIMESTAMPTZ '-infinity', INTERVAL '14 months 40 days 100:00:00.5', 'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID,
  '', ''::BLOB, '[]'::JSON, [], [], [], [], [], [], [], [], [], [], [], [], [], [4, 5, 6]::INTEGER[3],
  {'a': NULL, 'b': '', 'c': []}, MAP {}, [[]], [], NULL),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
 ) t($COLS)
 UNION ALL SELECT i, (i % 100)::TINYINT, i::SMALLINT, (i * 1000)::INTEGER, i * 1000000000000, (i % 256)::UTINYINT,
  i::USMALLINT, i::UINTEGER, i::UBIGINT * 1000000000000000, (i / 100)::DECIMAL(5,2), (i / 7)::DECIMAL(18,6),
  (i::HUGEINT * 1000000000000000000000000000000)::DECIMAL(38,0), (i / 3)::DECIMAL(38,10), (i / 4)::FLOAT, i / 3, i % 2 = 0, DATE '2024-01-01' + i::INTEGER, TIME '00:00:00' + INTERVAL (i) SECOND,
  TIME_NS '12:00:00.000000001', TIMETZ '12:00:00+01', TIMESTAMP '2024-01-01' + INTERVAL (i) HOUR, TIMESTAMP_MS '2024-01-01 00:00:00.5',
  TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i) MINUTE, INTERVAL (i) DAY, md5(i::VARCHAR)::UUID,
  'row ' || i, ('r' || i)::BLOB, ('{\"i\": ' || i || '}')::JSON, [i, i + 1]::INTEGER[], ['s' || i], [('b' || i)::BLOB],
  [(i / 10)::DECIMAL(10,2)], [DATE '2024-01-01'], [TIMESTAMPTZ '2024-01-01 00:00:00+00'], [md5(i::VARCHAR)::UUID],
  [i % 2 = 0], [i / 8], [INTERVAL (i) HOUR], [TIME '01:00:00'], [('{\"i\": ' || i || '}')::JSON], [(i % 256)::UTINYINT],
  [i, i, i]::INTEGER[3], {'a': i, 'b': 'v' || i, 'c': [i]}, MAP {'k': i}, [[i]], [{'x': i, 'y': 'y'}],
  {'my field': i, 'Up': 'u', 'select': false, 'a\"q': 0}
 FROM range(4, 200) r(i)) WHERE id BETWEEN $from AND $to) TO '../$P/data/types/$file' (FORMAT parquet)"
        ) >/dev/null || return 1
    done
}

# the same on both warehouses: dango query's CSV of the scalar and list
# columns, and its JSON of every column with the keys of objects sorted
# (digits kept: numbers compared as their text)
same_on_both() {
    local t=$1 cols=$2 scalar=$3
    (cd d && dango query --csv "SELECT $scalar FROM $t ORDER BY 1") >"$t.d.csv" &&
    (cd p && dango query --csv "SELECT $scalar FROM $t ORDER BY 1") >"$t.p.csv" &&
    test "$(wc -l <"$t.d.csv")" -ge 3 && test_cmp "$t.d.csv" "$t.p.csv" &&
    (cd d && dango query --json "SELECT $cols FROM $t ORDER BY 1") | sorted_json >"$t.d.json" &&
    (cd p && dango query --json "SELECT $cols FROM $t ORDER BY 1") | sorted_json >"$t.p.json" &&
    test_cmp "$t.d.json" "$t.p.json"
}
sorted_json() {
    python3 -c 'import json, sys, decimal
rows = json.load(sys.stdin, parse_float=decimal.Decimal, parse_constant=str)
for r in rows:
    print(json.dumps(r, sort_keys=True, ensure_ascii=False, default=str))'
}

types_psql() {
    whq "SELECT $COLS FROM raw_types.types WHERE id <= 3 ORDER BY id, _dango_filename"
}

test_expect_success 'setup: a parquet folder of every type and a CSV of 128-bit integers, in both projects' '
    gen_types a.parquet 1 100 &&
    printf "id,h,uh,s\n1,-170141183460469231731687303715884105728,340282366920938463463374607431768211455,\"a,\"\"b\"\"\"\n2,9007199254740993,18446744073709551617,\n3,,,x\n" >big.csv &&
    for P in d p; do
        cp big.csv $P/data/big.csv &&
        (cd $P && dango source add local_files --name types --directory data/types >/dev/null &&
         dango source add csv --name big --path data/big.csv --set write_disposition=merge --set "primary_key=[id]" \
            --set "column_types={h: HUGEINT, uh: UHUGEINT}" >/dev/null) || return 1
    done
'

cat >psql.expect <<\EOF
id|i1|i2|i4|i8|u1|u2|u4|u8|d5|d18|d38|d38s|f4|f8|b|dt|tm|tm_ns|ttz|ts|ts_ms|tstz|iv|u|s|bl|js|l_i|l_s|l_bl|l_d|l_dt|l_tz|l_u|l_b|l_f|l_iv|l_tm|l_js|l_u1|arr|st|m|ll|l_st|st_q
1|-128|-32768|-2147483648|-9223372036854775808|255|65535|4294967295|18446744073709551615|-999.99|123456789012.345678|99999999999999999999999999999999999999|-1234567890123456789012345678.9012345678|-Infinity|NaN|t|0044-03-15 BC|23:59:59.999999|01:02:03.123456789|08:00:00+00|1999-12-31 23:59:59.999999|2024-01-01 10:00:00.123|2024-06-30 18:00:00+00|1 year 2 mons 3 days 04:05:06.789|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|héllo ✓ 日本 "q" 's\ back	tab
new line|\x00ff10|{"a": [1, 2.5, null], "s": "x\\y é"}|{1,NULL,-3}|{"a\"b","c\\d","e,f","{g}","","NULL",NULL,"new
line",é✓}|{"\\x00ff","\\x",NULL}|{1.50,NULL}|{2024-02-29,infinity}|{"2024-01-01 08:00:00+00",NULL}|{00000000-0000-0000-0000-000000000001}|{t,f,NULL}|{Infinity,-0.5,1e+300}|{"1 day 00:00:01"}|{10:00:00.5}|{"{\"k\": 1}"}|{0,255}|{1,2,3}|{"a": 1, "b": "q\"x\\y", "c": [1, 2]}|{"k": 1, "l": null}|[[1, 2], [3]]|[{"x": 1, "y": "z"}]|{"Up": "x", "a\"q": 4, "select": true, "my field": 1}
2|127|32767|2147483647|9223372036854775807|0|0|0|9007199254740993|0.01|-0.000001|-99999999999999999999999999999999999999|0.0000000001|3.4028235e+38|1.7976931348623157e+308|f|infinity|00:00:00|23:59:59.999999999|10:59:59+00|infinity|1969-12-31 23:59:59.999|-infinity|1 year 2 mons 40 days 100:00:00.5|ffffffff-ffff-ffff-ffff-ffffffffffff||\x|[]|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{4,5,6}|{"a": null, "b": "", "c": []}|{}|[[]]|[]|
3||||||||||||||||||||||||||||||||||||||||||||||
(3 rows)
EOF
cat >big.expect <<\EOF
id|h|uh|s
1|-170141183460469231731687303715884105728|340282366920938463463374607431768211455|a,"b"
2|9007199254740993|18446744073709551617|
3|||x
(3 rows)
EOF

test_expect_success 'the first sync: psql reads every value; dango query prints the same on both warehouses' '
    for P in d p; do (cd $P && dango sync types big >out 2>err) || { cat $P/err; return 1; }; done &&
    types_psql >got && test_cmp psql.expect got &&
    whq "SELECT id, h, uh, s FROM raw_big.big ORDER BY id" >got && test_cmp big.expect got &&
    same_on_both raw_types.types "$COLS" "$SCALAR" &&
    same_on_both raw_big.big "id, h, uh, s" "id, h, uh, s" &&
    (cd p && dango governance drift-report) >out && test_grep "No open schema drift" out
'

test_expect_success 'an incremental re-sync (a new file, a changed CSV): the same again, no drift' '
    gen_types b.parquet 1 3 &&
    printf "id,h,uh,s\n2,-9007199254740993,18446744073709551619,\"new\nline\"\n4,1,2,\n" >big.csv &&
    for P in d p; do
        cp big.csv $P/data/big.csv && touch -d "+1 minute" $P/data/big.csv &&
        (cd $P && dango sync types big >out 2>err) || { cat $P/err; return 1; }
    done &&
    test_grep ! "drift" p/err && test_grep ! "schema change" p/out &&
    whq "SELECT $COLS FROM raw_types.types WHERE id <= 3 AND _dango_filename LIKE '"'"'%b.parquet'"'"' ORDER BY id" >got &&
    test_cmp psql.expect got &&
    same_on_both raw_types.types "$COLS" "$SCALAR" &&
    same_on_both raw_big.big "id, h, uh, s" "id, h, uh, s" &&
    whq "SELECT id, h, uh, s FROM raw_big.big ORDER BY id" >got &&
    printf "id|h|uh|s\n2|-9007199254740993|18446744073709551619|new\nline\n4|1|2|\n(2 rows)\n" >expect &&
    test_cmp expect got &&
    (cd p && dango governance drift-report) >out && test_grep "No open schema drift" out
'

test_expect_success 'a full refresh: the same again, no drift' '
    for P in d p; do (cd $P && dango sync --full-refresh -y >out 2>err) || { cat $P/err; return 1; }; done &&
    test_grep ! "drift" p/err &&
    whq "SELECT $COLS FROM raw_types.types WHERE id <= 3 AND _dango_filename LIKE '"'"'%a.parquet'"'"' ORDER BY id" >got &&
    test_cmp psql.expect got &&
    same_on_both raw_types.types "$COLS" "$SCALAR" &&
    same_on_both raw_big.big "id, h, uh, s" "id, h, uh, s" &&
    (cd p && dango governance drift-report) >out && test_grep "No open schema drift" out
'

test_expect_success 'nanoseconds: rounded to the microsecond with a warning; none, no warning' '
    (cd gen && dango query --write "COPY (SELECT 1 AS id, TIMESTAMP_NS '"'"'2024-01-01 00:00:00.123456789'"'"' AS t,
          [TIMESTAMP_NS '"'"'2024-01-01 00:00:00.000000001'"'"'] AS l
        UNION ALL SELECT 2, TIMESTAMP_NS '"'"'2024-01-01 00:00:00.5'"'"', [TIMESTAMP_NS '"'"'2024-01-01 00:00:00.000001'"'"']
        UNION ALL SELECT 3, TIMESTAMP_NS '"'"'2024-01-01 00:00:00.000000999'"'"', [])
        TO '"'"'../p/data/ns.parquet'"'"' (FORMAT parquet)") >/dev/null &&
    cd p && dango source add local_files --name ns --directory data --set "file_pattern=ns.parquet" >/dev/null &&
    dango sync ns >out 2>err &&
    test_grep "raw_ns.ns.t: 2 rows have nanoseconds, which PostgreSQL.s timestamp does not keep: rounded to the microsecond" err &&
    test_grep "raw_ns.ns.l: 1 row has nanoseconds" err &&
    whq "SELECT id, t, l FROM raw_ns.ns ORDER BY id" >got &&
    printf "%s\n" "id|t|l" "1|2024-01-01 00:00:00.123457|{\"2024-01-01 00:00:00\"}" \
        "2|2024-01-01 00:00:00.5|{\"2024-01-01 00:00:00.000001\"}" "3|2024-01-01 00:00:00.000001|{}" "(3 rows)" >expect &&
    test_cmp expect got &&
    (cd ../gen && dango query --write "COPY (SELECT 4 AS id, TIMESTAMP_NS '"'"'2024-01-02 00:00:00.25'"'"' AS t,
          [TIMESTAMP_NS '"'"'2024-01-02 00:00:00.000002'"'"'] AS l)
        TO '"'"'../p/data/ns.parquet'"'"' (FORMAT parquet)") >/dev/null &&
    dango sync ns >out 2>err && test_grep ! "nanoseconds" err && test_grep ! "drift" err
'

test_expect_success 'a value PostgreSQL cannot store (NUL in text or JSON) fails the sync, saying so; nothing changes' '
    cd p && mkdir data/nul &&
    (cd ../gen && dango query --write "COPY (SELECT 1 AS id, '"'"'a'"'"' || chr(0) || '"'"'b'"'"' AS s)
        TO '"'"'../p/data/nul/s.parquet'"'"' (FORMAT parquet)") >/dev/null &&
    dango source add local_files --name nul --directory data/nul >/dev/null &&
    test_must_fail dango sync nul >out 2>err &&
    test_grep "column s" err &&
    test_grep "a value holds a NUL character, which PostgreSQL.s text and jsonb cannot store; remove it from the source data" err &&
    rm data/nul/s.parquet &&
    (cd ../gen && dango query --write "COPY (SELECT 1 AS id, '"'"'{\"a\": \"x\\u0000y\"}'"'"'::JSON AS j)
        TO '"'"'../p/data/nul/j.parquet'"'"' (FORMAT parquet)") >/dev/null &&
    test_must_fail dango sync nul >out 2>err &&
    test_grep "column j" err && test_grep "a value holds a NUL character" err &&
    whq "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"'"'raw_nul'"'"'" >got &&
    printf "count\n0\n(1 row)\n" >expect && test_cmp expect got
'

test_done
