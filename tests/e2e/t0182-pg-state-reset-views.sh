#!/usr/bin/env bash
# dango state reset SOURCE --drop-data on a postgres warehouse (#19) when
# views read the source's tables (the staging view of dango generate + dango
# run, a user's view on it with a comment and a grant, a materialized view):
# PostgreSQL refuses to drop a table under its views, so, as a full refresh
# does, they are set aside and rebuilt in the reset's transaction, on an
# empty table with the old columns; the reset says which tables were
# emptied and which views kept; a table no view reads is dropped as before;
# the next sync loads every row and the views read them. When a view cannot
# be set aside (a function's body reads it) the reset fails with the
# server's message and nothing changes: state, rows and views as they were.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
wh() { PGDB=wh psql_do "$1"; }
whv() { psql -X -A -t -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }
psql_do "CREATE DATABASE shop"
PGDB=shop psql_do <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, v text);
INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 4) g;
CREATE TABLE events (id bigint, kind text);
INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 3) g;
SQL

dango init p --skip-wizard >/dev/null </dev/null
cd p
pg_warehouse_use
echo "SHOP_PW=$DB_PW" >>.env
printf 'id,name,amount\n1,Ann,10\n2,Bo,20\n3,Ann,5\n' >data/orders.csv
cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: orders
    type: csv
    csv: {path: data/orders.csv}
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

test_expect_success 'setup: synced sources, the staging views and views of a user on them' '
    dango sync >out 2>err && test_grep "Loaded 3 rows into raw_orders.orders" out &&
    dango generate >out 2>err && dango run >out 2>err && test_grep "Completed successfully" out &&
    wh "CREATE SCHEMA bi; CREATE ROLE reader;
        CREATE VIEW bi.totals AS SELECT name, sum(amount) AS total FROM staging.stg_orders GROUP BY name;
        COMMENT ON VIEW bi.totals IS '"'"'revenue by customer'"'"';
        GRANT SELECT ON bi.totals TO reader;
        CREATE MATERIALIZED VIEW bi.big AS SELECT id, amount FROM raw_orders.orders WHERE amount >= 10;
        CREATE VIEW bi.item_names AS SELECT id, v FROM raw_shop.items;" &&
    whq "SELECT * FROM bi.totals ORDER BY name" >got &&
    printf "name|total\nAnn|15\nBo|20\n(2 rows)\n" >expect && test_cmp expect got
'

test_expect_success 'a view that cannot be set aside fails the reset; nothing changes' '
    wh "CREATE FUNCTION bi.grand() RETURNS numeric LANGUAGE sql BEGIN ATOMIC SELECT sum(total) FROM bi.totals; END" &&
    dango state show orders --json >state.before &&
    whq "SELECT * FROM raw_orders.orders ORDER BY id" >rows.before &&
    test_expect_code 1 dango state reset orders --drop-data -y >out 2>err &&
    test_grep "^error: postgres warehouse: setting aside the views on raw_orders.orders: cannot drop view bi.totals because other objects depend on it$" err &&
    test_grep "function bi.grand() depends on view bi.totals" err && ! grep -q "forgotten" out &&
    dango state show orders --json >state.after && test_cmp state.before state.after &&
    whq "SELECT * FROM raw_orders.orders ORDER BY id" >rows.after && test_cmp rows.before rows.after &&
    whq "SELECT * FROM bi.totals ORDER BY name" >got &&
    printf "name|total\nAnn|15\nBo|20\n(2 rows)\n" >expect && test_cmp expect got &&
    whv "SELECT to_regclass('"'"'_dango.state_history'"'"') IS NULL" >got && echo t >expect && test_cmp expect got &&
    wh "DROP FUNCTION bi.grand()"
'

