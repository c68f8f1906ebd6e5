#!/usr/bin/env bash
# A changed file now without rows on a postgres warehouse (#19): refused as
# on DuckDB (t0111), naming the file and its rows on the server, nothing
# changed; --allow-empty lets it and says what it removed.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
dango init p >/dev/null </dev/null
cd p
pg_warehouse_use
cp "$SRC_DIR/examples/sample_data/orders.csv" data/orders.csv
cp data/orders.csv orders.good
dango source add csv --name orders --path data/orders.csv >/dev/null
dango sync orders >/dev/null 2>&1
rows() { whq "SELECT count(*) FROM raw_orders.orders" | sed -n 2p; }
files() { whq "SELECT rows FROM raw_orders._dango_file_metadata" | sed -n 2p; }

test_expect_success 'a file reduced to its header does not empty its rows' '
    test "$(rows)" = 500 &&
    head -1 orders.good >data/orders.csv &&
    test_must_fail dango sync orders >out 2>err &&
    test_grep "data/orders.csv (now without rows) loaded 0 rows over 500 existing rows; refusing" err &&
    test_grep -- "--allow-empty" err &&
    test "$(rows)" = 500
'

test_expect_success '--allow-empty lets it, and says what it removed' '
    dango sync orders --allow-empty >out 2>err &&
    test_grep "data/orders.csv (now without rows) loaded 0 rows: its 500 previous rows were removed (--allow-empty)" err &&
    test "$(rows)" = 0 &&
    cp orders.good data/orders.csv && dango sync orders >out 2>&1 && test "$(rows)" = 500
'

test_done
