#!/usr/bin/env bash
# How the API client fails and retries: retries are told (Retry-After
# capped by max_retry_wait), a redirect loop, too many redirects, a 4xx,
# a TLS error and a page over max_page_mb are not retried; an HTML page or
# bad UTF-8 is named by its URL; RUNTIME__LOG_LEVEL=DEBUG logs every
# request with secrets masked; .dlt/config.toml [runtime] sets the retries.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
printf 'version: "1.0"\nsources:\n' >.dango/sources.yml
printf 'QKEY=k/123+\nTOK=secret-token\n' >.env
add_source() {
    # add_source NAME [BASE] <<YAML
    { cat .dango/sources.yml; printf '  - name: %s\n    type: rest_api\n    rest_api:\n      base_url: %s\n' "$1" "${2:-$API}"; cat; } >s.tmp &&
    mv s.tmp .dango/sources.yml
}

test_expect_success 'each retry is told, with its wait and attempt' '
    add_source flaky <<YAML &&
      request_backoff_factor: 0.05
      endpoints:
        - {name: a, path: /flaky429}
        - {name: b, path: /flaky500}
YAML
    dango sync flaky >out 2>err && strip_clock <out >o &&
    test_grep "^HTTP 429 from $API/flaky429, waiting 1 s as Retry-After asks, attempt 2/5$" o &&
    test_grep "^HTTP 500 from $API/flaky500, retrying in 0.05 s, attempt 2/5$" o &&
    test_grep "^HTTP 500 from $API/flaky500, retrying in 0.1 s, attempt 3/5$" o &&
    test_grep "Loaded 3 rows into raw_flaky.b" o
'

test_expect_success 'a long Retry-After is capped by max_retry_wait, and said' '
    add_source slowdown <<YAML &&
      max_retry_wait: 0.2
      endpoints:
        - {name: a, path: "/retry_after?s=120"}
YAML
    dango sync slowdown >out 2>err && strip_clock <out >o &&
    test_grep "^HTTP 429 from $API/retry_after?s=120, Retry-After asks for 120 s; waiting 0.2 s (max_retry_wait), attempt 2/5$" o &&
    test_grep "Loaded 3 rows into raw_slowdown.a" o
'

test_expect_success 'a redirect loop fails at once, and is not retried' '
    add_source loop <<YAML &&
      request_backoff_factor: 0.05
      endpoints:
        - {name: a, path: /redirect_loop}
YAML
    m=$(mark) && test_expect_code 1 dango sync loop >out 2>err &&
    test_grep "^redirect loop: GET $API/redirect_loop leads back to $API/redirect_loop (not retried)" err &&
    log_since $m | wc -l >n && echo 1 >expect && test_cmp expect n
'

test_expect_success 'too many redirects: six requests, no retry' '
    add_source chain <<YAML &&
      request_backoff_factor: 0.05
      endpoints:
        - {name: a, path: /redirect_chain}
YAML
    m=$(mark) && test_expect_code 1 dango sync chain >out 2>err &&
    test_grep "^too many redirects (more than 5) from GET $API/redirect_chain (not retried)" err &&
    log_since $m | wc -l >n && echo 6 >expect && test_cmp expect n
'

test_expect_success 'a 404 is not retried' '
    add_source missing <<YAML &&
      request_backoff_factor: 0.05
      endpoints:
        - {name: a, path: /no/such/thing}
YAML
    m=$(mark) && test_expect_code 1 dango sync missing >out 2>err &&
    test_grep "^HTTP 404 from $API/no/such/thing: " err && test_grep ! "attempts" err &&
    log_since $m | wc -l >n && echo 1 >expect && test_cmp expect n
'

test_expect_success 'a TLS error is not retried' '
    add_source tls "https://127.0.0.1:$(cat "$TRASH/port")" <<YAML &&
      request_backoff_factor: 5
      endpoints:
        - {name: a, path: /single}
YAML
    test_expect_code 1 dango sync tls >out 2>err &&
    test_grep "^TLS error: GET https://127.0.0.1:[0-9]*/single: .* (not retried)" err &&
    test_grep ! "attempts" err && test_grep ! "retrying" out
'

test_expect_success 'a page over max_page_mb is an error naming the URL and the key' '
    add_source bigpage <<YAML &&
      max_page_mb: 0.01
      endpoints:
        - {name: a, path: "/big?kb=50"}
