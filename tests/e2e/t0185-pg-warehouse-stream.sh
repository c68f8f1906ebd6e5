#!/usr/bin/env bash
# A fresh table's rows stream into a PostgreSQL warehouse while DuckDB
# reads the file (#19): a new table and a full refresh of a one-file CSV
# source go to the server in a binary COPY before the publish begins (the
# server's log), and read back, every column, type and default, exactly
# as the staged path (DANGO_PG_NO_STREAM=1) loads the same file; a bad row
# is still named by file:line and leaves nothing; a sync killed (-9) while
# its COPY runs leaves the server as it was (no table, the old rows and
# state), and the next sync runs.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
psql_do "ALTER SYSTEM SET log_statement = 'all'"
psql_do "SELECT pg_reload_conf()" >/dev/null
whv() { psql -X -A -t -F '|' -P null=NULL -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }

dango init p >/dev/null </dev/null
cd p
pg_warehouse_use
mkdir -p data/s data/c
# every type the CSV reader sniffs, quotes, unicode, empty and NULL, over
# 30,000 rows (many chunks and COPY sends)
gen() {
    awk -v n=30000 -v v="$1" 'BEGIN {
        print "id,big,amount,price,flag,day,at,at_tz,clock,name,note";
        print "1,-9223372036854775808,1.5,12.34,true,2024-02-29,2024-01-01 10:00:00,2024-01-01 10:00:00+02,12:34:56,\"Bo, \"\"Jr\"\"\",héllo ✓ 日本";
        print "2,9223372036854775807,-0.25,0.01,false,0044-03-15,1999-12-31 23:59:59.999999,1970-01-01 00:00:00+00,23:59:59.999999,,\"\"";
        print "3,,,,,,,,,,";
        for (i = 4; i <= n; i++)
            printf "%d,%d,%.3f,%d.%02d,%s,2024-%02d-%02d,2024-01-01 %02d:%02d:%02d.%d,2024-06-30 23:30:00+05:30,%02d:00:00,%s %d,\"line\nbreak %d\"\n",
                i, i * 1000003, i / 7, i % 1000, i % 100, (i % 2 ? "true" : "false"), i % 12 + 1, i % 28 + 1,
                i % 24, i % 60, i % 60, i % 10, i % 24, v, i, i
    }'
}
gen v1 >data/s/t.csv
cp data/s/t.csv data/c/t.csv
dango source add csv --name s --path data/s/t.csv >/dev/null
dango source add csv --name c --path data/c/t.csv >/dev/null

cols="id, big, amount, price, flag, day, at, at_tz, clock, name, note, _dango_file_mtime, _dango_deleted"
rows_of() { whv "SELECT $cols FROM raw_$1.$1 ORDER BY id"; }
# every column's name, type and default, and the metadata's shape
shape_of() {
    whv "SELECT column_name || ' ' || data_type || ' ' || coalesce(column_default, 'no default') FROM information_schema.columns
         WHERE table_schema = 'raw_$1' AND table_name = '$1' ORDER BY ordinal_position" &&
    whv "SELECT count(DISTINCT _dlt_id), count(DISTINCT _dlt_load_id), count(DISTINCT _dango_loaded_at),
         bool_and(_dlt_load_id = (SELECT load_id FROM raw_$1._dlt_loads ORDER BY inserted_at DESC LIMIT 1)),
         (SELECT rows FROM raw_$1._dango_file_metadata) FROM raw_$1.$1"
}
# did the COPY into t__dango_new run before the publish's own statements?
# (the publish starts with a CREATE SCHEMA of its own, alone)
copy_before_publish() {
    awk -v s="raw_$1" -v t="$1" '
        index($0, "statement: COPY \"" s "\".\"" t "__dango_new\"") && !copy { copy = NR }
        $0 ~ ("statement: CREATE SCHEMA IF NOT EXISTS \"" s "\"$") && !pub { pub = NR }
        END { exit !(copy && pub && copy < pub) }' "$PGROOT/server.log"
}

