#!/usr/bin/env bash
# dango state on database streams with a numeric update_key (PostgreSQL):
# show, a date refused for a number, rewind of a merge stream (re-read, no
# duplicate), rewind of an append stream (confirmed, appended again),
# reset reloading everything once, and the dry run's starting values.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }

psql_do <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, v text);
INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 10) g;
CREATE TABLE events (id bigint, kind text);
INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 5) g;
SQL

dango init p >/dev/null </dev/null
cd p
echo "SHOP_PW=$DB_PW" >>.env
cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: shop
    type: postgres
    postgres:
      host: 127.0.0.1
      port: $PGPORT
      database: postgres
      user: dango
      password_env: SHOP_PW
      streams:
        public.items: {mode: incremental, primary_key: [id], update_key: id}
        public.events: {mode: incremental, update_key: id}
EOF
dango sync shop >/dev/null 2>&1

test_expect_success 'show: stream, numeric update_key value, load and rows' '
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
    dango state show shop --json >out && test_grep "\"last_value\": \"5\"" out
'

test_expect_success 'a date for a numeric key is refused, naming the type' '
    test_expect_code 1 dango state set shop items --cursor 2024-01-01 2>err &&
    test_grep "'"'2024-01-01'"' is not a valid cursor for items (update key id, INTEGER): give an integer, such as 42" err &&
    test_expect_code 1 dango state set shop orders --cursor 3 2>err &&
    test_grep "has no resource .orders. with a cursor (resources with one: events, items)" err
'

test_expect_success 'rewind a merge stream: rows from there are read again, none duplicated' '
    psql_do "UPDATE items SET v = '"'changed'"' WHERE id = 7" &&
    dango state set shop items --cursor 6 >out &&
    test_grep "shop.items: cursor 10 -> 6" out &&
    dango sync shop --dry-run >out 2>&1 &&
    test_grep "public.items -> items: incremental on id, stored value 6, ~5 rows" out &&
    test_grep "state: items: starts from id >= 6; set by .* at " out &&
    dango sync shop >out 2>&1 &&
    q "SELECT count(*), count(DISTINCT id) FROM raw_shop.items" >v && echo "10,10" >expect && test_cmp expect v &&
    q "SELECT v FROM raw_shop.items WHERE id = 7" >v && echo changed >expect && test_cmp expect v
'

test_expect_success 'rewind an append stream: warned, confirmed with -y, the rows after it appended again' '
    test_expect_code 1 dango state set shop events --cursor 3 </dev/null >out 2>err &&
    test_grep "events appends (no primary key)" err &&
    dango state set shop events --cursor 3 -y >out 2>err &&
    dango sync shop >out 2>&1 &&
    q "SELECT id, count(*) FROM raw_shop.events GROUP BY 1 ORDER BY 1" >v &&
    printf "1,1\n2,1\n3,1\n4,2\n5,2\n" >expect && test_cmp expect v
'

test_expect_success 'reset of a merge stream reloads every row once' '
    dango state reset shop --resource items -y >out &&
    dango sync shop --dry-run >out 2>&1 &&
    test_grep "public.items -> items: incremental on id, stored value none (first sync: every row), ~10 rows" out &&
    dango sync shop >out 2>&1 &&
    q "SELECT count(*), count(DISTINCT id) FROM raw_shop.items" >v && echo "10,10" >expect && test_cmp expect v &&
    dango state show shop --resource items >out && test_grep "last_value: 10" out &&
    test_grep "last_change: reset by" out
'

test_expect_success 'reset of an append stream warns that its rows load again' '
    dango state reset shop --resource events -y >out 2>err &&
    test_grep "events appends: the next sync loads its rows again beside the ones kept" err
'

test_done
