#!/usr/bin/env bash
# dango state show/set/reset on a postgres warehouse (#19): the state is
# read from the source's _dango_state on the server; set and reset change it
# in one transaction with a row of _dango.state_history there, holding the
# source's advisory lock as a sync does (a running sync of the source makes
# them wait or fail, exit 3); a sync honours the value set; reset reloads
# every row once; reset --drop-data drops the tables and the next sync
# reloads them whole. Rows read back with psql.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
psql_do "CREATE DATABASE shop"
PGDB=shop psql_do <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, v text);
INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 10) g;
CREATE TABLE events (id bigint, kind text);
INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 5) g;
SQL
whv() { psql -X -A -t -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }
shopv() { psql -X -A -t -h "$PGROOT" -p "$PGPORT" -U dango -d shop -v ON_ERROR_STOP=1 -c "$1"; }

dango init p >/dev/null </dev/null
cd p
pg_warehouse_use
rm -f data/warehouse.duckdb
echo "SHOP_PW=$DB_PW" >>.env
cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: shop
    type: postgres
    postgres:
      host: 127.0.0.1
      port: $PGPORT
      database: shop
      user: dango
      password_env: SHOP_PW
      streams:
        public.items: {mode: incremental, primary_key: [id], update_key: id}
        public.events: {mode: incremental, update_key: id}
EOF

test_expect_success 'show after a sync: the state read from the server' '
    dango sync shop >out 2>&1 && test_grep "Loaded 10 rows into raw_shop.items" out &&
    dango state show shop --resource items >out &&
    sed -e "s/[0-9]\{10\}\.[0-9]*/LOAD/; s/at 20[0-9-]* [0-9:]*/at TIME/g" out >actual &&
    cat >expect <<-\EOF &&
	Source: shop (postgres)
	  resource: items
	    stream: public.items
	    write_disposition: merge (primary key id)
	    update_key: id
	    last_value: 10
	    last_load: LOAD at TIME
	    rows_synced: 10 (rows in the table now)
	EOF
    test_cmp expect actual &&
    dango state show shop --json >out && test_grep "\"last_value\": \"5\"" out &&
    ! test -e data/warehouse.duckdb
'

test_expect_success 'set: a value of the wrong type is refused, naming the type' '
    test_expect_code 1 dango state set shop items --cursor 2024-01-01 2>err &&
    test_grep "'"'2024-01-01'"' is not a valid cursor for items (update key id, INTEGER): give an integer, such as 42" err
'

test_expect_success 'set moves the cursor on the server, recorded in _dango.state_history' '
    dango state set shop items --cursor 6 >out &&
    test_grep "shop.items: cursor 10 -> 6" out &&
    whq "SELECT resource, state->>'"'"'value'"'"' AS value FROM raw_shop._dango_state ORDER BY resource" >got &&
    printf "resource|value\nevents|5\nitems|6\n(2 rows)\n" >expect && test_cmp expect got &&
    whq "SELECT source, resource, action, old_value, new_value, who LIKE '"'"'%(dango state set)'"'"' AS who FROM _dango.state_history" >got &&
    printf "source|resource|action|old_value|new_value|who\nshop|items|set|10|6|t\n(1 row)\n" >expect && test_cmp expect got &&
    dango state show shop --resource items >out &&
    test_grep "last_value: 6" out && test_grep "last_change: set by .* (dango state set) at .* (was 10, set to 6)" out
'

test_expect_success 'the next sync reads from the value set: rows from there again, none duplicated' '
    PGDB=shop psql_do "UPDATE items SET v = '"'changed'"' WHERE id = 7; UPDATE items SET v = '"'early'"' WHERE id = 2" &&
    dango sync shop >out 2>&1 && test_grep "Loaded 5 rows into raw_shop.items" out &&
    whq "SELECT id, v FROM raw_shop.items WHERE id IN (2, 6, 7) ORDER BY id" >got &&
    printf "id|v\n2|v2\n6|v6\n7|changed\n(3 rows)\n" >expect && test_cmp expect got &&
    whv "SELECT count(*), count(DISTINCT id) FROM raw_shop.items" >got && echo "10|10" >expect && test_cmp expect got &&
    dango state show shop --resource items >out && test_grep "last_value: 10" out &&
    test_grep "moved since: by the sync of" out
'

