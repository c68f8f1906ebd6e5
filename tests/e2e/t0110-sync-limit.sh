#!/usr/bin/env bash
# dango sync --limit: a sample load leaves the incremental state (file
# metadata, API cursors) as it was, says so, and the next sync without
# --limit replaces the sample's rows and loads everything, without
# duplicates (issue 9 §2).
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1
dango init p >/dev/null </dev/null
cd p
cp "$SRC_DIR/examples/sample_data/orders.csv" data/orders.csv
dango source add csv --name orders --path data/orders.csv >/dev/null

test_expect_success 'a CSV sample loads 7 rows, says so, and records no file metadata' '
    dango sync orders --limit 7 >out &&
    test_grep "Loaded 7 rows into raw_orders.orders" out &&
    test_grep -- "--limit: sample load, incremental state not saved" out &&
    q "SELECT count(*) FROM raw_orders.orders" >n && echo 7 >expect && test_cmp expect n &&
    q "SELECT count(*) FROM raw_orders._dango_file_metadata" >m && echo 0 >expect && test_cmp expect m
'

test_expect_success 'the next sync loads all 500 rows once, replacing the sample' '
    dango sync orders >out &&
    test_grep ! "unchanged" out &&
    test_grep "replaced the 7 rows of an earlier --limit sample" out &&
    test_grep "Loaded 500 rows into raw_orders.orders" out &&
    q "SELECT count(*) || '"'"' '"'"' || count(DISTINCT order_id) || '"'"' '"'"' || count(DISTINCT _dlt_load_id) FROM raw_orders.orders" >n &&
    echo "500 500 1" >expect && test_cmp expect n &&
    q "SELECT rows || '"'"' '"'"' || status FROM raw_orders._dango_file_metadata" >m && echo "500 new" >expect && test_cmp expect m &&
    q "SELECT count(*) FROM raw_orders._dlt_loads" >l && echo 1 >expect && test_cmp expect l &&
    dango sync orders >out && test_grep "1 file unchanged, skipped" out
'

test_expect_success 'a sample of a changed file keeps the metadata; the next sync loads the change' '
    echo "501,1,paid,1.00,USD,2024-12-01 10:00:00,late" >>data/orders.csv &&
    dango sync orders --limit 3 >out && test_grep -- "--limit: sample load" out &&
    q "SELECT rows FROM raw_orders._dango_file_metadata" >m && echo 500 >expect && test_cmp expect m &&
    dango sync orders >out && test_grep "Loaded 501 rows" out &&
    q "SELECT count(*) || '"'"' '"'"' || count(DISTINCT order_id) FROM raw_orders.orders" >n && echo "501 501" >expect && test_cmp expect n
'

test_expect_success '--limit with --full-refresh is refused: a sample cannot replace the tables' '
    test_must_fail dango sync orders --limit 5 --full-refresh -y >out 2>err &&
    test_grep -- "--limit cannot be combined with --full-refresh" err &&
    q "SELECT count(*) FROM raw_orders.orders" >n && echo 501 >expect && test_cmp expect n
'

printf '  - name: api\n    type: rest_api\n    rest_api:\n      base_url: %s\n      endpoints:\n        - name: items\n          path: /incremental\n          paginator: {type: page_number, page_param: page}\n          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2024-06-01T10:00:00Z"}\n' "$API" >>.dango/sources.yml

test_expect_success 'an API sample saves no cursor' '
    dango sync api --limit 5 >out &&
    test_grep "Loaded 5 rows into raw_api.items" out && test_grep -- "--limit: sample load, incremental state not saved" out &&
    q "SELECT count(*) FROM raw_api._dango_state" >s && echo 0 >expect && test_cmp expect s
'

test_expect_success 'the next API sync starts where the sample did and loads every record once' '
    m=$(mark) && dango sync api >out &&
    log_since $m | cut -d" " -f2 | head -1 >r && echo "/incremental?updated_since=2024-06-01T10:00:00Z&page=1" >expect && test_cmp expect r &&
    test_grep "Loaded 16 rows into raw_api.items" out &&
    q "SELECT count(*) || '"'"' '"'"' || count(DISTINCT id) FROM raw_api.items" >n && echo "16 16" >expect && test_cmp expect n &&
    q "SELECT state->>'"'"'cursor'"'"' FROM raw_api._dango_state" >c && echo "2024-06-02T01:00:00Z" >expect && test_cmp expect c
'

test_done
