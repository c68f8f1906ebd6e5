#!/usr/bin/env bash
# dango web's security defaults: loopback by default, a token off loopback,
# CSRF on every state change, security headers, bounded requests, no path
# traversal, slow clients do not block others.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/web_lib.sh"

test_expect_success 'setup' '
    dango init shop >/dev/null && cd shop &&
    printf "id\n1\n" >data/a.csv && dango source add csv --name a --path data/a.csv >/dev/null
'
cd shop || exit 1

start_web web && web_session
test_expect_success 'security headers on the page, the API and errors' '
    for p in / /sources /api/health /api/nope /assets/app.js; do
        curl -s -D - -o /dev/null "$WEB_URL$p" | tr -d "\r" >h &&
        test_grep "^Content-Security-Policy: .*script-src .self.;" h &&
        test_grep "frame-ancestors .none." h &&
        test_grep ! "unsafe-inline" h &&
        test_grep "^X-Content-Type-Options: nosniff" h &&
        test_grep "^X-Frame-Options: DENY" h || return 1
    done
'

test_expect_success 'the page has no inline script' '
    curl -sf "$WEB_URL/" >page.html &&
    test "$(grep -c "<script" page.html)" = "$(grep -c "<script src=\"/assets/" page.html)" &&
    test_grep ! " on[a-z]*=" page.html
'

test_expect_success 'the session cookie is HttpOnly and SameSite=Strict' '
    curl -s -D - -o /dev/null "$WEB_URL/" | tr -d "\r" >h &&
    test_grep "^Set-Cookie: dango_session=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict" h
'

test_expect_success 'state changes are POST only, and need the CSRF token and this Origin' '
    curl -s -o /dev/null -w "%{http_code}\n" "$WEB_URL/api/query" >code && echo 405 >expect && test_cmp expect code &&
    curl -s -o /dev/null -w "%{http_code}\n" -X DELETE "$WEB_URL/api/runs" >code && test_cmp expect code &&
    curl -s -o /dev/null -w "%{http_code}\n" -X PUT "$WEB_URL/api/sources/a/sync" >code && test_cmp expect code &&
    curl -s -o out -w "%{http_code}\n" -b "$TRASH/jar" -H "X-CSRF-Token: $(cat "$TRASH/csrf")" \
        -X POST -d "{\"sql\":\"select 1\"}" "$WEB_URL/api/query" >code &&
    echo 403 >expect && test_cmp expect code && test_grep "no Origin header" out &&
    web_post /api/query "{\"sql\":\"select 42 as x\"}" >out && test "$(tail -1 out)" = 200 &&
    head -1 out | jq -e ".rows == [[42]]"
'

test_expect_success 'a Host that is not loopback is refused on a loopback bind (DNS rebinding)' '
    curl -s -o out -w "%{http_code}\n" -H "Host: evil.example:80" "$WEB_URL/api/health" >code &&
    echo 421 >expect && test_cmp expect code &&
    curl -sf -H "Host: localhost" "$WEB_URL/api/health" >/dev/null
'

test_expect_success 'path traversal is refused' '
    for p in "/assets/../../../etc/passwd" "/assets/%2e%2e/%2e%2e/etc/passwd" "/api/runs/..%2f..%2fetc%2fpasswd" \
             "/api/runs/../../x" "/assets/./app.js" "/assets//app.js" "/api/sources/..%00"; do
        curl -s --path-as-is -o out -w "%{http_code}\n" "$WEB_URL$p" >code &&
        case "$(cat code)" in 400|404) ;; *) echo "$p: $(cat code)"; return 1 ;; esac &&
        test_grep ! "root:" out || return 1
    done
'

test_expect_success 'request bodies and headers are bounded' '
    head -c 2000000 /dev/zero | tr "\0" "a" >big &&
    curl -s -o out -w "%{http_code}\n" -b "$TRASH/jar" -H "Origin: $WEB_URL" -H "X-CSRF-Token: $(cat "$TRASH/csrf")" \
        -X POST --data-binary @big "$WEB_URL/api/query" >code &&
    echo 413 >expect && test_cmp expect code &&
    printf "{\"sql\": \"select 1\", \"pad\": \"%s\"}" "$(head -c 1100000 big)" >big.json &&
    curl -s -o out -w "%{http_code}\n" -b "$TRASH/jar" -H "Origin: $WEB_URL" -H "X-CSRF-Token: $(cat "$TRASH/csrf")" \
        -H "Transfer-Encoding: chunked" -X POST --data-binary @big.json "$WEB_URL/api/query" >code &&
    test_cmp expect code &&
    curl -s -o /dev/null -w "%{http_code}\n" -H "X-Big: $(head -c 100000 big)" "$WEB_URL/api/health" >code &&
    case "$(cat code)" in 431|413|400) ;; *) false ;; esac &&
    curl -sf "$WEB_URL/api/health" >/dev/null
