#!/usr/bin/env bash
# dango web: the JSON API against a real server (docs/api.md): every route,
# Sync Now to completion, a sync that waits for the lock, a failing sync,
# models and their runs, lineage, read-only queries, secrets never shown.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/web_lib.sh"

export SHOP_API_TOKEN=tok-9f8e7d6c5b4a39281706
test_expect_success 'setup: a project with a synced source, a model, a broken source' '
    dango init shop >/dev/null && cd shop &&
    printf "id,day,amount\n1,2024-01-01,9.50\n2,2024-01-02,12.00\n" >data/sales.csv &&
    dango source add csv --name sales --path data/sales.csv >/dev/null &&
    cat >>.dango/sources.yml <<-YML &&
	  - name: broken
	    type: csv
	    csv:
	      path: data/missing.csv
	  - name: shop_api
	    type: rest_api
	    enabled: false
	    rest_api:
	      base_url: http://127.0.0.1:9
	      auth_type: bearer
	      auth_token_env: SHOP_API_TOKEN
	      endpoints:
	        - name: items
	          path: /items
	YML
    dango sync sales >/dev/null && dango generate >/dev/null && dango run >/dev/null
'
cd shop || exit 1

start_web web && web_session
test_expect_success 'dango web starts on a free loopback port and answers /api/health' '
    case "$WEB_URL" in http://127.0.0.1:*) ;; *) false ;; esac &&
    web_get /api/health >health.json &&
    jq -e ".status == \"ok\" and .auth == \"loopback\" and .warehouse.busy == false and .project == \"shop\"" health.json
'

test_expect_success 'GET /api/sources: type, mode, status, tables and rows, last sync' '
    web_get /api/sources >src.json &&
    jq -c ".sources[] | select(.name == \"sales\") | {type, mode, status, tables, rows}" src.json >actual &&
    echo "{\"type\":\"csv\",\"mode\":\"Incremental (file tracking)\",\"status\":\"synced\",\"tables\":[{\"name\":\"sales\",\"rows\":2}],\"rows\":2}" >expect &&
    test_cmp expect actual &&
    jq -e ".sources[] | select(.name == \"sales\") | .last_sync | test(\"^20[0-9-]+T[0-9:]+Z$\")" src.json &&
    jq -e ".sources[] | select(.name == \"broken\") | .status == \"never\"" src.json
'

test_expect_success 'GET /api/sources/NAME: columns, config with secrets masked, history' '
    web_get /api/sources/sales >one.json &&
    jq -r ".tables[0].columns[].name" one.json | head -3 >actual &&
    printf "id\nday\namount\n" >expect && test_cmp expect actual &&
    jq -e ".config.csv.path == \"data/sales.csv\"" one.json &&
    web_get /api/sources/shop_api >api.json &&
    jq -c ".config.rest_api.auth_token_env" api.json >actual &&
    echo "{\"env\":\"SHOP_API_TOKEN\",\"set\":true}" >expect && test_cmp expect actual &&
    test_must_fail curl -sf "$WEB_URL/api/sources/nope"
'

test_expect_success 'POST without the CSRF token, with a wrong one or a foreign Origin is refused' '
    web_session &&
    curl -s -o out -w "%{http_code}\n" -X POST -d "{}" "$WEB_URL/api/sources/sales/sync" >code &&
    echo 403 >expect && test_cmp expect code && test_grep "CSRF" out &&
    curl -s -o out -w "%{http_code}\n" -b "$TRASH/jar" -H "Origin: $WEB_URL" -H "X-CSRF-Token: 0000" -X POST -d "{}" \
        "$WEB_URL/api/sources/sales/sync" >code && test_cmp expect code &&
    curl -s -o out -w "%{http_code}\n" -b "$TRASH/jar" -H "Origin: http://evil.example" -H "X-CSRF-Token: $(cat "$TRASH/csrf")" \
        -X POST -d "{}" "$WEB_URL/api/sources/sales/sync" >code && test_cmp expect code &&
    test_grep "not this server" out &&
    web_get /api/runs >runs.json && jq -e "[.runs[] | select(.origin == \"web\")] | length == 0" runs.json
'

