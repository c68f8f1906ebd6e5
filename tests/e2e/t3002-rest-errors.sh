#!/usr/bin/env bash
# rest_api failures: authentication, rate limits, retries, timeouts, bad
# JSON, a data_selector that finds no list; messages name the URL without
# secrets, and nothing is committed.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
printf 'version: "1.0"\nsources:\n' >.dango/sources.yml
add_source() {
    { cat .dango/sources.yml; printf '  - name: %s\n    type: rest_api\n    rest_api:\n      base_url: %s\n      request_backoff_factor: 0.05\n' "$1" "$API"; cat; } >s.tmp &&
    mv s.tmp .dango/sources.yml
}
printf 'BAD_TOKEN=wrong-token\nQKEY=sekrit-key-42\n' >.env

test_expect_success '401: AuthenticationError naming the variable, nothing committed' '
    add_source a401 <<YAML &&
      auth_type: bearer
      auth_token_env: BAD_TOKEN
      endpoints:
        - {name: rows, path: /auth/bearer}
YAML
    test_expect_code 1 dango sync a401 >out 2>err &&
    test_grep "✗ Sync failed for a401" out &&
    head -1 err >e && echo "AuthenticationError: Invalid API key (HTTP 401 from $API/auth/bearer); check the environment variable BAD_TOKEN (dango source list --verbose shows it masked)" >expect &&
    test_cmp expect e && test_grep "Nothing was changed for a401" out &&
    test_must_fail dango query "SELECT * FROM raw_a401.rows"
'

test_expect_success '403 is an AuthenticationError too; a key in the query is masked' '
    add_source a403 <<YAML &&
      auth_type: api_key
      api_key_env: QKEY
      api_key_location: query
      endpoints:
        - {name: rows, path: /forbidden}
YAML
    test_expect_code 1 dango sync a403 >out 2>err &&
    test_grep "^AuthenticationError: Access denied.*(HTTP 403 from $API/forbidden?api_key=\*\*\*); check the environment variable QKEY" err &&
    test_grep ! "sekrit" err && test_grep ! "sekrit" out
'

test_expect_success 'a missing secret is named before any request' '
    add_source nosecret <<YAML &&
      auth_type: bearer
      auth_token_env: NOT_SET_ANYWHERE
      endpoints:
        - {name: rows, path: /auth/bearer}
YAML
    m=$(mark) && test_expect_code 1 dango sync nosecret >out 2>err &&
    test_grep "the environment variable NOT_SET_ANYWHERE is not set" err && log_since $m >l && test_must_fail test -s l
'

test_expect_success '429 after retries: RateLimitError with hints; Retry-After obeyed' '
    add_source rl <<YAML &&
      request_max_attempts: 2
      endpoints:
        - {name: rows, path: /ratelimit}
YAML
    m=$(mark) && start=$(date +%s) &&
    test_expect_code 1 dango sync rl >out 2>err && end=$(date +%s) &&
    test_grep "✗ Sync failed for rl" out &&
    head -1 err >e && echo "RateLimitError: Too many requests (HTTP 429 from $API/ratelimit, 2 attempts)" >expect && test_cmp expect e &&
    test_grep "dango sync rl --workers 1" err && test_grep "rate_limit_delay: 1.0" err &&
    log_since $m | wc -l >n && echo 2 >expect && test_cmp expect n &&
    test $((end - start)) -ge 1
'

test_expect_success 'a 429 then success, and 500s then success, load normally' '
    add_source flaky <<YAML &&
      endpoints:
        - {name: a, path: /flaky429}
        - {name: b, path: /flaky500}
YAML
    m=$(mark) && dango sync flaky >out 2>err &&
    test_grep "Loaded 3 rows into raw_flaky.a" out && test_grep "Loaded 3 rows into raw_flaky.b" out &&
    log_since $m | cut -d" " -f2 >reqs && printf "/flaky429\n/flaky429\n/flaky500\n/flaky500\n/flaky500\n" >expect && test_cmp expect reqs
'

test_expect_success 'a server error after retries names the status and the URL' '
    add_source broken <<YAML &&
      request_max_attempts: 3
      endpoints:
        - {name: rows, path: /broken}
YAML
    test_expect_code 1 dango sync broken >out 2>err &&
    test_grep "^HTTP 500 from $API/broken (after 3 attempts): {\"error\":\"database on fire\"}" err
'

test_expect_success 'a timeout names the URL' '
    add_source slow <<YAML &&
      timeout: 1
      request_max_attempts: 1
      endpoints:
        - {name: rows, path: /slow}
YAML
    test_expect_code 1 dango sync slow >out 2>err &&
    test_grep "^request timed out after 1s: GET $API/slow" err
'

test_expect_success 'a network error names the URL' '
    add_source down <<YAML &&
      request_max_attempts: 1
      endpoints:
        - {name: rows, path: /x}
YAML
    sed -i "s|base_url: $API\$|base_url: http://127.0.0.1:1|" .dango/sources.yml &&
    test_expect_code 1 dango sync down >out 2>err &&
    test_grep "^cannot reach http://127.0.0.1:1/x: " err
'

test_expect_success 'malformed JSON: a clear message, and no partial data from earlier endpoints' '
    add_source bad <<YAML &&
      endpoints:
        - {name: good, path: /single}
        - {name: rows, path: /malformed}
YAML
    test_expect_code 1 dango sync bad >out 2>err &&
    test_grep "^invalid JSON from $API/malformed: invalid JSON at byte 29: unexpected end of input" err &&
    test_must_fail dango query "SELECT * FROM raw_bad.good"
'

test_expect_success 'a data_selector that finds no list' '
    add_source nolist <<YAML &&
      endpoints:
        - {name: rows, path: /notalist, data_selector: data}
        - {name: rows2, path: /single, data_selector: results.items}
YAML
    test_expect_code 1 dango sync nolist >out 2>err &&
    test_grep "^data_selector .data. of endpoint .rows. finds no list in the response of $API/notalist (it finds an object)" err
'

test_expect_success 'config errors name the endpoint' '
    add_source cfg <<YAML &&
      endpoints:
        - {name: rows, path: /single, write_disposition: merge}
        - {name: kids, path: "/x/{resources.nope.id}"}
YAML
    test_expect_code 1 dango sync cfg >out 2>err &&
    test_grep "endpoint .rows.: write_disposition .merge. needs a primary_key" err
'

test_done
