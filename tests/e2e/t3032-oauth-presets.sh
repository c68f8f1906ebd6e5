#!/usr/bin/env bash
# The OAuth presets take a credential of the OAuth store (oauth_credential
# in the block) instead of their token variable: `dango oauth setup
# PROVIDER --source NAME` obtains it from an imitation of the provider's
# OAuth server, the sync sends it as a bearer to the API's imitation (which
# asks the OAuth server whether it issued it), an expired token is renewed
# before the sync, and the same preset still takes a *_env token.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

"$FIXTURES/oauth_server" "$TRASH/oport" "$TRASH/oauth.log" &
wait_for_file "$TRASH/oport" || exit 1
OA=http://127.0.0.1:$(cat "$TRASH/oport")
unset DISPLAY WAYLAND_DISPLAY
export OAUTH_USERINFO=$OA/userinfo DANGO_NOW=2026-10-01T00:00:00Z

new_project GOOGLE_CLIENT_ID=test-client GOOGLE_CLIENT_SECRET=test-secret \
    HUBSPOT_CLIENT_ID=test-client HUBSPOT_CLIENT_SECRET=test-secret \
    SALESFORCE_CLIENT_ID=test-client SALESFORCE_CLIENT_SECRET=test-secret \
    GOOGLE_SHEETS_ACCESS_TOKEN=ya29.sheets

# setup PROVIDER SOURCE: the authorization flow, its redirect followed by curl
setup() {
    dango oauth setup "$1" --source "$2" --no-browser >setup.out 2>&1 &
    local pid=$!
    wait_for_grep "^  http://127.0.0.1" setup.out 20 &&
    curl -sS -L -o page "$(sed -n "s/^  \(http:.*\)$/\1/p" setup.out)" &&
    wait $pid
}
oauth_urls="      authorize_url: $OA/authorize
      token_url: $OA/token
      userinfo_url: $OA/userinfo"

start_provider google_sheets || exit 1
cat >>.dango/sources.yml <<EOF
  - name: gs
    type: google_sheets
    google_sheets:
      spreadsheet_id: sheet123
      sheets: [Orders]
      oauth_credential: gsheets
      base_url: $PAPI
$oauth_urls
  - name: gs_env
    type: google_sheets
    google_sheets:
      spreadsheet_id: sheet123
      sheets: [Orders]
      base_url: $PAPI
EOF

test_expect_success 'google sheets: before setup, the sync names the missing credential and asks nothing' '
    m=$(pmark) &&
    test_must_fail dango sync gs >out 2>&1 &&
    test_grep "gsheets" out && test_grep "dango oauth setup" out &&
    test "$(plog_since $m | wc -l)" = 0
'

test_expect_success 'google sheets: dango oauth setup --source saves the credential the block names' '
    setup google_sheets gs &&
    test_grep "OAuth credential .gsheets. saved" setup.out &&
    test "$(stat -c %a .dango/oauth/gsheets.json)" = 600
'

test_expect_success 'google sheets: the sync sends the stored token as a bearer' '
    m=$(pmark) && dango sync gs >out 2>&1 &&
    test_grep "Loaded 5 rows into raw_gs.orders" out &&
    plog_since $m | sed "s/ body=.*//" >reqs &&
    echo "GET /v4/spreadsheets/sheet123/values/Orders?majorDimension=ROWS&valueRenderOption=UNFORMATTED_VALUE&dateTimeRenderOption=FORMATTED_STRING auth=Bearer" >expect &&
    test_cmp expect reqs &&
    ! grep -rq "ya29.sheets" out .dango/logs
'

test_expect_success 'google sheets: an expired token is renewed with the refresh token first' '
    m=$(wc -l <"$TRASH/oauth.log") &&
    DANGO_NOW=2026-10-01T03:00:00Z dango sync gs >out 2>&1 &&
    test_grep "Loaded 5 rows into raw_gs.orders" out &&
    tail -n +$((m + 1)) "$TRASH/oauth.log" | grep -c "grant_type=refresh_token" >n && echo 1 >expect && test_cmp expect n
'

test_expect_success 'google sheets: the same preset still takes access_token_env' '
    dango sync gs_env >out 2>&1 &&
    test_grep "Loaded 5 rows into raw_gs_env.orders" out
'

start_provider hubspot || exit 1
cat >>.dango/sources.yml <<EOF
  - name: hs
    type: hubspot
    hubspot:
      oauth_credential: hubspot
      endpoints: [contacts]
      start_date: "2024-06-01"
      base_url: $PAPI
      authorize_url: $OA/authorize
      token_url: $OA/token
EOF

test_expect_success 'hubspot: a stored credential instead of the private app token' '
    setup hubspot hs &&
    test_grep "OAuth credential .hubspot. saved" setup.out &&
    dango sync hs >out 2>&1 &&
    test_grep "Loaded 5 rows into raw_hs.contacts" out
'

start_provider salesforce || exit 1
cat >>.dango/sources.yml <<EOF
  - name: sf
    type: salesforce
    salesforce:
      oauth_credential: sforce
      objects: [Account]
      start_date: "2024-06-01"
      base_url: $PAPI
$oauth_urls
EOF

test_expect_success 'salesforce: a stored credential, renewed when its session ran out' '
    setup salesforce sf &&
    test_grep "OAuth credential .sforce. saved" setup.out &&
    dango sync sf >out 2>&1 &&
    test_grep "Loaded 5 rows into raw_sf.account" out &&
    DANGO_NOW=2026-10-01T05:00:00Z dango sync sf >out 2>&1 &&
    test_grep "Sync complete" out &&
    dango oauth list >list &&
    test_grep "sforce *│ salesforce" list && test_grep "gsheets *│ google_sheets" list
'

test_done