test_expect_success 'while a sync of the source runs, set fails with --wait 0 (its advisory lock), then works' '
    # the sync waits on a lock of the source database, holding its own lock on the warehouse
    { psql -X -q -h "$PGROOT" -p "$PGPORT" -U dango -d shop -c "BEGIN; LOCK TABLE items; SELECT pg_sleep(120)" >/dev/null 2>&1 & } &&
    for i in $(seq 1 100); do
        [ "$(shopv "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = '"'items'"' AND l.mode = '"'AccessExclusiveLock'"' AND l.granted")" = 1 ] && break; sleep 0.1
    done &&
    { dango sync shop >sync.out 2>&1 & } && sync_pid=$! &&
    for i in $(seq 1 100); do
        [ "$(whv "SELECT count(*) FROM pg_locks WHERE locktype = '"'advisory'"'")" = 1 ] && break; sleep 0.1
    done &&
    test_expect_code 3 dango state set shop items --cursor 3 --wait 0 >out 2>err &&
    test_grep "another sync of '"'shop'"' is running against the postgres warehouse 127.0.0.1:$PGPORT/wh" err &&
    test_expect_code 3 dango state reset shop -y --wait 0 >out 2>err &&
    PGDB=shop psql_do "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '"'BEGIN; LOCK TABLE items%'"'" >/dev/null &&
    wait $sync_pid && test_grep "Loaded" sync.out &&
    whv "SELECT state->>'"'value'"' FROM raw_shop._dango_state WHERE resource = '"'items'"'" >got && echo 10 >expect && test_cmp expect got
'

test_expect_success 'reset forgets the cursor: the next sync reads every row once' '
    dango state reset shop --resource items -y >out &&
    test_grep "State of shop.items forgotten" out &&
    whv "SELECT resource FROM raw_shop._dango_state" >got && echo events >expect && test_cmp expect got &&
    dango sync shop >out 2>&1 && test_grep "Loaded 10 rows into raw_shop.items" out &&
    whv "SELECT count(*), count(DISTINCT id) FROM raw_shop.items" >got && echo "10|10" >expect && test_cmp expect got &&
    dango state show shop --resource items >out && test_grep "last_value: 10" out &&
    test_grep "last_change: reset by" out
'

test_expect_success 'reset --drop-data drops the tables; the next sync is a full reload' '
    dango state reset shop --drop-data -y >out &&
    test_grep "forgotten and its data dropped" out &&
    whv "SELECT count(*) FROM pg_tables WHERE schemaname = '"'raw_shop'"' AND tablename IN ('"'items'"', '"'events'"')" >got &&
    echo 0 >expect && test_cmp expect got &&
    dango state show shop >out && test_grep "no state yet" out &&
    dango sync shop >out 2>&1 &&
    test_grep "Loaded 10 rows into raw_shop.items" out && test_grep "Loaded 5 rows into raw_shop.events" out &&
    whq "SELECT id, v FROM raw_shop.items ORDER BY id" >got &&
    cat >expect <<-\EOF &&
	id|v
	1|v1
	2|early
	3|v3
	4|v4
	5|v5
	6|v6
	7|changed
	8|v8
	9|v9
	10|v10
	(10 rows)
	EOF
    test_cmp expect got &&
    whq "SELECT action FROM _dango.state_history ORDER BY changed_at, resource" >got &&
    printf "action\nset\nreset\nreset --drop-data\nreset --drop-data\n(4 rows)\n" >expect && test_cmp expect got
'

test_expect_success 'a file source: show lists the tracked files; reset reads each file again once' '
    mkdir -p data/in && printf "id,name\n1,a\n2,b\n" >data/in/one.csv &&
    dango source add csv --name drops --directory data/in --set "file_pattern=*.csv" >/dev/null &&
    dango sync drops >out 2>&1 && test_grep "Loaded 2 rows into raw_drops" out &&
    dango state show drops >out &&
    test_grep "files: 1 tracked" out &&
    test_grep "data/in/one.csv  size 16  mtime 20[0-9-]* [0-9:]*  hash [0-9a-f]*  rows 2  status new" out &&
    dango state reset drops -y >out &&
    dango state show drops >out &&
    test_grep "data/in/one.csv  size -  mtime .*  hash -  rows 2  status reset" out &&
    dango sync drops >out 2>&1 && test_grep "Loaded 2 rows" out &&
    t=$(whv "SELECT tablename FROM pg_tables WHERE schemaname = '"'raw_drops'"' AND tablename NOT LIKE '"'\_%'"'") &&
    whq "SELECT id, name FROM raw_drops.\"$t\" ORDER BY id" >got &&
    printf "id|name\n1|a\n2|b\n(2 rows)\n" >expect && test_cmp expect got
'

test_done
