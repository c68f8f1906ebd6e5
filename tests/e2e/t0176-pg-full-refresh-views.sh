#!/usr/bin/env bash
# A full refresh on a postgres warehouse (#19) when views read the raw
# table: the staging view dango generate + dango run build, a user's view
# on that view (with a comment and a grant) and a materialized view are
# set aside, the new table is swapped in and the views are rebuilt on it in
# the same transaction; the rows read back through the views are the new
# ones. Also when the old table is kept as a backup (under half the rows).
# A view that no longer fits the new columns fails the sync, naming the
# view and the source, and leaves the table and the views as they were.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
wh() { PGDB=wh psql_do "$1"; }

dango init p --skip-wizard >/dev/null </dev/null
cd p
pg_warehouse_use

printf 'id,name,amount\n1,Ann,10\n2,Bo,20\n3,Ann,5\n' >data/orders.csv

test_expect_success 'setup: a synced source, its staging view and views of a user on it' '
    dango source add csv --name orders --path data/orders.csv >/dev/null &&
    dango sync orders >out 2>err && test_grep "Loaded 3 rows" out &&
    dango generate >out 2>err && dango run >out 2>err && test_grep "Completed successfully" out &&
    whq "SELECT table_schema, table_name FROM information_schema.views WHERE table_name = '"'"'stg_orders'"'"'" >v &&
    printf "table_schema|table_name\nstaging|stg_orders\n(1 row)\n" >expect && test_cmp expect v &&
    wh "CREATE SCHEMA bi; CREATE ROLE reader;
        CREATE VIEW bi.totals AS SELECT name, sum(amount) AS total FROM staging.stg_orders GROUP BY name;
        COMMENT ON VIEW bi.totals IS '"'"'revenue by customer'"'"';
        COMMENT ON COLUMN bi.totals.total IS '"'"'sum of amounts'"'"';
        GRANT SELECT ON bi.totals TO reader;
        CREATE MATERIALIZED VIEW bi.big AS SELECT id, amount FROM raw_orders.orders WHERE amount >= 10;
        CREATE UNIQUE INDEX big_id ON bi.big (id);" &&
    whq "SELECT * FROM bi.totals ORDER BY name" >got &&
    printf "name|total\nAnn|15\nBo|20\n(2 rows)\n" >expect && test_cmp expect got
'

test_expect_success 'a full refresh swaps the table in and rebuilds the views on it' '
    printf "id,name,amount\n1,Ann,11\n2,Bo,22\n4,Cy,40\n" >data/orders.csv &&
    dango sync orders --full-refresh -y >out 2>err &&
    test_grep "Loaded 3 rows into raw_orders.orders" out &&
    whq "SELECT id, name, amount FROM staging.stg_orders ORDER BY id" >got &&
    printf "id|name|amount\n1|Ann|11\n2|Bo|22\n4|Cy|40\n(3 rows)\n" >expect && test_cmp expect got &&
    whq "SELECT * FROM bi.totals ORDER BY name" >got &&
    printf "name|total\nAnn|11\nBo|22\nCy|40\n(3 rows)\n" >expect && test_cmp expect got &&
    whq "SELECT * FROM bi.big ORDER BY id" >got &&
    printf "id|amount\n1|11\n2|22\n4|40\n(3 rows)\n" >expect && test_cmp expect got
'

test_expect_success 'the views keep their comments, grants and indexes' '
    whq "SELECT obj_description('"'"'bi.totals'"'"'::regclass, '"'"'pg_class'"'"'), col_description('"'"'bi.totals'"'"'::regclass, 2)" >got &&
    printf "obj_description|col_description\nrevenue by customer|sum of amounts\n(1 row)\n" >expect && test_cmp expect got &&
    whq "SELECT grantee, privilege_type FROM information_schema.role_table_grants WHERE table_schema = '"'"'bi'"'"' AND grantee = '"'"'reader'"'"'" >got &&
    printf "grantee|privilege_type\nreader|SELECT\n(1 row)\n" >expect && test_cmp expect got &&
    whq "SELECT indexname FROM pg_indexes WHERE schemaname = '"'"'bi'"'"'" >got &&
    printf "indexname\nbig_id\n(1 row)\n" >expect && test_cmp expect got &&
    whq "SELECT count(*) FROM pg_tables WHERE schemaname = '"'"'raw_orders'"'"' AND tablename LIKE '"'"'%dango_new'"'"'" >n &&
    printf "count\n0\n(1 row)\n" >expect && test_cmp expect n
'

test_expect_success 'under half the rows: the views read the new table, not the backup' '
    printf "id,name,amount\n9,Zed,90\n" >data/orders.csv &&
    dango sync orders --full-refresh -y >out 2>err &&
    test_grep "the old table is kept as raw_orders._dango_backup_" err &&
    whq "SELECT * FROM bi.totals ORDER BY name" >got &&
    printf "name|total\nZed|90\n(1 row)\n" >expect && test_cmp expect got &&
    whq "SELECT id, name FROM staging.stg_orders" >got &&
    printf "id|name\n9|Zed\n(1 row)\n" >expect && test_cmp expect got
'

test_expect_success 'dango run after the refresh rebuilds the staging view on the same table' '
    dango run >out 2>err && test_grep "Completed successfully" out &&
    whq "SELECT * FROM bi.totals" >got &&
    printf "name|total\nZed|90\n(1 row)\n" >expect && test_cmp expect got
'

test_expect_success 'a view that no longer fits fails the sync, naming it and the source; nothing changes' '
    whq "SELECT * FROM raw_orders.orders ORDER BY id" >rows.before &&
    printf "id,name\n1,Ann\n2,Bo\n" >data/orders.csv &&
    test_must_fail dango sync orders --full-refresh -y --allow-schema-changes >out 2>err &&
    cat >expect <<-\EOF &&
	the view bi.big, which reads raw_orders.orders, no longer fits the table this sync of source '"'"'orders'"'"' built: column orders.amount does not exist; the sync was rolled back (the table and its views are as they were): change or drop the view, then sync again
	EOF
    grep "^the view" err >actual && test_cmp expect actual &&
    whq "SELECT * FROM raw_orders.orders ORDER BY id" >rows.after && test_cmp rows.before rows.after &&
    whq "SELECT * FROM bi.totals" >got &&
    printf "name|total\nZed|90\n(1 row)\n" >expect && test_cmp expect got &&
    whq "SELECT * FROM bi.big" >got &&
    printf "id|amount\n9|90\n(1 row)\n" >expect && test_cmp expect got &&
    whq "SELECT obj_description('"'"'bi.totals'"'"'::regclass, '"'"'pg_class'"'"')" >got &&
    printf "obj_description\nrevenue by customer\n(1 row)\n" >expect && test_cmp expect got
'

test_done