test_expect_success 'reset --drop-data empties a table views read, keeps the views, says so' '
    dango state reset orders --drop-data -y >out 2>err &&
    cat >expect <<-\EOF &&
	✓ State of orders forgotten and its data dropped
	Views read this table, so it was emptied instead of dropped (the views are kept, rebuilt on an empty table with the same columns, which the next sync loads):
	  raw_orders.orders: bi.big (materialized: no rows until REFRESH MATERIALIZED VIEW), staging.stg_orders, bi.totals
	The next '"'"'dango sync orders'"'"' starts from the configured start (files: every file is read again once).
	EOF
    test_cmp expect out &&
    whq "SELECT * FROM raw_orders.orders" >got && printf "id|name|amount|_dango_file|_dango_row|_dlt_load_id|_dlt_id\n(0 rows)\n" >expect &&
    head -1 got >h && whq "SELECT * FROM raw_orders.orders LIMIT 0" | head -1 >h2 && test_cmp h2 h &&
    tail -1 got >n && echo "(0 rows)" >expect && test_cmp expect n &&
    whq "SELECT * FROM bi.totals" >got && printf "name|total\n(0 rows)\n" >expect && test_cmp expect got &&
    whq "SELECT * FROM bi.big" >got && printf "id|amount\n(0 rows)\n" >expect && test_cmp expect got &&
    whq "SELECT obj_description('"'"'bi.totals'"'"'::regclass, '"'"'pg_class'"'"') AS c" >got &&
    printf "c\nrevenue by customer\n(1 row)\n" >expect && test_cmp expect got &&
    whq "SELECT grantee, privilege_type FROM information_schema.role_table_grants WHERE table_schema = '"'"'bi'"'"' AND grantee = '"'"'reader'"'"'" >got &&
    printf "grantee|privilege_type\nreader|SELECT\n(1 row)\n" >expect && test_cmp expect got &&
    dango state show orders >out && test_grep "no state yet" out &&
    whq "SELECT source, resource, action FROM _dango.state_history" >got &&
    printf "source|resource|action\norders|orders|reset --drop-data\n(1 row)\n" >expect && test_cmp expect got
'

test_expect_success 'the next sync loads every row; the views read them' '
    printf "4,Cy,40\n" >>data/orders.csv &&
    dango sync orders >out 2>err && test_grep "Loaded 4 rows into raw_orders.orders" out &&
    whq "SELECT * FROM bi.totals ORDER BY name" >got &&
    printf "name|total\nAnn|15\nBo|20\nCy|40\n(3 rows)\n" >expect && test_cmp expect got &&
    whq "SELECT * FROM bi.big ORDER BY id" >got &&
    printf "id|amount\n(0 rows)\n" >expect && test_cmp expect got &&
    wh "REFRESH MATERIALIZED VIEW bi.big" && whq "SELECT * FROM bi.big ORDER BY id" >got &&
    printf "id|amount\n1|10\n2|20\n4|40\n(3 rows)\n" >expect && test_cmp expect got &&
    whq "SELECT id, name, amount FROM staging.stg_orders ORDER BY id" >got &&
    printf "id|name|amount\n1|Ann|10\n2|Bo|20\n3|Ann|5\n4|Cy|40\n(4 rows)\n" >expect && test_cmp expect got &&
    dango run >out 2>err && test_grep "Completed successfully" out
'

test_expect_success 'of two tables, the one views read is emptied, the other dropped; both reload' '
    wh "DROP VIEW staging.stg_shop_events" &&
    dango state reset shop --drop-data -y >out 2>err &&
    test_grep "^  raw_shop.items: bi.item_names, staging.stg_shop_items$" out &&
    ! grep -q "raw_shop.events" out &&
    whv "SELECT tablename FROM pg_tables WHERE schemaname = '"'"'raw_shop'"'"' AND tablename IN ('"'"'items'"'"', '"'"'events'"'"')" >got &&
    echo items >expect && test_cmp expect got &&
    whv "SELECT count(*) FROM raw_shop.items" >got && echo 0 >expect && test_cmp expect got &&
    PGDB=shop psql_do "INSERT INTO items VALUES (5, '"'"'v5'"'"')" &&
    dango sync shop >out 2>&1 &&
    test_grep "Loaded 5 rows into raw_shop.items" out && test_grep "Loaded 3 rows into raw_shop.events" out &&
    whq "SELECT * FROM bi.item_names ORDER BY id" >got &&
    printf "id|v\n1|v1\n2|v2\n3|v3\n4|v4\n5|v5\n(5 rows)\n" >expect && test_cmp expect got &&
    whv "SELECT count(*), count(DISTINCT id) FROM raw_shop.items" >got && echo "5|5" >expect && test_cmp expect got
'

test_done
