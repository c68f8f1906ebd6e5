#!/usr/bin/env bash
# The page in a real browser: Debian's Chromium, headless, driven by
# playwright-core (tests/browser/web.test.mjs) against a real `dango web`.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/web_lib.sh"

export NODE_PATH="$TESTS_DIR/browser/node_modules"
browser_test() {
    FAIL_SHOT="$TRASH" RELEASE_FILE="$TRASH/release" DANGO_WEB_URL=$WEB_URL \
        timeout 180 node "$TESTS_DIR/browser/web.test.mjs" "$1"
}
# hold the single-writer lock until the browser test creates $TRASH/release
hold_lock() {
    rm -f "$TRASH/release"
    flock -x .dango/state/dbt.lock sh -c "while [ ! -f '$TRASH/release' ]; do sleep 0.1; done" &
    HOLDER=$!
    sleep 0.3
}

test_expect_success 'setup: a synced source, a model, a broken source' '
    test -x /usr/bin/chromium && test -d "$NODE_PATH/playwright-core" &&
    dango init shop >/dev/null && cd shop &&
    printf "id,day,amount\n1,2024-01-01,9.50\n2,2024-01-02,12.00\n" >data/sales.csv &&
    dango source add csv --name sales --path data/sales.csv >/dev/null &&
    printf "  - name: broken\n    type: csv\n    csv:\n      path: data/missing.csv\n" >>.dango/sources.yml &&
    dango sync sales >/dev/null && dango generate >/dev/null && dango run >/dev/null
'
cd shop || exit 1
start_web web

printf "3,2024-01-03,1.25\n4,2024-01-04,2.50\n" >>data/sales.csv
hold_lock
test_expect_success 'Sources: Sync Now shows the live phase, then the new row count' '
    browser_test sources-sync
'
wait $HOLDER

test_expect_success 'Sources: a failing sync shows its error in the row' '
    browser_test sync-error
'

test_expect_success 'Sources: full refresh asks first, showing what it replaces' '
    browser_test full-refresh
'

hold_lock
test_expect_success 'Models: Run shows the model running, then its new status' '
    browser_test model-run
'
wait $HOLDER

test_expect_success 'Lineage: click a node, its upstream is highlighted, Open goes to the model' '
    browser_test lineage
'

test_expect_success 'Query: results, CSV download, read-only refusal' '
    browser_test query
'

test_expect_success 'every page renders without errors' '
    browser_test pages
'
stop_web
test_done
