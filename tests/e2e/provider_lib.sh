# Helpers for the catalogue's preset tests (t3020-t3049): one imitation of a
# provider's API (tests/fixtures/provider_api.py) per test script.
#   start_provider NAME   starts it; $PAPI is its base URL, $PLOG its log
#   pmark / plog_since N  the log lines after mark N (METHOD /path?query auth=... body=...)
#   padd N                N newer records; plimit N: the next N requests get the provider's 429
start_provider() {
    command -v python3 >/dev/null || { echo "python3 is needed for the provider imitations" >&2; return 1; }
    python3 "$SRC_DIR/tests/fixtures/provider_api.py" "$1" "$TRASH/$1.port" "$TRASH/$1.log" &
    wait_for_file "$TRASH/$1.port" || return 1
    PAPI=http://127.0.0.1:$(cat "$TRASH/$1.port")
    PLOG=$TRASH/$1.log
    touch "$PLOG"
}
pmark() { wc -l <"$PLOG"; }
plog_since() { tail -n +$(( $1 + 1 )) "$PLOG"; }
padd() { curl -s -X POST "$PAPI/_control/add?n=$1" >/dev/null; }
plimit() { curl -s -X POST "$PAPI/_control/ratelimit?n=${1:-1}" >/dev/null; }

# A project p with .dango/sources.yml holding the given source entry (YAML
# lines, indented as under `sources:`) and .env with the given lines.
new_project() {
    dango init p >/dev/null </dev/null && cd p &&
    printf 'version: "1.0"\nsources:\n' >.dango/sources.yml &&
    printf '%s\n' "$@" >.env
}

# The four checks every preset gets, from variables the script sets:
#   SRC        the source's name; its entry is appended to sources.yml from ENTRY
#   TABLE      a raw table of it; FIRST its row count after the first sync
#   REQ_FIRST  an extended regex a request of the first sync matches (the log line)
#   SELECT     a query over the first sync's rows; EXPECT its CSV output (printf format)
#   REQ_NEXT   a regex a request of the re-sync matches (after 2 newer records), NEXT the
#              table's row count then
#   BAD        a sed command that breaks the credentials; AUTH_ERR a regex of stderr
#   LIMITED    a regex of the output of a sync whose first request gets the provider's 429
#              (it is retried, the sync succeeds); LIMIT_FAILS=1: it fails (RateLimitError)
preset_tests() {
    test_expect_success "$SRC: first sync" '
        printf "%s\n" "$ENTRY" | sed "s|@API@|$PAPI|" >>.dango/sources.yml &&
        m=$(pmark) && dango sync $SRC >out 2>&1 &&
        test_grep "Loaded $FIRST rows\? into raw_$SRC.$TABLE\$" out &&
        plog_since $m >reqs && grep -E "$REQ_FIRST" reqs >/dev/null &&
        q "$SELECT" >v && printf "$EXPECT" >expect && test_cmp expect v
    '
    test_expect_success "$SRC: the next sync asks only for newer data" '
        padd 2 && m=$(pmark) && dango sync $SRC >out 2>&1 &&
        plog_since $m >reqs && grep -E "$REQ_NEXT" reqs >/dev/null &&
        ! grep -E "$REQ_FIRST" reqs &&
        q "SELECT count(*) FROM raw_$SRC.$TABLE" >v && echo "$NEXT" >expect && test_cmp expect v
    '
    test_expect_success "$SRC: the provider's rate limit" '
        plimit 1 &&
        if [ -n "${LIMIT_FAILS:-}" ]; then
            test_expect_code 1 dango sync $SRC >out 2>&1
        else
            dango sync $SRC >out 2>&1 && test_grep "Sync complete" out
        fi &&
        grep -E "$LIMITED" out >/dev/null
    '
    test_expect_success "$SRC: bad credentials are an AuthenticationError with the provider's words; nothing changes" '
        q "SELECT count(*) FROM raw_$SRC.$TABLE" >before &&
        sed -i "$BAD" .dango/sources.yml .env &&
        test_expect_code 1 dango sync $SRC >out 2>err &&
        grep -E "$AUTH_ERR" err >/dev/null &&
        q "SELECT count(*) FROM raw_$SRC.$TABLE" >after && test_cmp before after
    '
}

# ppages N: pages of at most N records from now on; plimit_after K N: the
# N requests after the next K get the provider's 429 (a page mid-way).
ppages() { curl -s -X POST "$PAPI/_control/pagesize?n=$1" >/dev/null; }
plimit_after() { curl -s -X POST "$PAPI/_control/ratelimit?n=${2:-1}&after=$1" >/dev/null; }