test_expect_success 'a new table: streamed, read back as the staged path loads it' '
    dango sync s >out 2>err && test_grep "Loaded 30,000 rows into raw_s.s$" out &&
    DANGO_PG_NO_STREAM=1 dango sync c >out 2>err && test_grep "Loaded 30,000 rows into raw_c.c$" out &&
    copy_before_publish s &&
    ! copy_before_publish c &&
    rows_of c >expect && [ $(wc -l <expect) -ge 30000 ] &&
    rows_of s >actual && test_cmp expect actual &&
    shape_of c >expect && test_grep "no default" expect && shape_of s >actual && test_cmp expect actual &&
    tail -1 actual >last && echo "30000|1|1|t|30000" >expect && test_cmp expect last
'

test_expect_success 'the special rows as psql prints them' '
    whv "SELECT id, big, amount, price, flag, day, at, at_tz, clock, name, note FROM raw_s.s WHERE id <= 4 ORDER BY id" >actual &&
    cat >expect <<-\EOF &&
	1|-9223372036854775808|1.5|12.34|t|2024-02-29|2024-01-01 10:00:00|2024-01-01 08:00:00+00|12:34:56|Bo, "Jr"|héllo ✓ 日本
	2|9223372036854775807|-0.25|0.01|f|0044-03-15|1999-12-31 23:59:59.999999|1970-01-01 00:00:00+00|23:59:59.999999|NULL|NULL
	3|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL
	4|4000012|0.571|4.04|f|2024-05-05|2024-01-01 04:04:04.4|2024-06-30 18:00:00+00|04:00:00|v1 4|line
	break 4
	EOF
    test_cmp expect actual
'

test_expect_success 'a full refresh: streamed into a new table swapped in, as the staged path' '
    gen v2 >data/s/t.csv && cp data/s/t.csv data/c/t.csv &&
    touch -d 2030-01-01 data/s/t.csv data/c/t.csv &&
    lines=$(wc -l <"$PGROOT/server.log") &&
    dango sync s --full-refresh -y >out 2>err && test_grep "Loaded 30,000 rows into raw_s.s$" out &&
    DANGO_PG_NO_STREAM=1 dango sync c --full-refresh -y >out 2>err &&
    tail -n +$((lines + 1)) "$PGROOT/server.log" >log.new &&
    test_grep "COPY \"raw_s\".\"s__dango_new\" .* FROM STDIN (FORMAT binary, FREEZE)" log.new &&
    rows_of c >expect && test_grep "v2 4" expect && rows_of s >actual && test_cmp expect actual &&
    shape_of c >expect && shape_of s >actual && test_cmp expect actual &&
    whv "SELECT count(*) FROM pg_tables WHERE schemaname = '"'"'raw_s'"'"' AND tablename LIKE '"'"'%dango_new'"'"'" >left &&
    echo 0 >zero && test_cmp zero left
'

test_expect_success 'a bad row deep in a streamed file: named by file:line, nothing on the server' '
    awk "BEGIN { print \"id,n\"; for (i = 1; i <= 40000; i++) print i \",\" (i == 30000 ? \"abc\" : i) }" >data/bad.csv &&
    dango source add csv --name bad --path data/bad.csv >/dev/null &&
    test_must_fail dango sync bad >out 2>err &&
    test_grep "data/bad.csv:30001" err && test_grep "Nothing was changed for bad" out &&
    whv "SELECT count(*) FROM pg_tables WHERE schemaname = '"'"'raw_bad'"'"'" >n && echo 0 >zero && test_cmp zero n
'

