#!/usr/bin/env bash
# Credentials go only to the origin of base_url: a json next link, a Link
# header or a redirect to another origin is followed without the token,
# the api_key query parameter, X-API-Key, basic auth or the configured
# headers (cross_origin: strip, the default), refused (refuse), or given
# them (allow). Two fake APIs on two loopback ports are two origins.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1
"$FIXTURES/api_server" "$TRASH/port2" "$TRASH/api2.log" &
wait_for_file "$TRASH/port2" || exit 1
PORT2=$(cat "$TRASH/port2")
API2=http://127.0.0.1:$PORT2

dango init p >/dev/null </dev/null
cd p
printf 'version: "1.0"\nsources:\n' >.dango/sources.yml
printf 'TOK=tok-s3cr3t-1\nQKEY=qkey-s3cr3t-2\nHKEY=hkey-s3cr3t-3\nUSR=alice\nPW=pw-s3cr3t-4\n' >.env
add_source() {
    { cat .dango/sources.yml; printf '  - name: %s\n    type: rest_api\n    rest_api:\n      base_url: %s\n      request_backoff_factor: 0.05\n' "$1" "$API"; cat; } >s.tmp &&
    mv s.tmp .dango/sources.yml
}
# what the second server saw, and that it never saw a secret
seen2() { cat "$TRASH/api2.log"; }
no_secret_on_2() {
    ! grep -E "s3cr3t|Bearer|Basic|X-Team" "$TRASH/api2.log" || { echo "the second server saw credentials" >&2; return 1; }
}

test_expect_success 'a json next link to another origin: followed without the token and headers' '
    add_source jl <<YAML &&
      auth_type: bearer
      auth_token_env: TOK
      headers: {X-Team: team-s3cr3t-5}
      endpoints:
        - {name: rows, path: "/xo/next?to=$PORT2", paginator: {type: json_link, next_url_path: next}}
YAML
    m=$(mark) && dango sync jl >out 2>err &&
    test_grep "Loaded 25 rows into raw_jl.rows" out &&
    test_grep "points to another origin (http://127.0.0.1:$PORT2): following it without credentials" out &&
    log_since $m >l1 && test_grep "auth=Bearer tok-s3cr3t-1 key=- hdrs=X-Team:team-s3cr3t-5" l1 &&
    seen2 | cut -d" " -f2 >reqs && printf "/next?page=2\n/next?page=3\n" >expect && test_cmp expect reqs &&
    seen2 | grep -c "auth=- key=- hdrs=-" >n && echo 2 >expect && test_cmp expect n &&
    no_secret_on_2 && test_grep ! s3cr3t out && test_grep ! s3cr3t err
'

test_expect_success 'the api_key query parameter is not added to, and is taken off, a foreign link' '
    : >"$TRASH/api2.log" &&
    add_source qk <<YAML &&
      auth_type: api_key
      api_key_env: QKEY
      api_key_location: query
      endpoints:
        - {name: rows, path: "/xo/next?to=$PORT2", paginator: {type: json_link, next_url_path: next}}
YAML
    m=$(mark) && dango sync qk >out 2>err &&
    test_grep "Loaded 25 rows into raw_qk.rows" out &&
    log_since $m | cut -d" " -f2 >l1 && echo "/xo/next?to=$PORT2&api_key=qkey-s3cr3t-2" >expect && test_cmp expect l1 &&
    seen2 | cut -d" " -f2 >reqs && printf "/next?page=2\n/next?page=3\n" >expect && test_cmp expect reqs &&
    no_secret_on_2
'

test_expect_success 'a Link header to another origin: no X-API-Key there' '
    : >"$TRASH/api2.log" &&
    add_source hl <<YAML &&
      auth_type: api_key
      api_key_env: HKEY
      endpoints:
        - {name: rows, path: "/xo/header?to=$PORT2", paginator: {type: header_link}}
YAML
    m=$(mark) && dango sync hl >out 2>err &&
    test_grep "Loaded 25 rows into raw_hl.rows" out &&
    log_since $m >l1 && test_grep "key=hkey-s3cr3t-3" l1 &&
    seen2 | cut -d" " -f2 >reqs && printf "/header?page=2\n/header?page=3\n" >expect && test_cmp expect reqs &&
    no_secret_on_2
'

test_expect_success 'a redirect to another origin: basic auth stays home' '
    : >"$TRASH/api2.log" &&
    add_source rd <<YAML &&
      auth_type: basic
      username_env: USR
      password_env: PW
      endpoints:
        - {name: rows, path: "/xo/redirect?to=$PORT2&path=/single", paginator: {type: single_page}}
YAML
    m=$(mark) && dango sync rd >out 2>err &&
    test_grep "Loaded 25 rows into raw_rd.rows" out &&
    log_since $m >l1 && test_grep "auth=Basic " l1 &&
    seen2 | cut -d" " -f2 >reqs && echo /single >expect && test_cmp expect reqs &&
    no_secret_on_2
'

test_expect_success 'a redirect within the origin keeps the credentials' '
    printf "GOOD=secret-token\n" >>.env &&
    add_source rdself <<YAML &&
      auth_type: bearer
      auth_token_env: GOOD
      endpoints:
        - {name: rows, path: "/xo/redirect?path=/auth/bearer", paginator: {type: single_page}}
YAML
    m=$(mark) && dango sync rdself >out 2>err &&
    test_grep "Loaded 3 rows into raw_rdself.rows" out &&
    log_since $m | cut -d" " -f2,3 >reqs &&
    printf "/xo/redirect?path=/auth/bearer auth=Bearer\n/auth/bearer auth=Bearer\n" >expect && test_cmp expect reqs
'

test_expect_success 'cross_origin: refuse stops at the foreign link, naming it; nothing loaded' '
    : >"$TRASH/api2.log" &&
    add_source refused <<YAML &&
      auth_type: bearer
      auth_token_env: TOK
      cross_origin: refuse
      endpoints:
        - {name: rows, path: "/xo/next?to=$PORT2", paginator: {type: json_link, next_url_path: next}}
YAML
    test_expect_code 1 dango sync refused >out 2>err &&
    test_grep "refusing GET $API2/next?page=2: another origin than http://127.0.0.1:[0-9]* (cross_origin: refuse" err &&
    test_must_fail test -s "$TRASH/api2.log" &&
    test_must_fail dango query "SELECT * FROM raw_refused.rows"
'

test_expect_success 'cross_origin: allow sends the credentials on' '
    : >"$TRASH/api2.log" &&
    add_source allowed <<YAML &&
      auth_type: bearer
      auth_token_env: TOK
      cross_origin: allow
      endpoints:
        - {name: rows, path: "/xo/next?to=$PORT2", paginator: {type: json_link, next_url_path: next}}
YAML
    dango sync allowed >out 2>err && test_grep "Loaded 25 rows into raw_allowed.rows" out &&
    seen2 | grep -c "auth=Bearer tok-s3cr3t-1" >n && echo 2 >expect && test_cmp expect n
'

test_expect_success 'validate rejects an unknown cross_origin value' '
    add_source badco <<YAML &&
      cross_origin: sometimes
      endpoints:
        - {name: rows, path: /single}
YAML
    test_must_fail dango validate >out 2>&1 &&
    test_grep "cross_origin" out && test_grep "sometimes" out &&
    sed -i "/name: badco/,\$d" .dango/sources.yml
'

test_done
