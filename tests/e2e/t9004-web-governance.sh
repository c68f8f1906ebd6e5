#!/usr/bin/env bash
# Governance in `dango web`: open schema drift per source (breaking and
# additive), accepting it from the API as `dango governance accept` does,
# the overview's count of breaking drift, and the OAuth credentials' status
# with days to expiry, never their tokens.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/web_lib.sh"

export DANGO_CLOCK_SPEED=0 DANGO_NOW=2026-03-28T12:00:00Z

test_expect_success 'setup: breaking drift in orders, additive drift in users, two credentials' '
    dango init p >/dev/null </dev/null && cd p &&
    printf "id,amount,currency\n1,10,EUR\n2,20,USD\n" >data/orders.csv &&
    printf "id,name\n1,ann\n" >data/users.csv &&
    dango source add csv --name orders --path data/orders.csv >/dev/null &&
    dango source add csv --name users --path data/users.csv >/dev/null &&
    dango sync >/dev/null 2>&1 &&
    printf "id,amount\n3,10.5 EUR\n" >data/orders.csv &&
    printf "id,name,email\n1,ann,a@example.com\n" >data/users.csv &&
    dango sync --full-refresh --yes --allow-schema-changes >sync.out 2>&1 &&
    dango governance drift-report >report.out; test $? -le 1 &&
    test_grep "orders" report.out &&
    mkdir -p .dango/oauth && chmod 700 .dango/oauth &&
    cat >.dango/oauth/fb_ads.json <<-EOF &&
	{"provider": "facebook_ads", "account": "ads@example.com", "access_token": "EAAB-long-lived-SECRET-0001",
	 "token_type": "bearer", "expires_at": "2026-04-02T18:00:00Z", "created_at": "2026-02-01T00:00:00Z"}
	EOF
    cat >.dango/oauth/google.json <<-EOF &&
	{"provider": "google", "access_token": "ya29-SECRET-0002", "refresh_token": "1//SECRET-REFRESH-0003",
	 "expires_at": "2026-03-28T13:00:00Z", "token_url": "https://oauth2.googleapis.com/token"}
	EOF
    chmod 600 .dango/oauth/*.json
'
cd p || exit 1
start_web web --no-scheduler

test_expect_success 'GET /api/drift: open drift per source, breaking first-class' '
    web_get /api/drift >d.json &&
    jq -r ".open, .open_breaking" d.json >out && printf "3\n2\n" >expect && test_cmp expect out &&
    jq -r ".sources[] | [.source, .open, .open_breaking, .blocks_models, .summary] | @tsv" d.json >out &&
    printf "orders\t2\t2\ttrue\torders.amount BIGINT -> VARCHAR, orders.currency removed\nusers\t1\t0\tfalse\t\n" >expect &&
    test_cmp expect out &&
    jq -r ".sources[].events[] | [.table, .column, .change, .old_type, .new_type, .breaking, .first_seen] | @tsv" d.json >out &&
    cat >expect <<-EOF &&
	orders	amount	type_changed	BIGINT	VARCHAR	true	2026-03-28T12:00:00Z
	orders	currency	column_removed	VARCHAR		true	2026-03-28T12:00:00Z
	users	email	column_added		VARCHAR	false	2026-03-28T12:00:00Z
	EOF
    test_cmp expect out &&
    web_get /api/drift/users | jq -r ".source, .open" >out && printf "users\n1\n" >expect && test_cmp expect out
'

test_expect_success 'the overview counts the breaking drift' '
    web_get /api/overview | jq -c .drift >out &&
    echo "{\"open\":3,\"open_breaking\":2,\"blocked_sources\":[\"orders\"]}" >expect && test_cmp expect out
'

test_expect_success 'POST /api/drift/orders/accept accepts it, as dango governance accept does' '
    web_session &&
    web_post /api/drift/orders/accept "{}" >resp &&
    test "$(tail -1 resp)" = 200 &&
    head -1 resp | jq -r "[.source, .accepted, .accepted_by] | @tsv" >out &&
    printf "orders\t2\t%s (web)\n" "${USER:-$(id -un)}" >expect && test_cmp expect out &&
    web_get /api/drift | jq -r ".sources[].source" >out && echo users >expect && test_cmp expect out &&
    dango governance drift-report orders >out && test_grep "No open schema drift" out &&
    web_get "/api/drift?all=1" | jq -r ".sources[0].events[0] | [.status, .accepted_at] | @tsv" >out &&
    printf "accepted\t2026-03-28T12:00:00Z\n" >expect && test_cmp expect out
'

test_expect_success 'accepting again, or an unknown source, is 404; bad bodies 400; GET 405' '
    web_post /api/drift/orders/accept "{}" >resp && test "$(tail -1 resp)" = 404 &&
    head -1 resp | jq -r .error >out && echo "no open drift for source '"'orders'"'" >expect && test_cmp expect out &&
    web_post /api/drift/users/accept "{\"tabel\": \"users\"}" >resp && test "$(tail -1 resp)" = 400 &&
    test "$(curl -s -o /dev/null -w "%{http_code}" "$WEB_URL/api/drift/users/accept")" = 405 &&
    # no session, no CSRF token: refused
    test "$(curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" -X POST -d "{}" \
        "$WEB_URL/api/drift/users/accept")" = 403 &&
    web_get /api/drift | jq -r ".open" >out && echo 1 >expect && test_cmp expect out
'

test_expect_success 'GET /api/oauth: state and days to expiry' '
    web_get /api/oauth >o.json &&
    jq -r ".credentials[] | [.name, .provider, .account, .state, .refreshable, .days_to_expiry, .expiry, .renew_command] | @tsv" o.json >out &&
    cat >expect <<-EOF &&
	fb_ads	facebook_ads	ads@example.com	expiring	false	5	expires in 5 days (on 2026-04-02)	dango oauth setup facebook_ads --name fb_ads
	google	google		valid	true	0	renews automatically (access token expires in 60 minutes)	dango oauth setup google
	EOF
    test_cmp expect out
'

test_expect_success 'no token appears in any answer' '
    for r in /api/oauth /api/drift /api/overview /api/health /api/sources /api/schedules /api/runs; do
        web_get $r >>all.json || return 1
    done &&
    test_grep ! SECRET all.json &&
    test_grep ! access_token all.json
'
stop_web
test_done
