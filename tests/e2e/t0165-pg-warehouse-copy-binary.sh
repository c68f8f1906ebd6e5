#!/usr/bin/env bash
# dango sync into a PostgreSQL warehouse sends the rows of a table the load
# creates in PostgreSQL's binary COPY format (#19): every type the encoder
# writes (integers of every width and sign, DECIMAL to numeric up to 38
# digits, HUGEINT and UHUGEINT, floats with their infinities and NaN, text
# with unicode and control characters, empty strings beside NULLs, bytea,
# BC and infinite dates and timestamps, time, timestamptz, uuid, interval,
# jsonb, boolean) over 5,000 rows (several chunks and several sends), read
# back with psql: the special rows as literal text, and every row as the
# CSV path (DANGO_PG_COPY_CSV=1) loads it; an append into the existing
# table and a merge go the same way.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
psql_do "ALTER SYSTEM SET log_min_duration_statement = 0"
psql_do "SELECT pg_reload_conf()" >/dev/null
whq() { psql -X -A -F '|' -P null=NULL -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }
types_rows() {
    whq "SELECT id, i1, i2, i4, i8, u1, u2, u4, u8, d4, d9, d18, d38, f4, f8, s, bl, dt, tm, ts, tstz, u, iv, js, b,
         _dango_filename, _dango_deleted FROM raw_types.types ${1:-} ORDER BY id"
}
more_rows() { whq "SELECT id, h, uh, iv, tss, tsm FROM raw_more.more ORDER BY id"; }