test_expect_success 'Sync Now runs `dango sync` to completion and the row count changes' '
    printf "3,2024-01-03,1.25\n4,2024-01-04,2.50\n" >>data/sales.csv &&
    web_post /api/sources/sales/sync "{}" >post.out &&
    test "$(tail -1 post.out)" = 202 &&
    id=$(head -1 post.out | jq -r .run_id) && test -n "$id" &&
    wait_run "$id" &&
    jq -e ".status == \"completed\" and .phase == \"completed\" and .rows == 4 and .error == null" run.json &&
    jq -r .log run.json >log && test_grep "Loaded 4 rows into raw_sales.sales" log &&
    web_get /api/sources >src.json &&
    jq -c ".sources[] | select(.name == \"sales\") | .tables" src.json >actual &&
    echo "[{\"name\":\"sales\",\"rows\":4}]" >expect && test_cmp expect actual &&
    q "SELECT list(id ORDER BY id) FROM raw_sales.sales" >actual &&
    echo "\"[1, 2, 3, 4]\"" >expect && test_cmp expect actual
'

test_expect_success 'GET /api/runs lists the sync; GET /api/runs/ID has phase, rows, error and log' '
    web_get /api/runs >runs.json &&
    jq -e ".runs[0].kind == \"sync\" and .runs[0].target == \"sales\" and .runs[0].origin == \"web\"" runs.json &&
    jq -e "[.runs[] | select(.origin == \"cli\")] | length >= 1" runs.json &&
    web_get "/api/runs?kind=run" >r.json && jq -e "[.runs[] | select(.kind != \"run\")] | length == 0" r.json &&
    test_must_fail curl -sf "$WEB_URL/api/runs/run-999"
'

test_expect_success 'Sync Now while another writer holds the lock: waits, then succeeds' '
    rm -f release &&
    flock -x .dango/state/dbt.lock sh -c "while [ ! -f release ]; do sleep 0.1; done" &
    holder=$! &&
    sleep 0.5 &&
    printf "5,2024-01-05,3.00\n" >>data/sales.csv &&
    web_post /api/sources/sales/sync "{}" >post.out &&
    test "$(tail -1 post.out)" = 202 &&
    id=$(head -1 post.out | jq -r .run_id) &&
    i=0 && until curl -sf "$WEB_URL/api/runs/$id" | jq -e ".phase == \"lock_waiting\"" >/dev/null; do
        i=$((i + 1)); test $i -lt 300; sleep 0.1; done &&
    web_get /api/sources >busy.json && jq -e ".busy == true" busy.json &&
    jq -c ".sources[] | select(.name == \"sales\") | {status, phase, tables}" busy.json >actual &&
    echo "{\"status\":\"running\",\"phase\":\"lock_waiting\",\"tables\":[{\"name\":\"sales\",\"rows\":4}]}" >expect &&
    test_cmp expect actual &&
    i=0 && until curl -sf "$WEB_URL/api/runs/$id" | jq -r .log | grep -q "Waiting for lock"; do
        i=$((i + 1)); test $i -lt 300; sleep 0.1; done &&
    touch release && wait $holder &&
    wait_run "$id" &&
    jq -e ".status == \"completed\" and .rows == 5" run.json &&
    jq -r .log run.json >log && test_grep "Lock acquired" log &&
    web_get /api/sources >src.json &&
    jq -e ".sources[] | select(.name == \"sales\") | .rows == 5" src.json
'

test_expect_success 'a failing sync reports its error (run, source row, history)' '
    web_post /api/sources/broken/sync "{}" >post.out &&
    test "$(tail -1 post.out)" = 202 &&
    id=$(head -1 post.out | jq -r .run_id) && wait_run "$id" &&
    jq -e ".status == \"failed\" and .exit_code == 1" run.json &&
    jq -r .error run.json >err && test_grep "missing.csv" err &&
    web_get /api/sources >src.json &&
    jq -r ".sources[] | select(.name == \"broken\") | .status" src.json >actual &&
    echo failed >expect && test_cmp expect actual &&
    jq -r ".sources[] | select(.name == \"broken\") | .error" src.json >err && test_grep "missing.csv" err &&
    web_get /api/sources/broken >b.json && jq -e ".history[0].status == \"failed\"" b.json
'

