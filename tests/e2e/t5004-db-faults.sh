#!/usr/bin/env bash
# Database sources under faults: a server that dies mid-read, a statement
# that stalls past the timeout, a sync killed with -9 and run again. Each
# failure names the source and stream, exits 1 and leaves the warehouse and
# its state as they were.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do <<'SQL'
CREATE TABLE orders (order_id int PRIMARY KEY, amount numeric(8,2), updated_at timestamptz);
INSERT INTO orders VALUES (1, 10, '2024-01-01 00:00:00+00'), (2, 20, '2024-01-02 00:00:00+00');
CREATE TABLE big (id int, v text);
INSERT INTO big SELECT g, 'value ' || g FROM generate_series(1, 1500000) g;
SQL

dango init p >/dev/null </dev/null
cd p
echo "SHOP_PW=$DB_PW" >>.env
export TMPDIR=$TRASH/tmp
mkdir -p "$TMPDIR"
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
$1
YML
}
write_sources '      streams:
        public.orders: {mode: incremental, primary_key: order_id, update_key: updated_at}
        public.big: {}'
snapshot() {
    q "SELECT count(*), max(order_id) FROM raw_shop.orders" >"$1" &&
    q "SELECT resource, state::VARCHAR FROM raw_shop._dango_state ORDER BY 1" >>"$1" &&
    q "SELECT count(*) FROM raw_shop.big" >>"$1"
}
# Wait until the first spool file of the big table is complete (the second
# is being written): the sync is mid-read.
wait_mid_read() {
    local i=0
    while ! ls "$TMPDIR"/dango-db-*/big-2.csv >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 2400 ] || { echo "the sync never got to the second spool file" >&2; return 1; }
        sleep 0.05
    done
}

test_expect_success 'a first sync loads both streams' '
    dango sync shop >out 2>err && snapshot before &&
    test_grep "^1500000$" before
'

test_expect_success 'a server killed mid-read: the stream is named, exit 1, nothing changes' '
    # the set-up ends with ";": joined by && to the "{ ... } &" it would run in
    # the background, and a stale file of the last sync could pass the wait
    psql_do "INSERT INTO orders VALUES (3, 30, '"'2024-01-03 00:00:00+00'"')" &&
    rm -rf "$TMPDIR"/* && touch setup-done;
    { dango sync shop >out 2>err; echo $? >rc; } &
    wait_mid_read && pg_kill && wait_for_file rc 60 && test -f setup-done &&
    test "$(cat rc)" = 1 &&
    test_grep "source '"'shop'"', stream '"'public.big'"': .*server closed the connection unexpectedly" err &&
    pg_restart && snapshot after && test_cmp before after
'

test_expect_success 'a statement past the timeout fails the sync, naming the stream' '
    write_sources "      timeout: 1
      streams:
        public.orders: {mode: incremental, primary_key: order_id, update_key: updated_at}
        public.slow: {sql: \"select pg_sleep(3) as s, 1 as x\"}" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "stream '"'public.slow'"': canceling statement due to statement timeout" err &&
    snapshot after && test_cmp before after
'

test_expect_success 'a sync killed with -9 mid-read loses and duplicates nothing' '
    write_sources "      streams:
        public.orders: {mode: incremental, primary_key: order_id, update_key: updated_at}
        public.big: {}" &&
    rm -rf "$TMPDIR"/* &&
    { exec dango sync shop >out 2>err; } & pid=$! &&
    wait_mid_read && kill -9 $pid && { wait $pid || true; } &&
    snapshot after && test_cmp before after &&
    dango sync shop >out 2>err &&
    q "SELECT count(*), count(DISTINCT order_id), max(order_id) FROM raw_shop.orders" >v &&
    echo "3,3,3" >expect && test_cmp expect v &&
    q "SELECT count(*) FROM raw_shop.big" >v && echo 1500000 >expect && test_cmp expect v
'

test_done
