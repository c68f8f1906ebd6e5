#!/usr/bin/env bash
# dango oauth against a local OAuth 2.0 server imitation
# (tests/fixtures/oauth_server.c): the browser flow with PKCE through the
# loopback redirect (followed by curl), the device flow, the token store
# (0600, never printed), list/check/refresh/remove, and a source that
# syncs with the stored token.
. "$(dirname "$0")/lib.sh"

"$FIXTURES/oauth_server" "$TRASH/oport" "$TRASH/oauth.log" &
wait_for_file "$TRASH/oport" || exit 1
OA=http://127.0.0.1:$(cat "$TRASH/oport")
unset DISPLAY WAYLAND_DISPLAY
export DANGO_NOW=2026-10-01T00:00:00Z

dango init p >/dev/null </dev/null
cd p
printf 'TEST_CLIENT_ID=test-client\nTEST_CLIENT_SECRET=test-secret\n' >>.env
cat >.dango/sources.yml <<YAML
version: "1.0"
sources:
  - name: sheets
    type: rest_api
    rest_api:
      base_url: $OA
      auth_type: oauth
      oauth_provider: google
      authorize_url: $OA/authorize
      token_url: $OA/token
      userinfo_url: $OA/userinfo
      client_id_env: TEST_CLIENT_ID
      client_secret_env: TEST_CLIENT_SECRET
      scopes: [read]
      endpoints:
        - {name: items, path: /api/items, primary_key: id}
YAML
omark() { wc -l <"$TRASH/oauth.log"; }
olog_since() { tail -n +$(( $1 + 1 )) "$TRASH/oauth.log"; }

# Run "dango oauth setup ..." in the background, follow the URL it prints
# with curl (the imitation redirects to the loopback listener), wait for it.
browser_setup() {
    out=$1; shift
    dango oauth setup "$@" --no-browser >"$out" 2>&1 &
    pid=$!
    wait_for_grep "^  http://127.0.0.1" "$out" 20 || { kill $pid; return 1; }
    url=$(sed -n "s/^  \(http:.*\)$/\1/p" "$out" | head -1)
    curl -sS -L -o "$out.page" "$url"
    wait $pid
}

test_expect_success 'browser flow: PKCE, loopback redirect, code exchange, token saved 0600' '
    m=$(omark) &&
    browser_setup setup.out google --source sheets &&
    test_grep "^Open this URL in a browser to authorize Dango (Google):" setup.out &&
    url=$(sed -n "s/^  \(http:.*\)$/\1/p" setup.out) &&
    case "$url" in "$OA/authorize?response_type=code&client_id=test-client&redirect_uri=http%3A%2F%2F127.0.0.1%3A"*) ;; *) echo "$url"; exit 1;; esac &&
    echo "$url" | grep -q "&scope=read&state=[A-Za-z0-9_-]*&code_challenge=[A-Za-z0-9_-]\{43\}&code_challenge_method=S256&access_type=offline&prompt=consent$" &&
    test_grep "Authorization received" setup.out.page &&
    test_grep "OAuth credential .google. saved (.dango/oauth/google.json, readable by you only)" setup.out &&
    test_grep "^  Account: ann@example.com$" setup.out &&
    test_grep "^  Used by: sheets$" setup.out &&
    olog_since $m >log &&
    test_grep "POST /token grant_type=authorization_code" log &&
    test "$(stat -c %a .dango/oauth/google.json)" = 600 &&
    test "$(stat -c %a .dango/oauth)" = 700 &&
    test_grep "\"refresh_token\": \"rt-" .dango/oauth/google.json &&
    ! grep -q oauth .dango/sources.yml.bak 2>/dev/null
'

test_expect_success 'a sync sends the stored token as a bearer and loads the rows' '
    m=$(omark) &&
    dango sync sheets >sync.out 2>&1 &&
    test_grep "Loaded 2 rows into raw_sheets.items" sync.out &&
    q "SELECT id || '"'"':'"'"' || name FROM raw_sheets.items ORDER BY id" >rows &&
    printf "1:first\n2:second\n" >expect && test_cmp expect rows &&
    olog_since $m >log &&
    printf "GET /api/items auth=valid\n" >expect && test_cmp expect log
'

test_expect_success 'oauth list: provider, account, sources, renewal, last refresh' '
    dango oauth list >list.out &&
    test_grep "│ google *│ google *│ ann@example.com *│ sheets *│ renews automatically (access token expires in 60 minutes) *│ never *│" list.out
'