dango init gen >/dev/null </dev/null
dango init p >/dev/null </dev/null
cd p
pg_warehouse_use
mkdir -p data/types
cat >gen.sql <<'SQL'
COPY (
SELECT * FROM (VALUES
 (1, (-128)::TINYINT, (-32768)::SMALLINT, (-2147483648)::INTEGER, (-9223372036854775808)::BIGINT, 0::UTINYINT, 0::USMALLINT, 0::UINTEGER, 0::UBIGINT,
  (-999.9)::DECIMAL(4,1), (-9999999.99)::DECIMAL(9,2), (-999999999999999.999)::DECIMAL(18,3), (-9999999999999999999999999999.9999999999)::DECIMAL(38,10),
  '-inf'::FLOAT, '-inf'::DOUBLE, '', ''::BLOB, DATE '0044-03-15 (BC)', TIME '00:00:00', TIMESTAMP '-infinity', TIMESTAMPTZ '-infinity',
  '00000000-0000-0000-0000-000000000000'::UUID, INTERVAL '1 day 00:00:01', '"str"'::JSON, false),
 (2, 127::TINYINT, 32767::SMALLINT, 2147483647::INTEGER, 9223372036854775807::BIGINT, 255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, 18446744073709551615::UBIGINT,
  999.9::DECIMAL(4,1), 0.01::DECIMAL(9,2), 10000.000::DECIMAL(18,3), 9999999999999999999999999999.9999999999::DECIMAL(38,10),
  'inf'::FLOAT, 'inf'::DOUBLE, 'héllo ✓ 日本 "q" \ tab	end', '\x00\xFF\x10'::BLOB, DATE '1999-12-31', TIME '23:59:59.999999', TIMESTAMP 'infinity', TIMESTAMPTZ 'infinity',
  'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID, INTERVAL '1 year 2 months 3 days 04:05:06.789', '{"a": [1, 2.5, null], "s": "x\\y é"}'::JSON, true),
 (3, 0::TINYINT, 0::SMALLINT, 0::INTEGER, 0::BIGINT, 1::UTINYINT, 1::USMALLINT, 1::UINTEGER, 1::UBIGINT,
  0.0::DECIMAL(4,1), (-0.01)::DECIMAL(9,2), 0.001::DECIMAL(18,3), (-0.0000000001)::DECIMAL(38,10),
  'nan'::FLOAT, 'nan'::DOUBLE, 'line
break', 'x'::BLOB, DATE 'infinity', TIME '12:34:56.000001', TIMESTAMP '1999-12-31 23:59:59.999999', TIMESTAMPTZ '2024-06-30 23:30:00+05:30',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID, INTERVAL '0 seconds', 'null'::JSON, NULL),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, (-1)::TINYINT, (-1)::SMALLINT, (-1)::INTEGER, (-1)::BIGINT, 200::UTINYINT, 40000::USMALLINT, 3000000000::UINTEGER, 10000000000000000000::UBIGINT,
  (-0.1)::DECIMAL(4,1), 12345.67::DECIMAL(9,2), 100000000.000::DECIMAL(18,3), 12345678.9::DECIMAL(38,10),
  (-0.0)::FLOAT, 5e-324::DOUBLE, 'ß', ''::BLOB, DATE '-infinity', TIME '10:00:00', (DATE '0044-03-15 (BC)' + TIME '12:00:00.5'), TIMESTAMPTZ '1970-01-01 00:00:00+00',
  '12345678-9abc-def0-1234-56789abcdef0'::UUID, INTERVAL '14 months 40 days 100:00:00', '[]'::JSON, true),
 (6, 1::TINYINT, 1::SMALLINT, 1::INTEGER, 1::BIGINT, 2::UTINYINT, 2::USMALLINT, 2::UINTEGER, 2::UBIGINT,
  10.0::DECIMAL(4,1), 100.00::DECIMAL(9,2), 0.100::DECIMAL(18,3), 0.0001::DECIMAL(38,10),
  3.4028235e38::FLOAT, 1.7976931348623157e308::DOUBLE, ' ', '\x00'::BLOB, DATE '2000-01-01', TIME '00:00:00.5', TIMESTAMP '2000-01-01 00:00:00', TIMESTAMPTZ '1900-01-01 00:00:00.000001+00',
  '00000000-0000-0000-0000-000000000001'::UUID, INTERVAL '1 millisecond', '{}'::JSON, false)
) t(id, i1, i2, i4, i8, u1, u2, u4, u8, d4, d9, d18, d38, f4, f8, s, bl, dt, tm, ts, tstz, u, iv, js, b)
UNION ALL
SELECT i, (i % 256 - 128)::TINYINT, (i * 13 % 65536 - 32768)::SMALLINT, (i * 100003)::INTEGER, (i::BIGINT * 1000000007 * 1000),
  (i % 256)::UTINYINT, (i * 7 % 65536)::USMALLINT, (i * 858993)::UINTEGER, (i::UBIGINT * 3000000000000000),
  CASE WHEN i % 7 = 0 THEN NULL ELSE ((i * 7919) % 19999 - 9999) / 10 END::DECIMAL(4,1), (((i * 7919) % 100000 - 50000) / 100)::DECIMAL(9,2),
  ((i * 104729 % 1000000007) / 1000 - 500000)::DECIMAL(18,3), ((i::HUGEINT * 1299709 * 1000003)::DECIMAL(38,0) / 10000000)::DECIMAL(38,10),
  (i / 3.0)::FLOAT, (i * 2.718281828459045 - 7000) / 7, CASE WHEN i % 11 = 0 THEN NULL ELSE 'row ' || i || repeat('é', i % 5) END,
  CASE WHEN i % 13 = 0 THEN NULL ELSE ('r' || i)::BLOB END, DATE '1970-01-01' + (i * 37 - 100000)::INTEGER, TIME '00:00:00' + INTERVAL (i * 17000001) MICROSECOND,
  TIMESTAMP '1900-01-01' + INTERVAL (i * 98765432101) MICROSECOND, TIMESTAMPTZ '2000-01-01 00:00:00+00' - INTERVAL (i * 12345678901) MICROSECOND,
  md5(i::VARCHAR)::UUID, INTERVAL (i % 30) DAY + INTERVAL (i * 1001) MILLISECOND + INTERVAL (i % 5) MONTH,
  CASE WHEN i % 17 = 0 THEN NULL ELSE ('{"i": ' || i || ', "t": "v' || i || '"}') END::JSON, i % 3 = 0
FROM range(7, 5001) r(i)
) TO '../p/data/types/types.parquet' (FORMAT parquet);
SQL
printf 'id,h,uh,iv,tss,tsm\n1,-170141183460469231731687303715884105728,340282366920938463463374607431768211455,-1 day -00:00:01,2024-01-01 10:00:00,2024-01-01 10:00:00.123\n2,170141183460469231731687303715884105727,0,-14 months 40 days 100:00:00.000001,1969-12-31 23:59:59,1969-12-31 23:59:59.999\n3,,,,,\n4,12345678901234567890123,10000,1 microsecond,infinity,-infinity\n' >data/more.csv

test_expect_success 'setup: 5,000 rows of every type in parquet, 128-bit integers and intervals in CSV' '
    (cd ../gen && dango query --write "$(cat ../p/gen.sql)" >/dev/null) &&
    dango source add local_files --name types --directory data/types >/dev/null &&
    dango source add csv --name more --path data/more.csv --set write_disposition=merge --set "primary_key=[id]" \
        --set "column_types={h: HUGEINT, uh: UHUGEINT, iv: INTERVAL, tss: TIMESTAMP_S, tsm: TIMESTAMP_MS}" >/dev/null
'

test_expect_success 'the sync loads them' '
    dango sync types more >out 2>err &&
    test_grep "Loaded 5,000 rows into raw_types.types" out &&
    test_grep "Loaded 4 rows into raw_more.more" out
'

test_expect_success 'the tables went in binary COPY' '
    grep "COPY \"raw_types\".\"types__dango_new\" .* (FORMAT binary, FREEZE)" "$PGROOT/server.log" &&
    grep "COPY \"raw_more\".\"more__dango_new\" .* (FORMAT binary, FREEZE)" "$PGROOT/server.log"
'

test_expect_success 'the special values read back exactly' '
    types_rows "WHERE id <= 6" >got &&
    cat >expect <<\EOF &&
id|i1|i2|i4|i8|u1|u2|u4|u8|d4|d9|d18|d38|f4|f8|s|bl|dt|tm|ts|tstz|u|iv|js|b|_dango_filename|_dango_deleted
1|-128|-32768|-2147483648|-9223372036854775808|0|0|0|0|-999.9|-9999999.99|-999999999999999.999|-9999999999999999999999999999.9999999999|-Infinity|-Infinity||\x|0044-03-15 BC|00:00:00|-infinity|-infinity|00000000-0000-0000-0000-000000000000|1 day 00:00:01|"str"|f|data/types/types.parquet|f
2|127|32767|2147483647|9223372036854775807|255|65535|4294967295|18446744073709551615|999.9|0.01|10000.000|9999999999999999999999999999.9999999999|Infinity|Infinity|héllo ✓ 日本 "q" \ tab	end|\x00ff10|1999-12-31|23:59:59.999999|infinity|infinity|ffffffff-ffff-ffff-ffff-ffffffffffff|1 year 2 mons 3 days 04:05:06.789|{"a": [1, 2.5, null], "s": "x\\y é"}|t|data/types/types.parquet|f
3|0|0|0|0|1|1|1|1|0.0|-0.01|0.001|-0.0000000001|NaN|NaN|line
break|\x78|infinity|12:34:56.000001|1999-12-31 23:59:59.999999|2024-06-30 18:00:00+00|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|00:00:00|null|NULL|data/types/types.parquet|f
4|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|data/types/types.parquet|f
5|-1|-1|-1|-1|200|40000|3000000000|10000000000000000000|-0.1|12345.67|100000000.000|12345678.9000000000|0|5e-324|ß|\x|-infinity|10:00:00|0044-03-15 12:00:00.5 BC|1970-01-01 00:00:00+00|12345678-9abc-def0-1234-56789abcdef0|1 year 2 mons 40 days 100:00:00|[]|t|data/types/types.parquet|f
6|1|1|1|1|2|2|2|2|10.0|100.00|0.100|0.0001000000|3.4028235e+38|1.7976931348623157e+308| |\x00|2000-01-01|00:00:00.5|2000-01-01 00:00:00|1900-01-01 00:00:00.000001+00|00000000-0000-0000-0000-000000000001|00:00:00.001|{}|f|data/types/types.parquet|f
(6 rows)
EOF
    test_cmp expect got &&
    more_rows >got &&
    cat >expect <<\EOF &&
id|h|uh|iv|tss|tsm
1|-170141183460469231731687303715884105728|340282366920938463463374607431768211455|-1 days -00:00:01|2024-01-01 10:00:00|2024-01-01 10:00:00.123
2|170141183460469231731687303715884105727|0|-1 years -2 mons +40 days 100:00:00.000001|1969-12-31 23:59:59|1969-12-31 23:59:59.999
3|NULL|NULL|NULL|NULL|NULL
4|12345678901234567890123|10000|00:00:00.000001|infinity|-infinity
(4 rows)
EOF
    test_cmp expect got &&
    whq "SELECT s = '"'"''"'"', s IS NULL, bl = '"'"''"'"'::bytea, js IS NULL, js = '"'"'null'"'"'::jsonb FROM raw_types.types
         WHERE id IN (1, 3, 4) ORDER BY id" >got &&
    printf "%s\n" "?column?|?column?|?column?|?column?|?column?" "t|f|t|f|f" "f|f|f|f|t" "NULL|t|NULL|t|NULL" "(3 rows)" >expect &&
    test_cmp expect got
'

test_expect_success 'every row is what the CSV path loads' '
    types_rows >bin.rows && more_rows >bin.more &&
    test "$(wc -l <bin.rows)" -eq 5003 &&
    whq "DROP SCHEMA raw_types CASCADE; DROP SCHEMA raw_more CASCADE" >/dev/null 2>&1 &&
    DANGO_PG_COPY_CSV=1 dango sync types more >out 2>err &&
    types_rows >csv.rows && more_rows >csv.more &&
    test_cmp csv.rows bin.rows &&
    test_cmp csv.more bin.more
'

test_expect_success 'an append into the existing table goes in binary too, its columns being the same types' '
    cp data/types/types.parquet data/types/again.parquet &&
    dango sync types >out 2>err &&
    test_grep "Loaded 5,000 rows into raw_types.types" out &&
    grep "COPY \"raw_types\".\"types\" (.*) FROM STDIN (FORMAT binary)" "$PGROOT/server.log" &&
    types_rows "WHERE _dango_filename = '"'"'data/types/types.parquet'"'"'" | sed "s|data/types/[a-z]*.parquet|F|" >a &&
    types_rows "WHERE _dango_filename = '"'"'data/types/again.parquet'"'"'" | sed "s|data/types/[a-z]*.parquet|F|" >b &&
    test_cmp a b && test "$(wc -l <a)" -eq 5003
'

# a changed file replaces its rows: merged through the temporary batch table
test_expect_success 'a merge sends its batch in binary too' '
    printf "id,h,uh,iv,tss,tsm\n2,-5,5,2 days,2000-01-01 00:00:00,2000-01-01 00:00:00.5\n9,,1,,,\n" >data/more.csv &&
    dango sync more >out 2>err &&
    grep "COPY pg_temp.__dango_batch .* (FORMAT binary)" "$PGROOT/server.log" &&
    more_rows >got &&
    cat >expect <<-\EOF &&
	id|h|uh|iv|tss|tsm
	2|-5|5|2 days|2000-01-01 00:00:00|2000-01-01 00:00:00.5
	9|NULL|1|NULL|NULL|NULL
	(2 rows)
	EOF
    test_cmp expect got
'

test_done
