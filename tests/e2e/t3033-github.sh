#!/usr/bin/env bash
# GitHub against an imitation of its REST API: issues since the cursor,
# pages through the Link header, "Bad credentials", and its primary rate
# limit (a 403 with x-ratelimit-remaining: 0, waited out until
# x-ratelimit-reset, as GitHub documents it; other 403s are not retried).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

new_project GITHUB_TOKEN=ghp_test

start_provider github || exit 1
ppages 2
SRC=gh TABLE=issues FIRST=5
ENTRY="  - name: gh
    type: github
    github:
      access_token_env: GITHUB_TOKEN
      repository: acme/widgets
      endpoints: [issues]
      start_date: \"2024-06-01T00:00:00Z\"
      base_url: @API@
      request_backoff_factor: 0.05"
REQ_FIRST='^GET /repos/acme/widgets/issues\?state=all&per_page=100&sort=updated&direction=asc&since=2024-06-01T00%3A00%3A00Z auth=Bearer'
SELECT="SELECT number, title, user__login FROM raw_gh.issues ORDER BY number LIMIT 2"
EXPECT='1,Issue 1,u1\n2,Issue 2,u2\n'
REQ_NEXT='since=2024-06-01T05%3A00%3A00Z' NEXT=7
LIMITED='HTTP 403 from .*/repos/acme/widgets/issues.*no requests left until the rate limit resets'
BAD='s/^GITHUB_TOKEN=.*/GITHUB_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: Bad credentials'
preset_tests

test_expect_success 'the first sync followed the Link pages (page=2, page=3)' '
    grep -c "issues?.*page=" "$PLOG" >n && test "$(cat n)" -ge 2
'

test_expect_success 'a 403 that is not a rate limit (a token without access) is not retried' '
    sed -i "s/^GITHUB_TOKEN=.*/GITHUB_TOKEN=ghp_test/" .env &&
    sed -i "s|repository: acme/widgets|repository: acme/secret|" .dango/sources.yml &&
    m=$(pmark) && test_expect_code 1 dango sync gh >out 2>&1 &&
    test "$(plog_since $m | wc -l)" = 1 &&
    test_grep "Resource not accessible by personal access token" out
'

test_done
