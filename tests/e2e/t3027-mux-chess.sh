#!/usr/bin/env bash
# Mux (video views: a timeframe[] from the cursor to now; basic auth with a
# token id and secret) and Chess.com (public: archives incremental on their
# month URL, games read from each archive URL).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

new_project MUX_TOKEN_ID=mux-id MUX_TOKEN_SECRET=mux-secret

start_provider mux || exit 1
SRC=mx TABLE=video_views FIRST=5
ENTRY="  - name: mx
    type: mux
    mux:
      start_date: \"2024-06-01\"
      base_url: @API@
      request_backoff_factor: 0.05"
REQ_FIRST='^GET /data/v1/video-views\?timeframe%5B%5D=1717200000&timeframe%5B%5D=[0-9]+&order_direction=asc&page=1&limit=100 auth=Basic'
SELECT="SELECT v.id, v.video_title, v.watch_time, (SELECT count(*) FROM raw_mx.assets__playback_ids) FROM raw_mx.video_views v ORDER BY id LIMIT 2"
EXPECT='view001,Video 1,1000,5\nview002,Video 2,2000,5\n'
REQ_NEXT='^GET /data/v1/video-views\?timeframe%5B%5D=1717218000&' NEXT=7
LIMITED='HTTP 429 from .*/data/v1/video-views.*Retry-After'
BAD='s/^MUX_TOKEN_SECRET=.*/MUX_TOKEN_SECRET=bad-token-x9/'
AUTH_ERR='check the environment variables MUX_TOKEN_ID and MUX_TOKEN_SECRET'
preset_tests

start_provider chess || exit 1
test_expect_success 'chess.com: profile, archives, the games of each month' '
    cat >>.dango/sources.yml <<-EOF &&
	  - name: ch
	    type: chess_com
	    chess_com:
	      username: hikaru
	      base_url: $PAPI
	      request_backoff_factor: 0.05
	EOF
    m=$(pmark) && dango sync ch >out &&
    test_grep "Loaded 1 row into raw_ch.players" out && test_grep "Loaded 5 rows into raw_ch.games" out &&
    plog_since $m | cut -d" " -f2 >reqs &&
    printf "%s\n" /pub/player/hikaru /pub/player/hikaru/games/archives /pub/player/hikaru/games/2024/04 /pub/player/hikaru/games/2024/05 >expect &&
    test_cmp expect reqs &&
    q "SELECT uuid, white__rating, black__username, white__result FROM raw_ch.games ORDER BY uuid LIMIT 2" >v &&
    printf "g-0001,3201,opponent1,win\ng-0002,3202,opponent2,win\n" >expect && test_cmp expect v
'

test_expect_success 'chess.com: the next sync reads the last month again and the new one, not older months' '
    padd 2 && m=$(pmark) && dango sync ch >out &&
    plog_since $m | cut -d" " -f2 >reqs &&
    printf "%s\n" /pub/player/hikaru /pub/player/hikaru/games/archives /pub/player/hikaru/games/2024/05 /pub/player/hikaru/games/2024/06 >expect &&
    test_cmp expect reqs &&
    q "SELECT count(*) FROM raw_ch.games" >v && echo 7 >expect && test_cmp expect v
'

test_expect_success 'chess.com: a 429 (parallel requests) is retried' '
    plimit 1 && dango sync ch >out 2>&1 && test_grep "HTTP 429 from $PAPI/pub/player/hikaru, retrying" out && test_grep "Sync complete" out
'

test_expect_success 'chess.com: an unknown player is the API'"'"'s 404 message (a public API: no credentials to fail)' '
    sed -i "s/username: hikaru/username: nobody_here/" .dango/sources.yml &&
    test_expect_code 1 dango sync ch >out 2>err &&
    test_grep "HTTP 404 from $PAPI/pub/player/nobody_here: {\"code\":0,\"message\":\"User \\\\\"nobody_here\\\\\" not found.\"}" err
'

test_done