test_expect_success 'on_error: skip on a streamed file: the good rows, the bad one kept, as the staged path' '
    cp data/bad.csv data/bad2.csv &&
    dango source add csv --name lax --path data/bad.csv --set on_error=skip >/dev/null &&
    dango source add csv --name lax2 --path data/bad2.csv --set on_error=skip >/dev/null &&
    lines=$(wc -l <"$PGROOT/server.log") &&
    dango sync lax >out 2>err && test_grep "data/bad.csv: skipped 1 bad row (kept in raw_lax._dango_rejects)" err &&
    DANGO_PG_NO_STREAM=1 dango sync lax2 >out 2>err && test_grep "data/bad2.csv: skipped 1 bad row" err &&
    tail -n +$((lines + 1)) "$PGROOT/server.log" >log.new &&
    test_grep "COPY \"raw_lax\".\"lax__dango_new\"" log.new &&
    whv "SELECT count(*), count(DISTINCT id), sum(n) FROM raw_lax.lax" >actual &&
    whv "SELECT count(*), count(DISTINCT id), sum(n) FROM raw_lax2.lax2" >expect && test_cmp expect actual &&
    echo "39999|39999|799990000" >expect && test_cmp expect actual &&
    whv "SELECT file || '"'"':'"'"' || line || '"'"' '"'"' || csv_line FROM raw_lax._dango_rejects" >r &&
    echo "data/bad.csv:30001 30000,abc" >expect && test_cmp expect r
'

# kill -9 while the COPY of the stream runs
N=1500000
kill_in_copy() { # source
    dango sync "$1" ${2:-} >kill.out 2>&1 &
    local pid=$! i=0
    until [ "$(whv "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY %__dango_new%'")" = 1 ]; do
        i=$((i + 1)); [ $i -lt 1200 ] || { kill -9 $pid; cat kill.out; return 1; }
        sleep 0.05
    done
    kill -9 $pid && wait $pid 2>/dev/null
    # the server ends the dead session's transaction
    i=0
    until [ "$(whv "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY %__dango_new%'")" = 0 ]; do
        i=$((i + 1)); [ $i -lt 600 ] || return 1; sleep 0.05
    done
}
test_expect_success 'killed during the streamed COPY of a new table: no table on the server' '
    awk -v n=$N "BEGIN { print \"id,name,amount\"; for (i = 0; i < n; i++) printf \"%d,k1 %d,%d.5\n\", i, i, i }" >data/k.csv &&
    dango source add csv --name k --path data/k.csv >/dev/null &&
    kill_in_copy k &&
    whv "SELECT count(*) FROM pg_tables WHERE schemaname = '"'"'raw_k'"'"'" >n && echo 0 >zero && test_cmp zero n
'

test_expect_success 'killed during a streamed full refresh: the old rows and state stay; the next sync runs' '
    whv "SELECT count(*), min(name), max(name) FROM raw_s.s" >before_rows &&
    whv "SELECT load_id FROM raw_s._dlt_loads ORDER BY load_id" >before_loads &&
    whv "SELECT * FROM raw_s._dango_file_metadata" >before_files &&
    awk -v n=$N "BEGIN { print \"id,big,amount,price,flag,day,at,at_tz,clock,name,note\";
        for (i = 1; i <= n; i++) printf \"%d,%d,1.5,1.25,true,2024-01-01,2024-01-01 10:00:00,2024-01-01 10:00:00+00,10:00:00,v3 %d,x\n\", i, i, i }" >data/s/t.csv &&
    touch -d 2031-01-01 data/s/t.csv &&
    kill_in_copy s "--full-refresh -y" &&
    whv "SELECT count(*), min(name), max(name) FROM raw_s.s" >after_rows && test_cmp before_rows after_rows &&
    whv "SELECT load_id FROM raw_s._dlt_loads ORDER BY load_id" >after_loads && test_cmp before_loads after_loads &&
    whv "SELECT * FROM raw_s._dango_file_metadata" >after_files && test_cmp before_files after_files &&
    whv "SELECT count(*) FROM pg_tables WHERE schemaname = '"'"'raw_s'"'"' AND tablename LIKE '"'"'%dango_new'"'"'" >left &&
    echo 0 >zero && test_cmp zero left &&
    dango sync k --wait 0 >out 2>err && test_grep "Loaded 1,500,000 rows into raw_k.k$" out &&
    whv "SELECT count(*), count(DISTINCT id) FROM raw_k.k" >n && echo "$N|$N" >expect && test_cmp expect n
'

test_done
