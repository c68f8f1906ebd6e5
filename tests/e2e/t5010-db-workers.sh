#!/usr/bin/env bash
# Streams of one source read in parallel (--workers), each on its own
# connection: they commit together (one load), or, when one of them fails
# mid-read, not at all: the warehouse and the stored values stay as they were.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do <<'SQL'
CREATE TABLE orders (order_id int PRIMARY KEY, amount numeric(8,2), updated_at timestamptz);
INSERT INTO orders VALUES (1, 10, '2024-01-01 00:00:00+00'), (2, 20, '2024-01-02 00:00:00+00');
CREATE TABLE customers (id int PRIMARY KEY, name text);
INSERT INTO customers VALUES (1, 'ann'), (2, 'bob');
CREATE TABLE events (id bigint, kind text);
INSERT INTO events SELECT g, 'k' || g FROM generate_series(1, 3) g;
SQL

dango init p >/dev/null </dev/null
cd p
echo "SHOP_PW=$DB_PW" >>.env
write_sources() {
    cat >.dango/sources.yml <<YML
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
        public.orders: {mode: incremental, primary_key: order_id, update_key: updated_at}
        public.customers: {}
        public.events: {mode: incremental, update_key: id}
$1
YML
}
snapshot() {
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >"$1" &&
    q "SELECT id, name FROM raw_shop.customers ORDER BY 1" >>"$1" &&
    q "SELECT id, kind FROM raw_shop.events ORDER BY 1" >>"$1" &&
    q "SELECT resource, state::VARCHAR FROM raw_shop._dango_state ORDER BY 1" >>"$1"
}

test_expect_success 'three streams on three workers load in one commit' '
    write_sources "" &&
    dango sync shop --workers 3 >out 2>err &&
    q "SELECT (SELECT count(*) FROM raw_shop.orders), (SELECT count(*) FROM raw_shop.customers), (SELECT count(*) FROM raw_shop.events)" >v &&
    echo "2,2,3" >expect && test_cmp expect v &&
    q "SELECT count(DISTINCT l) FROM (SELECT _dlt_load_id l FROM raw_shop.orders UNION ALL SELECT _dlt_load_id FROM raw_shop.customers UNION ALL SELECT _dlt_load_id FROM raw_shop.events)" >v &&
    echo 1 >expect && test_cmp expect v
'

test_expect_success 'one stream failing mid-read: named, exit 1, the other streams commit nothing' '
    snapshot before &&
    psql_do "UPDATE orders SET amount = 11, updated_at = now() WHERE order_id = 1;
             INSERT INTO customers VALUES (3, '"'cy'"'); INSERT INTO events VALUES (4, '"'k4'"');" &&
    write_sources "        public.bad: {sql: \"select g AS id, 10 / (g - 40000) AS x from generate_series(1, 50000) g\"}" &&
    test_expect_code 1 dango sync shop --workers 4 >out 2>err &&
    test_grep "source '"'shop'"', stream '"'public.bad'"': division by zero" err &&
    snapshot after && test_cmp before after
'

test_expect_success 'without the failing stream the next sync picks up every change once' '
    write_sources "" &&
    dango sync shop --workers 3 >out 2>err &&
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >v &&
    printf "1,11.00\n2,20.00\n" >expect && test_cmp expect v &&
    q "SELECT count(*), max(id) FROM raw_shop.customers" >v && echo "3,3" >expect && test_cmp expect v &&
    q "SELECT count(*), max(id) FROM raw_shop.events" >v && echo "4,4" >expect && test_cmp expect v
'

test_done