'

test_expect_success 'slow clients do not block others (per-connection threads, timeouts)' '
    for i in 1 2 3 4 5; do
        (exec 3<>"/dev/tcp/127.0.0.1/${WEB_URL##*:}"; printf "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n" >&3; sleep 5) &
    done &&
    sleep 0.3 &&
    curl -sf --max-time 20 "$WEB_URL/api/health" | jq -e ".status == \"ok\""
'
stop_web

export WEB_TOKEN=tok-0123456789abcdef0123
start_web tok --host 0.0.0.0
test_expect_success 'off loopback a token is generated, printed once and required' '
    test_grep "^Token (shown once; every request needs it): [0-9a-f]\{64\}$" "$TRASH/tok.out" &&
    token=$(sed -n "s/^Token (shown once; every request needs it): //p" "$TRASH/tok.out") &&
    url=http://127.0.0.1:${WEB_URL##*:} &&
    curl -s -o out -w "%{http_code}\n" "$url/api/health" >code && echo 401 >expect && test_cmp expect code &&
    test_grep "token is required" out &&
    curl -s -o out -w "%{http_code}\n" -H "Authorization: Bearer wrong" "$url/api/sources" >code && test_cmp expect code &&
    curl -s -o /dev/null -w "%{http_code} %{redirect_url}\n" "$url/sources" >code &&
    echo "303 $url/login" >expect && test_cmp expect code &&
    curl -sf -H "Authorization: Bearer $token" "$url/api/health" | jq -e ".auth == \"token\"" &&
    curl -sf -H "Authorization: Bearer $token" -X POST -d "{\"sql\":\"select 1 as one\"}" "$url/api/query" | jq -e ".rows == [[1]]"
'

test_expect_success 'the login page gives a session for the token; a wrong token gives none' '
    token=$(sed -n "s/^Token (shown once; every request needs it): //p" "$TRASH/tok.out") &&
    url=http://127.0.0.1:${WEB_URL##*:} &&
    curl -sf "$url/login" | grep -q "name=\"token\"" &&
    curl -s -c jar2 -o /dev/null -w "%{http_code} %{redirect_url}\n" -H "Origin: $url" --data "token=nope" "$url/login" >code &&
    echo "303 $url/login?failed=1" >expect && test_cmp expect code &&
    test_grep ! dango_session jar2 &&
    curl -sf "$url/login?failed=1" | grep -q "That is not the token" &&
    curl -sf "$url/login" >login.html && test_grep ! "That is not the token" login.html &&
    curl -s -c jar2 -o /dev/null -w "%{http_code}\n" -H "Origin: $url" --data "token=$token" "$url/login" >code &&
    echo 303 >expect && test_cmp expect code && test_grep dango_session jar2 &&
    curl -sf -b jar2 "$url/api/sources" | jq -e ".sources[0].name == \"a\"" &&
    csrf=$(curl -sf -b jar2 "$url/api/session" | jq -r .csrf) &&
    curl -s -o /dev/null -w "%{http_code}\n" -b jar2 -H "Origin: $url" -X POST -d "{\"sql\":\"select 1\"}" "$url/api/query" >code &&
    echo 403 >expect && test_cmp expect code &&
    curl -s -o /dev/null -w "%{http_code}\n" -b jar2 -H "Origin: $url" -H "X-CSRF-Token: $csrf" -X POST \
        -d "{\"sql\":\"select 1\"}" "$url/api/query" >code &&
    echo 200 >expect && test_cmp expect code
'
stop_web

start_web tokenv --token-env WEB_TOKEN
test_expect_success '--token-env: the token from the environment, never printed' '
    test_grep ! "Token (shown once" "$TRASH/tokenv.out" &&
    test_grep ! "$WEB_TOKEN" "$TRASH/tokenv.out" &&
    curl -s -o /dev/null -w "%{http_code}\n" "$WEB_URL/api/health" >code && echo 401 >expect && test_cmp expect code &&
    curl -sf -H "Authorization: Bearer $WEB_TOKEN" "$WEB_URL/api/health" >/dev/null
'
stop_web

test_expect_success 'bad options are usage errors' '
    test_expect_code 2 dango web --token-env NOT_SET_ANYWHERE 2>err && test_grep "not set" err &&
    SHORT=abc test_expect_code 2 dango web --token-env SHORT 2>err && test_grep "too short" err &&
    test_expect_code 2 dango web --port 70000 2>err &&
    test_expect_code 2 dango web --no-such-option 2>err && test_grep "no-such-option" err &&
    test_expect_code 1 dango web --host not-an-address --port 0 2>err && test_grep "not an IP address" err
'
test_done