test_expect_success 'sync bodies are checked: unknown keys, bad select, unknown source' '
    web_post /api/sources/sales/sync "{\"fullrefresh\": true}" >out && test "$(tail -1 out)" = 400 &&
    test_grep "unknown key" out &&
    web_post /api/sources/sales/sync "{\"select\": [\"--dry-run\"]}" >out && test "$(tail -1 out)" = 400 &&
    web_post /api/sources/nope/sync "{}" >out && test "$(tail -1 out)" = 404 &&
    curl -s -o /dev/null -w "%{http_code}\n" "$WEB_URL/api/sources/sales/sync" >code && echo 405 >expect && test_cmp expect code
'

test_expect_success 'full refresh with select runs dango sync --full-refresh --select' '
    web_post /api/sources/sales/sync "{\"full_refresh\": true, \"select\": [\"sales\"]}" >post.out &&
    test "$(tail -1 post.out)" = 202 &&
    id=$(head -1 post.out | jq -r .run_id) && wait_run "$id" &&
    jq -c .args run.json >actual &&
    echo "[\"sync\",\"sales\",\"--wait=300\",\"--full-refresh\",\"--yes\",\"--select=sales\"]" >expect && test_cmp expect actual &&
    jq -e ".status == \"completed\"" run.json &&
    q "SELECT count(*) FROM raw_sales.sales" >actual && echo 5 >expect && test_cmp expect actual
'

test_expect_success 'GET /api/models and /api/models/NAME from the dbt artifacts' '
    web_get /api/models >models.json &&
    jq -c ".models[] | select(.name == \"stg_sales\") | {schema, materialized, status, layer}" models.json >actual &&
    echo "{\"schema\":\"staging\",\"materialized\":\"view\",\"status\":\"success\",\"layer\":\"staging\"}" >expect &&
    test_cmp expect actual &&
    web_get /api/models/stg_sales >m.json &&
    jq -e ".raw_code | test(\"source\\\\(\")" m.json &&
    jq -e ".upstream[0].resource_type == \"source\" and (.columns | map(.name) | index(\"amount\")) != null" m.json &&
    test_must_fail curl -sf "$WEB_URL/api/models/nope"
'

test_expect_success 'POST /api/models/NAME/run runs the model (and downstream with Run+)' '
    web_post /api/models/stg_sales/run "{\"downstream\": false}" >post.out &&
    test "$(tail -1 post.out)" = 202 &&
    id=$(head -1 post.out | jq -r .run_id) && wait_run "$id" &&
    jq -e ".status == \"completed\" and .kind == \"run\" and .target == \"stg_sales\"" run.json &&
    jq -r .log run.json >log && test_grep "PASS=1" log &&
    web_post /api/models/stg_sales/run "{\"downstream\": true}" >post.out &&
    id=$(head -1 post.out | jq -r .run_id) && wait_run "$id" &&
    jq -c .args run.json >actual && echo "[\"run\",\"--select\",\"stg_sales+\",\"--wait=300\"]" >expect &&
    test_cmp expect actual &&
    web_get /api/models >models.json &&
    jq -e ".models[] | select(.name == \"stg_sales\") | .status == \"success\" and .last_run != null" models.json &&
    web_post /api/models/stg_sales/run "{\"everything\": 1}" >out && test "$(tail -1 out)" = 400 &&
    web_post /api/models/nope/run "{}" >out && test "$(tail -1 out)" = 404
'

test_expect_success 'a failing model run shows error status and message' '
    echo "select * from nowhere_at_all" >dbt/models/broken_model.sql &&
    dango compile >/dev/null 2>&1 || true &&
    web_post /api/models/broken_model/run "{}" >post.out &&
    test "$(tail -1 post.out)" = 202 &&
    id=$(head -1 post.out | jq -r .run_id) && wait_run "$id" &&
    jq -e ".status == \"failed\"" run.json &&
    web_get /api/models >models.json &&
    jq -r ".models[] | select(.name == \"broken_model\") | .status" models.json >actual &&
    echo error >expect && test_cmp expect actual &&
    jq -r ".models[] | select(.name == \"broken_model\") | .message" models.json >msg && test_grep "nowhere_at_all" msg &&
    jq -e ".models[] | select(.name == \"stg_sales\") | .status == \"success\"" models.json &&
    rm dbt/models/broken_model.sql
'

test_expect_success 'GET /api/lineage: nodes and edges, source to staging' '
    web_get /api/lineage >lin.json &&
    jq -e "[.nodes[] | select(.id == \"model.shop.stg_sales\" and .layer == \"staging\")] | length == 1" lin.json &&
    jq -e "[.edges[] | select(.to == \"model.shop.stg_sales\") | .from] == [\"source.shop.sales.sales\"]" lin.json
