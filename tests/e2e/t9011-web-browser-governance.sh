#!/usr/bin/env bash
# The Schedules and Governance pages in a real browser (Debian's Chromium,
# headless, driven by playwright-core) against a real `dango web` running
# its scheduler: Run now shows the run queued, then its result and log;
# Disable/Enable; accepting drift makes it disappear; the OAuth token shows
# its days to expiry and no secret.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/web_lib.sh"

export NODE_PATH="$TESTS_DIR/browser/node_modules"
browser_test() {
    FAIL_SHOT="$TRASH" DANGO_WEB_URL=$WEB_URL timeout 180 node "$TESTS_DIR/browser/web.test.mjs" "$1"
}

test_expect_success 'setup: schedules, breaking and additive drift, an expiring token' '
    test -x /usr/bin/chromium && test -d "$NODE_PATH/playwright-core" &&
    dango init p >/dev/null </dev/null && cd p &&
    printf "id,amount,currency\n1,10,EUR\n2,20,USD\n" >data/orders.csv &&
    printf "id,name\n1,ann\n" >data/users.csv &&
    dango source add csv --name orders --path data/orders.csv >/dev/null &&
    dango source add csv --name users --path data/users.csv >/dev/null &&
    dango sync >/dev/null 2>&1 &&
    printf "id,amount\n3,10.5 EUR\n" >data/orders.csv &&
    printf "id,name,email\n1,ann,a@example.com\n" >data/users.csv &&
    dango sync --full-refresh --yes --allow-schema-changes >/dev/null 2>&1 &&
    cat >.dango/schedules.yml <<-EOS &&
	version: "1.0"
	schedules:
	  - name: tick
	    type: script
	    cron: "0 0 1 1 *"
	    timezone: UTC
	    command: "echo hello from tick"
	  - name: nightly
	    type: sync_only
	    cron: "0 0 1 1 *"
	    sources: [users]
	EOS
    mkdir -p .dango/oauth && chmod 700 .dango/oauth &&
    printf "{\"provider\": \"facebook_ads\", \"account\": \"ads@example.com\", \"access_token\": \"EAAB-SECRET-1\", \"expires_at\": \"%s\"}\n" \
        "$(date -u -d "+5 days +6 hours" +%Y-%m-%dT%H:%M:%SZ)" >.dango/oauth/fb_ads.json &&
    chmod 600 .dango/oauth/fb_ads.json
'
cd p || exit 1
start_web web

test_expect_success 'Schedules: Run now shows the run, then its result and log; Disable and Enable' '
    browser_test schedule-run &&
    test_grep "tick: succeeded" "$TRASH/web.out"
'

test_expect_success 'Governance: accept drift from the page and see it disappear' '
    browser_test drift-accept &&
    dango governance drift-report orders >out && test_grep "No open schema drift" out
'

test_expect_success 'the new pages render without errors' '
    PAGES=/,/schedules,/governance,/runs browser_test pages
'
stop_web
test_done