test_expect_success 'an expired refreshable token is refreshed before the first request and saved' '
    old=$(grep access_token .dango/oauth/google.json) &&
    m=$(omark) &&
    DANGO_NOW=2026-10-01T02:00:00Z dango sync sheets >sync.out 2>&1 &&
    olog_since $m | grep -v ^ISSUE >log &&
    printf "POST /token grant_type=refresh_token\nGET /api/items auth=valid\n" >expect && test_cmp expect log &&
    new=$(grep access_token .dango/oauth/google.json) &&
    test "$old" != "$new" &&
    test_grep "\"last_refresh\": \"2026-10-01T02:00:00Z\"" .dango/oauth/google.json &&
    test_grep "\"expires_at\": \"2026-10-01T03:00:00Z\"" .dango/oauth/google.json &&
    test "$(stat -c %a .dango/oauth/google.json)" = 600 &&
    DANGO_NOW=2026-10-01T02:10:00Z dango oauth list >list.out &&
    test_grep "│ 2026-10-01 02:00 │" list.out
'

test_expect_success 'oauth refresh NAME renews now; check says valid' '
    m=$(omark) &&
    DANGO_NOW=2026-10-01T02:30:00Z dango oauth refresh google >out 2>&1 &&
    test_grep "Refreshed OAuth credential .google.: renews automatically (access token expires in 60 minutes)" out &&
    olog_since $m | grep -c "grant_type=refresh_token" >n && echo 1 >expect && test_cmp expect n &&
    DANGO_NOW=2026-10-01T02:30:00Z dango oauth check >out 2>&1 &&
    test_grep "google (google): valid, renews automatically" out
'

test_expect_success 'a token the API refuses mid-sync (401) is renewed once and the request made again' '
    curl -sS -X POST $OA/_control/expire_access >/dev/null &&
    m=$(omark) &&
    DANGO_NOW=2026-10-01T02:40:00Z dango sync sheets >sync.out 2>&1 &&
    olog_since $m | grep -v ^ISSUE >log &&
    printf "GET /api/items auth=invalid\nPOST /token grant_type=refresh_token\nGET /api/items auth=valid\n" >expect &&
    test_cmp expect log &&
    test_grep "the API refused the OAuth token of google (HTTP 401): renewed it, trying again" sync.out &&
    test_grep "Loaded 2 rows into raw_sheets.items" sync.out
'

test_expect_success 'two sources of one run sharing an expired credential refresh it once' '
    cat >>.dango/sources.yml <<-YAML &&
	  - name: sheets2
	    type: rest_api
	    rest_api:
	      base_url: $OA
	      auth_type: oauth
	      oauth_credential: google
	      endpoints:
	        - {name: items, path: /api/items, primary_key: id}
	YAML
    m=$(omark) &&
    DANGO_NOW=2026-10-01T05:00:00Z dango sync sheets sheets2 --workers 2 >sync.out 2>&1 &&
    olog_since $m | grep -v ^ISSUE | sort >log &&
    printf "GET /api/items auth=valid\nGET /api/items auth=valid\nPOST /token grant_type=refresh_token\n" >expect &&
    test_cmp expect log &&
    test_grep "Success: 2/2 sources" sync.out &&
    dango oauth list >list.out &&
    test_grep "│ google *│ google *│ ann@example.com *│ sheets, sheets2 *│" list.out
'

test_expect_success 'device flow: code shown, polled until approved, saved' '
    m=$(omark)
    dango oauth setup hubspot --device --name hub --device-url $OA/device --token-url $OA/token \
        --client-id-env TEST_CLIENT_ID --client-secret-env TEST_CLIENT_SECRET >dev.out 2>&1 &
    pid=$! &&
    wait_for_grep "enter the code: WDJB-" dev.out 20 &&
    test_grep "On any device, open $OA/device/verify and enter the code: WDJB-" dev.out &&
    code=$(sed -n "s/.*enter the code: \(WDJB-[0-9]*\).*/\1/p" dev.out) &&
    sleep 1.5 &&
    curl -sS "$OA/device/verify?user_code=$code&action=approve" >/dev/null &&
    wait $pid &&
    test_grep "OAuth credential .hub. saved" dev.out &&
    olog_since $m >log &&
    test_grep "POST /device" log &&
    test_grep "grant_type=urn:ietf:params:oauth:grant-type:device_code" log &&
    test "$(stat -c %a .dango/oauth/hub.json)" = 600
'

test_expect_success 'device flow refused on the device: the provider says so, nothing saved' '
    dango oauth setup hubspot --device --name hub2 --device-url $OA/device --token-url $OA/token \
        --client-id-env TEST_CLIENT_ID >dev2.out 2>&1 &
    pid=$! &&
    wait_for_grep "enter the code: WDJB-" dev2.out 20 &&
    code=$(sed -n "s/.*enter the code: \(WDJB-[0-9]*\).*/\1/p" dev2.out) &&
    curl -sS "$OA/device/verify?user_code=$code&action=deny" >/dev/null &&
    test_must_fail wait $pid &&
    test_grep "the authorization was refused on the device: access_denied: The user refused" dev2.out &&
    ! test -e .dango/oauth/hub2.json
