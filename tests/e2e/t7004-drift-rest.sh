#!/usr/bin/env bash
# Schema drift of a REST source (issue 13's report): the API starts sending
# amount as a string and stops sending currency. The raw table widens
# amount and keeps currency (NULL in the new rows), which used to be
# silent; the drift check sees what the API delivered.
. "$(dirname "$0")/lib.sh"

export DANGO_CLOCK_SPEED=0
T2=2026-03-28T12:00:00Z

mkdir api
"$FIXTURES/webhook_sink" "$TRASH/port" "$TRASH/api.log" 200 "$TRASH/api" &
wait_for_file "$TRASH/port" || exit 1
API=http://127.0.0.1:$(cat "$TRASH/port")

dango init p >/dev/null </dev/null
cd p
cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: shop_api
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - {name: orders, path: /orders.json, primary_key: id, write_disposition: merge, paginator: {type: single_page}}
EOF
echo '[{"id": 1, "amount": 10, "currency": "EUR"}, {"id": 2, "amount": 20, "currency": "USD"}]' >../api/orders.json

test_expect_success 'first sync: the baseline' '
    dango sync >out 2>err && test_grep "Loaded 2 rows into raw_shop_api.orders" out &&
    dango governance baseline shop_api >out &&
    test_grep "    amount    BIGINT" out && test_grep "    currency  VARCHAR" out
'

test_expect_success 'amount as text and no currency: caught though the table keeps the column' '
    echo "[{\"id\": 3, \"amount\": \"10.50 EUR\"}]" >../api/orders.json &&
    DANGO_NOW=$T2 dango sync >out 2>err &&
    echo "⚠ breaking schema drift in raw_shop_api: orders.amount BIGINT -> VARCHAR, orders.currency removed. dbt models downstream of shop_api are skipped until it is accepted. Review: dango governance drift-report shop_api. Accept: dango governance accept shop_api" >expect &&
    test_cmp expect err &&
    q "SELECT id, amount, currency FROM raw_shop_api.orders ORDER BY id" >got &&
    printf "1,10,EUR\n2,20,USD\n3,10.50 EUR,\n" >expect && test_cmp expect got &&
    test_expect_code 1 dango governance drift-report shop_api >out &&
    test_grep "^  breaking  orders.amount    type changed BIGINT -> VARCHAR  since $T2 (load " out &&
    test_grep "^  breaking  orders.currency  removed (was VARCHAR)           since $T2 (load " out &&
    dango run >out 2>&1 &&
    test_grep "skipping 1 model downstream of shop_api: breaking schema drift (orders.amount BIGINT -> VARCHAR, orders.currency removed)" out &&
    test_grep "SKIP relation staging.stg_shop_api_orders" out
'

test_expect_success 'accept: the next run builds it again' '
    dango governance accept shop_api >out &&
    dango run >out 2>&1 && test_grep ! skipping out &&
    test_grep "Done. PASS=1 WARN=0 ERROR=0 SKIP=0 TOTAL=1" out
'

test_done
