#!/usr/bin/env bash
# Slack: conversations.list and history with cursors, thread replies, the
# `oldest` of the next sync, invalid_auth inside an HTTP 200, a 429.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

start_provider slack || exit 1
new_project SLACK_BOT_TOKEN=xoxb-test BAD=xoxb-bad

test_expect_success 'first sync: channels, their messages (paged), thread replies' '
    cat >>.dango/sources.yml <<-EOF &&
	  - name: sl
	    type: slack
	    slack:
	      start_date: "2024-06-01"
	      base_url: $PAPI
	      request_backoff_factor: 0.05
	EOF
    m=$(pmark) && dango sync sl >out &&
    test_grep "Loaded 2 rows into raw_sl.channels" out && test_grep "Loaded 10 rows into raw_sl.messages" out &&
    test_grep "Loaded 6 rows into raw_sl.replies" out &&
    plog_since $m | cut -d" " -f2 >reqs &&
    grep -c "^/api/conversations.history?channel=C01&oldest=1717200000&limit=200" reqs >n && echo 1 >expect && test_cmp expect n &&
    grep "^/api/conversations.replies" reqs | sort >r &&
    printf "%s\n" "/api/conversations.replies?channel=C01&ts=1717207200.000001&limit=200" \
                  "/api/conversations.replies?channel=C02&ts=1717207200.000002&limit=200" >expect && test_cmp expect r &&
    q "SELECT _channels_id, ts, text FROM raw_sl.messages WHERE text LIKE '"'"'message 5%'"'"' ORDER BY 1" >v &&
    printf "C01,1717218000.000001,message 5 in C01\nC02,1717218000.000002,message 5 in C02\n" >expect && test_cmp expect v &&
    q "SELECT text FROM raw_sl.replies WHERE _messages__channels_id = '"'"'C01'"'"' ORDER BY ts" >v &&
    printf "message 2 in C01\nreply 1\nreply 2\n" >expect && test_cmp expect v
'

test_expect_success 'incremental: history asks only for messages after the newest ts' '
    padd 1 && m=$(pmark) && dango sync sl >out &&
    plog_since $m | cut -d" " -f2 | grep history >reqs &&
    printf "%s\n" "/api/conversations.history?channel=C01&oldest=1717218000.000002&limit=200" \
                  "/api/conversations.history?channel=C02&oldest=1717218000.000002&limit=200" >expect && test_cmp expect reqs &&
    test_grep "Loaded 2 rows into raw_sl.messages" out &&
    q "SELECT count(*) FROM raw_sl.messages" >v && echo 12 >expect && test_cmp expect v
'

test_expect_success 'a 429 is retried after its Retry-After' '
    plimit 1 && dango sync sl >out 2>&1 &&
    test_grep "HTTP 429 from $PAPI/api/conversations.list?.*Retry-After asks for 1 s\|waiting 1 s as Retry-After asks" out &&
    test_grep "Sync complete" out
'

test_expect_success 'invalid_auth (HTTP 200, ok: false) is an AuthenticationError; nothing changes' '
    sed -i "s|      start_date: \"2024-06-01\"|      bot_token_env: BAD\n      start_date: \"2024-06-01\"|" .dango/sources.yml &&
    q "SELECT count(*) FROM raw_sl.messages" >before &&
    test_expect_code 1 dango sync sl >out 2>err &&
    test_grep "^AuthenticationError: The API refused the credentials (HTTP 200 from $PAPI/api/conversations.list" err &&
    test_grep "check the environment variable BAD" err && test_grep "The API says: invalid_auth" err &&
    q "SELECT count(*) FROM raw_sl.messages" >after && test_cmp before after
'

test_done
