#!/usr/bin/env bash
# Bullets of the database-source issue the other scripts did not check:
# MariaDB's dry run per stream, NULL update keys reported, an update_key or
# query that is wrong, a stalled statement (timeout) leaving data and state
# as they were; PostgreSQL's numeric too wide for DECIMAL (a warning, the
# value kept as DOUBLE); SQLite's dry run.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

mariadb_start || { echo "not ok - MariaDB could not start"; exit 1; }
pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }

MYDB=shop my_do <<'SQL'
CREATE TABLE orders (order_id int PRIMARY KEY, amount decimal(8,2), updated_at datetime);
INSERT INTO orders VALUES (1, 10, '2024-01-01 10:00:00'), (2, 20, '2024-01-02 10:00:00'), (3, 30, NULL);
SQL
psql_do "CREATE TABLE wide (id int PRIMARY KEY, big numeric(50,2));
         INSERT INTO wide VALUES (1, 123456789012345678901234567890123456789012.25);"

dango init p >/dev/null </dev/null
cd p
echo "SHOP_PW=$DB_PW" >>.env
my_sources() {
    cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: shop
    type: mysql
    mysql:
      host: 127.0.0.1
      port: $MYPORT
      database: shop
      user: dango
      password_env: SHOP_PW
      timeout: 1
$1
EOF
}
my_sources '      streams:
        shop.orders: {mode: incremental, primary_key: order_id, update_key: updated_at}'

test_expect_success 'mysql: the dry run gives mode, stored value and estimate per stream' '
    dango sync shop --dry-run >out 2>&1 &&
    test_grep "shop.orders -> orders: incremental on updated_at, stored value none (first sync: every row), ~2 rows" out &&
    dango sync shop >out 2>err &&
    test_grep "shop.orders: 1 row has NULL updated_at and is never picked up incrementally" err &&
    MYDB=shop my_do "INSERT INTO orders VALUES (4, 40, '"'2024-01-03 10:00:00'"')" &&
    dango sync shop --dry-run >out 2>&1 &&
    test_grep "shop.orders -> orders: incremental on updated_at, stored value 2024-01-02 10:00:00, ~2 rows" out &&
    test_grep "state: orders: starts from updated_at >= 2024-01-02 10:00:00" out
'

test_expect_success 'mysql: an update_key that is no column, or a bad query: named, exit 1, nothing changed' '
    my_sources "      streams:
        shop.orders: {mode: incremental, primary_key: order_id, update_key: changed}" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "stream .shop.orders.: update_key .changed. is not a column (columns: order_id, amount, updated_at)" err &&
    my_sources "      streams:
        shop.orders: {sql: \"selec * from orders\"}" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "source .shop., stream .shop.orders.: .*SQL syntax" err &&
    q "SELECT count(*) FROM raw_shop.orders" >v && echo 2 >expect && test_cmp expect v
'

test_expect_success 'mysql: a stalled statement past the timeout fails the sync, data and state as before' '
    q "SELECT state::VARCHAR FROM raw_shop._dango_state" >before &&
    my_sources "      streams:
        shop.orders: {mode: incremental, primary_key: order_id, update_key: updated_at,
                      sql: \"select o.*, sleep(3) AS s from orders o\"}" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "source .shop., stream .shop.orders." err &&
    q "SELECT state::VARCHAR FROM raw_shop._dango_state" >after && test_cmp before after &&
    q "SELECT count(*) FROM raw_shop.orders" >v && echo 2 >expect && test_cmp expect v
'

test_expect_success 'postgres: a numeric too wide for DECIMAL is loaded as DOUBLE, with a warning' '
    cat >.dango/sources.yml <<-EOF &&
	version: "1.0"
	sources:
	  - name: pg
	    type: postgres
	    postgres:
	      host: 127.0.0.1
	      port: $PGPORT
	      database: postgres
	      user: dango
	      password_env: SHOP_PW
	      streams:
	        public.wide: {}
	EOF
    dango sync pg >out 2>err &&
    test_grep "column big: numeric(50,2) does not fit DuckDB.s DECIMAL (at most 38 digits); loaded as DOUBLE" err &&
    q "SELECT typeof(big), big > 1e41 FROM raw_pg.wide" >v && echo "DOUBLE,true" >expect && test_cmp expect v
'

test_expect_success 'sqlite: the dry run per stream' '
    sqlite3 data/app.db "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT); INSERT INTO t VALUES (1, 2), (2, 3);" &&
    cat >.dango/sources.yml <<-EOF &&
	version: "1.0"
	sources:
	  - name: lite
	    type: sqlite
	    sqlite:
	      path: data/app.db
	      streams:
	        t: {mode: incremental, primary_key: id, update_key: id}
	EOF
    dango sync lite --dry-run >out 2>&1 &&
    test_grep "t -> t: incremental on id, stored value none (first sync: every row), ~2 rows" out &&
    dango sync lite >/dev/null 2>&1 &&
    dango sync lite --dry-run >out 2>&1 &&
    test_grep "t -> t: incremental on id, stored value 2, ~1 rows" out &&
    test_grep "state: t: starts from id >= 2" out
'

test_done