'

test_expect_success 'a refused authorization and a wrong client secret fail with the provider words' '
    curl -sS -X POST $OA/_control/deny >/dev/null &&
    test_must_fail browser_setup deny.out google --name g2 --source sheets &&
    test_grep "the provider refused the authorization: access_denied: The user denied access" deny.out &&
    ! test -e .dango/oauth/g2.json &&
    TEST_CLIENT_SECRET=not-the-secret-at-all test_must_fail browser_setup bad.out google --name g3 --source sheets &&
    test_grep "the token endpoint refused the code: invalid_client: The client secret is wrong (HTTP 401 from $OA/token)" bad.out &&
    ! test -e .dango/oauth/g3.json
'

test_expect_success 'the imitation checks PKCE: a wrong verifier is refused' '
    loc=$(curl -sS -o /dev/null -w "%{redirect_url}" "$OA/authorize?response_type=code&client_id=test-client&redirect_uri=http://127.0.0.1:9/cb&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256") &&
    code=$(echo "$loc" | sed "s/.*code=\([^&]*\).*/\1/") &&
    curl -sS -d "grant_type=authorization_code&client_id=test-client&redirect_uri=http://127.0.0.1:9/cb&code=$code&code_verifier=xBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" $OA/token >r &&
    test_grep "PKCE verification failed" r
'

test_expect_success 'a revoked refresh token fails the sync with the provider error, before any request' '
    curl -sS -X POST $OA/_control/revoke >/dev/null &&
    before=$(cat .dango/oauth/google.json) &&
    m=$(omark) &&
    DANGO_NOW=2026-10-02T00:00:00Z test_must_fail dango sync sheets >sync.out 2>&1 &&
    test_grep "refreshing the OAuth token for google failed: invalid_grant: Token has been expired or revoked. (HTTP 400 from $OA/token); if it was revoked, run: dango oauth setup google" sync.out &&
    olog_since $m >log &&
    test_grep ! "/api/items" log &&
    test "$before" = "$(cat .dango/oauth/google.json)"
'

test_expect_success 'a source with auth_type oauth and no credential fails, naming the command' '
    cat >>.dango/sources.yml <<-YAML &&
	  - name: orphan
	    type: rest_api
	    rest_api:
	      base_url: $OA
	      auth_type: oauth
	      endpoints:
	        - {name: items, path: /api/items}
	YAML
    test_must_fail dango sync orphan >out 2>&1 &&
    test_grep "source .orphan. uses auth_type oauth but no OAuth credential is set up for it; run: dango oauth setup PROVIDER --source orphan" out &&
    test_expect_code 1 dango oauth check >out 2>&1 &&
    test_grep "source .orphan. uses auth_type oauth" out
'

test_expect_success 'remove forgets the file and its metadata, and says who used it' '
    sqlite3 .dango/state/dango.sqlite "SELECT name, provider, account, refreshable, sources FROM oauth_credentials ORDER BY name" >meta &&
    printf "google|google|ann@example.com|1|[\"sheets\"]\nhub|hubspot||1|[]\n" >expect && test_cmp expect meta &&
    dango oauth remove google >out 2>&1 &&
    test_grep "Removed OAuth credential .google." out &&
    test_grep "sources sheets, sheets2 use it: their syncs fail until it is set up again" out &&
    ! test -e .dango/oauth/google.json &&
    sqlite3 .dango/state/dango.sqlite "SELECT name FROM oauth_credentials" >meta &&
    echo hub >expect && test_cmp expect meta &&
    test_must_fail dango oauth remove google 2>err &&
    test_grep "no OAuth credential named .google." err
'

test_expect_success 'no token or client secret in any output, log, status file or the ops-db' '
    sed -n "s/^ISSUE access=\([^ ]*\) refresh=\([^ ]*\)$/\1\n\2/p" "$TRASH/oauth.log" | grep -v "^-$" >tokens &&
    test $(wc -l <tokens) -ge 5 &&
    echo test-secret >>tokens &&
    grep -oh "dev-[0-9]*-secret" "$TRASH/oauth.log" >>tokens || true &&
    while read -r t; do
        if grep -rqaF -- "$t" *.out *.page .dango/state .dango/logs .dango/sources.yml dbt data 2>/dev/null; then
            echo "leaked: $t"; grep -rlaF -- "$t" *.out *.page .dango/state .dango/logs .dango/sources.yml dbt data; exit 1
        fi
    done <tokens
'

test_done