YAML
    m=$(mark) && test_expect_code 1 dango sync bigpage >out 2>err &&
    test_grep "^the response of GET $API/big?kb=50 is larger than 0.01 MB (max_page_mb); raise max_page_mb" err &&
    log_since $m | wc -l >n && echo 1 >expect && test_cmp expect n &&
    test_must_fail dango query "SELECT * FROM raw_bigpage.a" &&
    sed -i "s/max_page_mb: 0.01/max_page_mb: 1/" .dango/sources.yml &&
    dango sync bigpage >out && test_grep "Loaded [0-9]* rows into raw_bigpage.a" out
'

test_expect_success 'an HTML answer says so, with the URL and content type' '
    add_source html <<YAML &&
      endpoints:
        - {name: a, path: /html}
YAML
    test_expect_code 1 dango sync html >out 2>err &&
    test_grep "^GET $API/html answered text/html; charset=utf-8, not JSON (an HTML page: is base_url the API.s address, and the path right?): <!DOCTYPE html> <html><head><title>Sign in" err &&
    test_grep ! "byte 0" err &&
    dango source test html >out 2>&1 || : &&
    test_grep "answered text/html" out
'

test_expect_success 'bad UTF-8 from an API names the URL, not a spool file' '
    add_source badutf <<YAML &&
      endpoints:
        - {name: a, path: /badutf8}
YAML
    test_expect_code 1 dango sync badutf >out 2>err &&
    test_grep "^the response of GET $API/badutf8 is not valid UTF-8 (byte 28)" err &&
    test_grep ! "dango-rest" err
'

test_expect_success 'RUNTIME__LOG_LEVEL=DEBUG logs every request, secrets masked' '
    add_source dbg <<YAML &&
      auth_type: api_key
      api_key_env: QKEY
      api_key_location: query
      endpoints:
        - {name: rows, path: /auth/apikey_query, paginator: {type: offset, limit: 3}}
YAML
    RUNTIME__LOG_LEVEL=DEBUG dango sync dbg >out 2>err && strip_clock <out >o &&
    grep "^DEBUG GET" o | sed -E "s/, [0-9]+ ms$//" >reqs &&
    cat >expect <<-EOF &&
	DEBUG GET $API/auth/apikey_query?limit=3&offset=0&api_key=*** -> HTTP 200, 275 bytes
	DEBUG GET $API/auth/apikey_query?limit=3&offset=3&api_key=*** -> HTTP 200, 11 bytes
	EOF
    test_cmp expect reqs &&
    test_grep ! "k/123" o && test_grep ! "k%2F123" o && test_grep ! "k/123" err && test_grep ! "k%2F123" err &&
    dango sync dbg >out && test_grep ! "^.*DEBUG" out
'

test_expect_success '.dlt/config.toml [runtime] request_max_attempts and backoff are honoured; the environment and the source override them' '
    add_source cfg <<YAML &&
      endpoints:
        - {name: a, path: /broken}
YAML
    mkdir -p .dlt && printf "[runtime]\nrequest_max_attempts = 2\nrequest_backoff_factor = 0.05\n" >.dlt/config.toml &&
    m=$(mark) && test_expect_code 1 dango sync cfg >out 2>err &&
    test_grep "^HTTP 500 from $API/broken (after 2 attempts)" err && strip_clock <out >o &&
    test_grep "^HTTP 500 from $API/broken, retrying in 0.05 s, attempt 2/2$" o &&
    log_since $m | wc -l >n && echo 2 >expect && test_cmp expect n &&
    RUNTIME__REQUEST_MAX_ATTEMPTS=3 test_expect_code 1 dango sync cfg >out 2>err &&
    test_grep "(after 3 attempts)" err &&
    sed -i "s|        - {name: a, path: /broken}|        - {name: a, path: /broken}\n      request_max_attempts: 1|" .dango/sources.yml &&
    RUNTIME__REQUEST_MAX_ATTEMPTS=3 test_expect_code 1 dango sync cfg >out 2>err &&
    test_grep "^HTTP 500 from $API/broken: " err
'

test_expect_success 'a [runtime] value that is not a number is said, not ignored' '
    printf "[runtime]\nrequest_backoff_factor = fast\n" >.dlt/config.toml &&
    test_expect_code 1 dango sync cfg >out 2>err &&
    test_grep "runtime.request_backoff_factor = .fast. (.dlt/config.toml) is not a number >= 0; using 1" err
'

test_done