'

test_expect_success 'POST /api/query: rows as JSON, the limit, read-only lock-down' '
    web_post /api/query "{\"sql\": \"SELECT id, amount FROM raw_sales.sales ORDER BY id\", \"limit\": 2}" >out &&
    test "$(tail -1 out)" = 200 &&
    head -1 out | jq -c "{rows, row_count, truncated, cols: [.columns[].name]}" >actual &&
    echo "{\"rows\":[[1,9.5],[2,12]],\"row_count\":2,\"truncated\":true,\"cols\":[\"id\",\"amount\"]}" >expect &&
    test_cmp expect actual &&
    web_post /api/query "{\"sql\": \"COPY raw_sales.sales TO '"'"'$TRASH/leak.csv'"'"'\"}" >out &&
    test "$(tail -1 out)" = 400 && test_grep "disabled by configuration" out && test ! -e "$TRASH/leak.csv" &&
    web_post /api/query "{\"sql\": \"SELECT * FROM read_csv('"'"'/etc/passwd'"'"')\"}" >out && test "$(tail -1 out)" = 400 &&
    web_post /api/query "{\"sql\": \"CREATE TABLE x AS SELECT 1\"}" >out && test "$(tail -1 out)" = 400 &&
    test_grep "read-only" out &&
    web_post /api/query "{\"sql\": \"SET enable_external_access = true\"}" >out && test "$(tail -1 out)" = 400 &&
    web_post /api/query "{\"limit\": 5}" >out && test "$(tail -1 out)" = 400 &&
    web_post /api/query "{\"sql\": \"SELECT 1\", \"limit\": 0}" >out && test "$(tail -1 out)" = 400
'

test_expect_success 'GET /api/catalog: schemas, tables, columns and row counts, with its age' '
    web_get /api/catalog >cat.json &&
    jq -e ".busy == false and .age_seconds >= 0 and .size_bytes > 0" cat.json &&
    jq -c ".schemas[] | select(.name == \"raw_sales\") | .tables[] | select(.name == \"sales\") | .rows" cat.json >actual &&
    echo 5 >expect && test_cmp expect actual
'

test_expect_success 'no secret value in any answer' '
    for p in /api/health /api/sources /api/sources/shop_api /api/runs /api/models /api/lineage /api/catalog /; do
        curl -s "$WEB_URL$p"; done >all.out &&
    test_grep "SHOP_API_TOKEN" all.out &&
    test_grep ! "$SHOP_API_TOKEN" all.out &&
    test_grep ! "9f8e7d" all.out
'

test_expect_success 'the page and its assets are served from the binary' '
    curl -sf "$WEB_URL/sources" >page.html && test_grep "/assets/app.js" page.html &&
    curl -sf "$WEB_URL/assets/app.js" >app.js && test_grep "Sync Now" app.js &&
    curl -sf "$WEB_URL/models/stg_sales" >/dev/null &&
    test_must_fail curl -sf "$WEB_URL/assets/nope.js"
'

stop_web; echo $? >"$TRASH/web.rc"
test_expect_success 'SIGTERM stops the server cleanly' '
    echo 0 >expect && test_cmp expect "$TRASH/web.rc" && test_grep "Stopped." "$TRASH/web.out"
'
start_web web2 && web_session
test_expect_success 'the runs and the snapshot outlive a restart' '
    web_get /api/runs >runs.json &&
    jq -e "[.runs[] | select(.origin == \"web\")] | length >= 5" runs.json &&
    web_get /api/sources >src.json && jq -e ".sources[] | select(.name == \"sales\") | .rows == 5" src.json
'
test_expect_success 'a broken sources.yml is an error naming it, and the rest still answers' '
    cp .dango/sources.yml sources.good &&
    printf "  - name: x\n    type: csv\n    csvv: {}\n" >>.dango/sources.yml &&
    curl -s -o out -w "%{http_code}\n" "$WEB_URL/api/sources" >code &&
    cp sources.good .dango/sources.yml &&
    echo 500 >expect && test_cmp expect code &&
    test_grep "sources.yml" out &&
    web_get /api/health >/dev/null && web_get /api/sources >/dev/null
'
stop_web
test_done
