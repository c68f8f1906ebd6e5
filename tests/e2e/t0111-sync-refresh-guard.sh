#!/usr/bin/env bash
# A full refresh reads files as an incremental sync does (reader settings,
# schema check, bad-row report) and keeps the old table when that fails;
# one empty-result rule for every source and mode, and --allow-empty does
# what it says (issue 9 §3).
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1
dango init p >/dev/null </dev/null
cd p
cp "$SRC_DIR/examples/sample_data/orders.csv" data/orders.csv
dango source add csv --name orders --path data/orders.csv >/dev/null
dango sync orders >/dev/null
cols() { q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'raw_$1' AND table_name = '$2' AND column_name NOT LIKE '\_d%' ESCAPE '\\'"; }
cols orders orders >cols.before

test_expect_success 'a 9-column line: the full refresh fails naming data/orders.csv:502 and keeps the old table' '
    cp data/orders.csv orders.good &&
    echo "1,2,3,4,5,6,7,8,9" >>data/orders.csv &&
    test_must_fail dango sync orders --full-refresh -y >out 2>err &&
    test_grep "^data/orders.csv:502: " err && test_grep "the line reads: 1,2,3,4,5,6,7,8,9" err &&
    test_grep "Nothing was changed for orders" out &&
    q "SELECT count(*) FROM raw_orders.orders" >n && echo 500 >expect && test_cmp expect n &&
    cols orders orders >c && test_cmp cols.before c
'

test_expect_success 'the incremental sync reports the same line' '
    test_must_fail dango sync orders >out 2>err && test_grep "^data/orders.csv:502: " err &&
    cp orders.good data/orders.csv
'

test_expect_success 'a full refresh meets the schema check: changed columns are refused without --allow-schema-changes' '
    sed "1s/amount/total/" orders.good >data/orders.csv &&
    test_must_fail dango sync orders --full-refresh -y >out 2>err &&
    test_grep "data/orders.csv: columns differ from raw_orders.orders; new: total; missing: amount" err &&
    cols orders orders >c && test_cmp cols.before c &&
    dango sync orders --full-refresh -y --allow-schema-changes >out 2>&1 &&
    cols orders orders >c && test_grep "total" c && test_grep ! "amount" c &&
    cp orders.good data/orders.csv && dango sync orders --full-refresh -y --allow-schema-changes >/dev/null 2>&1
'

test_expect_success 'a file reduced to its header does not empty its rows on an incremental sync' '
    head -1 orders.good >data/orders.csv &&
    test_must_fail dango sync orders >out 2>err &&
    test_grep "data/orders.csv (now without rows) loaded 0 rows over 500 existing rows; refusing" err &&
    test_grep -- "--allow-empty" err &&
    q "SELECT count(*) FROM raw_orders.orders" >n && echo 500 >expect && test_cmp expect n
'

test_expect_success '--allow-empty lets it, and says what it removed' '
    dango sync orders --allow-empty >out 2>err &&
    test_grep "data/orders.csv (now without rows) loaded 0 rows: its 500 previous rows were removed (--allow-empty)" err &&
    q "SELECT count(*) FROM raw_orders.orders" >n && echo 0 >expect && test_cmp expect n
'

printf '  - name: ev\n    type: rest_api\n    rest_api:\n      base_url: %s\n      endpoints:\n        - name: items\n          path: /incremental\n          paginator: {type: page_number, page_param: page}\n          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2030-01-01T00:00:00Z"}\n' "$API" >>.dango/sources.yml

test_expect_success 'an API full refresh returning 0 rows is refused the same way, keeping the rows' '
    dango sync ev --since 2024-06-01 >out && test_grep "Loaded 25 rows into raw_ev.items" out &&
    test_must_fail dango sync ev --full-refresh -y >out 2>err &&
    test_grep "full refresh of raw_ev.items loaded 0 rows over 25 existing rows; refusing" err &&
    q "SELECT count(*) FROM raw_ev.items" >n && echo 25 >expect && test_cmp expect n
'

test_expect_success 'and with --allow-empty the table is emptied, not silently kept' '
    dango sync ev --full-refresh -y --allow-empty >out 2>err &&
    test_grep "full refresh of raw_ev.items loaded 0 rows: its 25 previous rows were removed (--allow-empty)" err &&
    q "SELECT count(*) FROM raw_ev.items" >n && echo 0 >expect && test_cmp expect n &&
    q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"'"'raw_ev'"'"' AND table_name LIKE '"'"'%dango_new%'"'"'" >t && echo 0 >expect && test_cmp expect t
'

test_done
