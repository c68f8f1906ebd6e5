#!/usr/bin/env bash
# dango sync --dry-run on a postgres warehouse (#19): the plan is made from
# the state on the server (files already loaded, incremental cursors, a
# cursor moved by dango state set), read-only, and reads the same as the
# plan of a DuckDB project with the same sources and the same history; the
# server's rows and state are as they were after it; a warehouse that
# cannot be reached fails the dry run, naming the server.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
psql_do "CREATE DATABASE shop"
PGDB=shop psql_do <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, v text);
INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 10) g;
SQL
whv() { psql -X -A -t -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }

# two projects, the same sources: pgp keeps its warehouse on the server, duck in DuckDB
mkproject() {
    dango init "$1" --skip-wizard >/dev/null </dev/null &&
    (cd "$1" &&
     echo "SHOP_PW=$DB_PW" >>.env &&
     printf 'id,name\n1,Ann\n2,Bo\n' >data/orders.csv &&
     printf 'k,v\na,1\nb,2\nc,3\n' >data/more.csv &&
     printf 'x\n1\n2\n3\n4\n' >data/fresh.csv &&
     cat >.dango/sources.yml <<-EOF
	version: "1.0"
	sources:
	  - name: fresh
	    type: csv
	    csv: {path: data/fresh.csv}
	  - name: more
	    type: csv
	    csv: {path: data/more.csv}
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
	EOF
    )
}
mkproject pgp && (cd pgp && pg_warehouse_use && rm -f data/warehouse.duckdb)
mkproject duck
# the dry runs of both, with the user and the clock of 'state set' taken out
plan() { sed -e "s/set by .* at [0-9-]* [0-9:.]*/set by WHO at TIME/" "$1"; }
server_state() {
    whq "SELECT resource, state::text FROM raw_shop._dango_state ORDER BY 1" &&
    whq "SELECT path, size, content_hash, rows, status, loaded_at FROM raw_orders._dango_file_metadata ORDER BY 1" &&
    whq "SELECT path, rows, loaded_at FROM raw_more._dango_file_metadata ORDER BY 1" &&
    whq "SELECT (SELECT count(*) FROM raw_shop.items) AS items, (SELECT count(*) FROM raw_orders.orders) AS orders,
                (SELECT count(*) FROM _dango.state_history) AS history,
                (SELECT count(*) FROM pg_namespace WHERE nspname = 'raw_fresh') AS fresh_schema"
}

test_expect_success 'setup: both projects synced the same, then the files and the cursor moved' '
    for d in pgp duck; do
        (cd $d && dango sync more orders shop >out 2>&1 && test_grep "Loaded 10 rows into raw_shop.items" out) || return 1
    done &&
    PGDB=shop psql_do "INSERT INTO items SELECT g, '"'"'w'"'"' || g FROM generate_series(11, 13) g" &&
    for d in pgp duck; do
        (cd $d && printf "3,Cy\n4,Di\n" >>data/orders.csv &&
         dango state set shop items --cursor 6 >out && test_grep "shop.items: cursor 10 -> 6" out) || return 1
    done
'

test_expect_success 'the dry run reads the server: cursors, known files, the value set' '
    server_state >before &&
    (cd pgp && dango sync --dry-run >../pg.out 2>../pg.err) &&
    server_state >after && test_cmp before after &&
    test_grep "^Would sync 4 sources:$" pg.out &&
    test_grep "^1. fresh (csv)$" pg.out &&
    sed -n "/^1. fresh/,/^2\./p" pg.out >fresh && test_grep "mode: first sync (everything)" fresh &&
    test_grep "data/fresh.csv: ~4 rows (new)" fresh &&
    sed -n "/^2. more/,/^3\./p" pg.out >more && test_grep "mode: incremental (new and changed data only)" more &&
    test_grep "data/more.csv: unchanged, skipped" more &&
    sed -n "/^3. orders/,/^4\./p" pg.out >orders && test_grep "data/orders.csv: ~[0-9]* rows (changed)" orders &&
    test_grep "public.items -> items: incremental on id, stored value 6, ~8 rows" pg.out &&
    test_grep "state: items: starts from id >= 6; set by .* at " pg.out &&
    test_grep "^No data was modified.$" pg.out &&
    ! test -e pgp/data/warehouse.duckdb
'

test_expect_success 'it reads the same as the dry run of the DuckDB project' '
    (cd duck && dango sync --dry-run >../duck.out 2>../duck.err) &&
    plan pg.out >pg.plan && plan duck.out >duck.plan && test_cmp duck.plan pg.plan &&
    test_cmp duck.err pg.err
'

test_expect_success 'with --full-refresh too: the state ignored, the same plan' '
    (cd pgp && dango sync orders shop --dry-run --full-refresh >../pg.out 2>&1) &&
    (cd duck && dango sync orders shop --dry-run --full-refresh >../duck.out 2>&1) &&
    test_cmp duck.out pg.out &&
    test_grep "state: items: state ignored (full refresh)" pg.out &&
    test_grep "data/orders.csv: ~[0-9]* rows (full refresh)" pg.out &&
    server_state >after && test_cmp before after
'

test_expect_success 'a real sync then does what the plan said' '
    (cd pgp && dango sync >out 2>&1 &&
     test_grep "Loaded 4 rows into raw_fresh.fresh" out && test_grep "Loaded 8 rows into raw_shop.items" out &&
     test_grep "Loaded 0 rows into raw_more.more" out && test_grep "1 file unchanged, skipped" out) &&
    whv "SELECT count(*), count(DISTINCT id) FROM raw_shop.items" >got && echo "13|13" >expect && test_cmp expect got &&
    (cd pgp && dango sync --dry-run >../pg.out 2>&1) &&
    test_grep "data/orders.csv: unchanged, skipped" pg.out &&
    test_grep "data/fresh.csv: unchanged, skipped" pg.out &&
    test_grep "public.items -> items: incremental on id, stored value 13" pg.out
'

test_expect_success 'a warehouse that cannot be reached fails the dry run, naming the server' '
    (cd pgp && WH_URL="postgresql://dango:$DB_PW@127.0.0.1:1/wh" &&
     test_expect_code 1 dango sync --dry-run >../out 2>../err) &&
    test_grep "postgres warehouse 127.0.0.1:1/wh" err && ! grep -q "$DB_PW" err out &&
    ! test -e pgp/data/warehouse.duckdb
'

test_done
