#!/usr/bin/env bash
# The drift webhook (governance.webhook_url_env in project.yml): one JSON
# POST per sync that found new drift, checked by a receiver on loopback; a
# failed delivery is a warning and a logged row, never a failed sync; the
# URL (which carries a secret) is never printed.
. "$(dirname "$0")/lib.sh"

export DANGO_CLOCK_SPEED=0
T1=2026-03-28T10:00:00Z T2=2026-03-28T12:00:00Z T3=2026-03-28T14:00:00Z

# the receiver runs at the top level (a test body is a subshell)
start_sink() {
    rm -f "$TRASH/hook.port"
    "$FIXTURES/webhook_sink" "$TRASH/hook.port" "$TRASH/hook.log" "$@" &
    SINK=$!
    wait_for_file "$TRASH/hook.port" || exit 1
    HOOK=http://127.0.0.1:$(cat "$TRASH/hook.port")/hooks/s3cr3t-t0ken
    echo "DRIFT_WEBHOOK_URL=$HOOK" >"$TRASH/p/.env"
}
stop_sink() { kill "$SINK" && wait "$SINK" 2>/dev/null; }
: >"$TRASH/hook.log"

dango init p >/dev/null </dev/null
cd p
cat >>.dango/project.yml <<'EOF'
governance:
  webhook_url_env: DRIFT_WEBHOOK_URL
EOF
sqlite3 data/shop.db "CREATE TABLE orders (id INTEGER PRIMARY KEY, amount BIGINT, currency TEXT);
                      INSERT INTO orders VALUES (1, 10, 'EUR');"
cat >.dango/sources.yml <<'EOF'
version: "1.0"
sources:
  - name: shop_db
    type: sqlite
    sqlite:
      path: data/shop.db
      streams:
        orders: {}
EOF
last_load() { q "SELECT load_id FROM raw_shop_db._dlt_loads ORDER BY inserted_at DESC LIMIT 1"; }
start_sink

test_expect_success 'no drift, no POST' '
    DANGO_NOW=$T1 dango sync >out 2>err &&
    test_must_be_empty() { test ! -s "$1"; } && test_must_be_empty "$TRASH/hook.log" && test_must_be_empty err
'

test_expect_success 'a sync that finds drift POSTs it as JSON' '
    sqlite3 data/shop.db "DROP TABLE orders; CREATE TABLE orders (id INTEGER PRIMARY KEY, amount TEXT, note TEXT);
                          INSERT INTO orders VALUES (1, '"'10'"', '"'n'"');" &&
    DANGO_NOW=$T2 dango sync >out 2>err &&
    LOAD=$(last_load) &&
    cat >expect <<-EOF &&
	POST /hooks/s3cr3t-t0ken content-type=application/json {"event":"schema_drift","project":"p","source":"shop_db","load_id":"$LOAD","detected_at":"$T2","breaking":true,"events":[{"table":"orders","column":"amount","change":"type_changed","old_type":"BIGINT","new_type":"VARCHAR","breaking":true,"new":true,"first_seen":"$T2","first_load_id":"$LOAD","status":"open"},{"table":"orders","column":"currency","change":"column_removed","old_type":"VARCHAR","new_type":null,"breaking":true,"new":true,"first_seen":"$T2","first_load_id":"$LOAD","status":"open"},{"table":"orders","column":"note","change":"column_added","old_type":null,"new_type":"VARCHAR","breaking":false,"new":true,"first_seen":"$T2","first_load_id":"$LOAD","status":"open"}],"review":"dango governance drift-report shop_db","accept":"dango governance accept shop_db"}
	EOF
    test_cmp expect "$TRASH/hook.log" &&
    test_grep "breaking schema drift in raw_shop_db" err &&
    test_grep "new column in raw_shop_db: orders.note (VARCHAR)" err &&
    test_grep ! "not delivered" err &&
    sqlite3 .dango/state/dango.sqlite "SELECT source, at, ok, error IS NULL FROM drift_deliveries" >got &&
    echo "shop_db|$T2|1|1" >expect && test_cmp expect got
'

test_expect_success 'the same drift seen again is not posted again' '
    DANGO_NOW=$T3 dango sync >out 2>err &&
    test_line_count() { test "$(wc -l <"$2")" -eq "$1"; } &&
    test_line_count 1 "$TRASH/hook.log"
'

stop_sink
: >"$TRASH/hook.log"
start_sink 500
test_expect_success 'a receiver that fails: the sync succeeds, warns without the URL, logs the failure' '
    sqlite3 data/shop.db "ALTER TABLE orders ADD COLUMN c0 TEXT;" &&
    DANGO_NOW=$T3 dango sync >out 2>err &&
    test_grep "Success: 1/1 sources" out &&
    test_grep "schema drift webhook (DRIFT_WEBHOOK_URL) not delivered: the receiver answered HTTP 500" err &&
    test_grep ! s3cr3t out && test_grep ! s3cr3t err &&
    test_grep "\"column\":\"c0\",\"change\":\"column_added\"" "$TRASH/hook.log" &&
    sqlite3 .dango/state/dango.sqlite "SELECT at, ok, error FROM drift_deliveries ORDER BY id DESC LIMIT 1" >got &&
    echo "$T3|0|the receiver answered HTTP 500" >expect && test_cmp expect got
'

stop_sink
test_expect_success 'a receiver that is gone, and an unset variable: warnings, never a failed sync' '
    sqlite3 data/shop.db "ALTER TABLE orders ADD COLUMN c1 TEXT;" &&
    dango sync >out 2>err &&
    test_grep "schema drift webhook (DRIFT_WEBHOOK_URL) not delivered: the request failed: " err &&
    test_grep ! s3cr3t err &&
    : >.env && sqlite3 data/shop.db "ALTER TABLE orders ADD COLUMN c2 TEXT;" &&
    dango sync >out 2>err &&
    test_grep "schema drift webhook (DRIFT_WEBHOOK_URL) not delivered: DRIFT_WEBHOOK_URL (governance.webhook_url_env) is not set" err
'

test_expect_success 'project.yml: a misspelt governance key is an error naming it' '
    cp .dango/project.yml keep &&
    sed -i "s/webhook_url_env/webhook_url/" .dango/project.yml &&
    test_must_fail dango governance drift-report 2>err &&
    test_grep "project.yml.*webhook_url" err &&
    cp keep .dango/project.yml
'

test_done
