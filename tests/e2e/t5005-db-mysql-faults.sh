#!/usr/bin/env bash
# A MariaDB server that dies in the middle of a read: the sync names the
# source and stream, exits 1, and the warehouse and its state stay as they were.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

mariadb_start || { echo "not ok - MariaDB could not start"; exit 1; }
MYDB=shop my_do <<'SQL'
CREATE TABLE orders (order_id int PRIMARY KEY, amount decimal(8,2), updated_at datetime);
INSERT INTO orders VALUES (1, 10, '2024-01-01 00:00:00'), (2, 20, '2024-01-02 00:00:00');
CREATE TABLE big (id int, v varchar(20));
INSERT INTO big SELECT seq, concat('value ', seq) FROM seq_1_to_1500000;
SQL

dango init p >/dev/null </dev/null
cd p
echo "SHOP_PW=$DB_PW" >>.env
export TMPDIR=$TRASH/tmp
mkdir -p "$TMPDIR"
cat >.dango/sources.yml <<YML
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
      streams:
        orders: {mode: incremental, primary_key: order_id, update_key: updated_at}
        big: {}
YML
snapshot() {
    q "SELECT count(*), max(order_id) FROM raw_shop.orders" >"$1" &&
    q "SELECT resource, state::VARCHAR FROM raw_shop._dango_state ORDER BY 1" >>"$1" &&
    q "SELECT count(*) FROM raw_shop.big" >>"$1"
}

test_expect_success 'a first sync loads both streams' '
    dango sync shop >out 2>err && snapshot before && test_grep "^1500000$" before
'

test_expect_success 'the server killed mid-read: the stream is named, exit 1, nothing changes' '
    # the set-up ends with ";": joined by && to the "{ ... } &" it would run in
    # the background, and a stale file of the last sync could pass the wait
    MYDB=shop my_do "INSERT INTO orders VALUES (3, 30, '"'2024-01-03 00:00:00'"')" &&
    rm -rf "$TMPDIR"/* && touch setup-done;
    { dango sync shop >out 2>err; echo $? >rc; } &
    i=0 && while ! ls "$TMPDIR"/dango-db-*/big-2.csv >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 2400 ] || exit 1; sleep 0.05; done &&
    mariadb_stop && wait_for_file rc 60 && test -f setup-done &&
    test "$(cat rc)" = 1 &&
    test_grep "source '"'shop'"', stream '"'big'"': Lost connection to server during query" err &&
    snapshot after && test_cmp before after
'

test_done
