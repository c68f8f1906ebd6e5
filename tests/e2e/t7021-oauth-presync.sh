#!/usr/bin/env bash
# Spec 003's OAuth pre-sync validation with a controllable clock
# (DANGO_NOW): Facebook's long-lived token (60 days, manual renewal) warns
# within 7 days and fails the sync once expired, before any request, while
# the other sources of the same run still sync; dango oauth check's exit
# codes; dry runs and source tests say the same.
. "$(dirname "$0")/lib.sh"

"$FIXTURES/oauth_server" "$TRASH/oport" "$TRASH/oauth.log" &
wait_for_file "$TRASH/oport" || exit 1
OA=http://127.0.0.1:$(cat "$TRASH/oport")
unset DISPLAY WAYLAND_DISPLAY

dango init p >/dev/null </dev/null
cd p
printf 'FACEBOOK_APP_ID=test-client\nFACEBOOK_APP_SECRET=test-secret\n' >>.env
printf 'id,amount\n1,9.5\n2,12\n' >data/sales.csv
cat >.dango/sources.yml <<YAML
version: "1.0"
sources:
  - name: sales
    type: csv
    csv:
      path: data/sales.csv
  - name: fb
    type: rest_api
    rest_api:
      base_url: $OA
      auth_type: oauth
      oauth_provider: facebook_ads
      oauth_credential: facebook_ads
      authorize_url: $OA/authorize
      token_url: "$OA/token?profile=facebook"
      userinfo_url: $OA/userinfo
      endpoints:
        - {name: items, path: /api/items, primary_key: id}
YAML
omark() { wc -l <"$TRASH/oauth.log"; }
olog_since() { tail -n +$(( $1 + 1 )) "$TRASH/oauth.log"; }

test_expect_success 'facebook_ads: the code token is exchanged for a long-lived one (60 days, no refresh)' '
    m=$(omark)
    DANGO_NOW=2026-10-01T00:00:00Z dango oauth setup facebook_ads --source fb --no-browser >setup.out 2>&1 &
    pid=$! &&
    wait_for_grep "^  http://127.0.0.1" setup.out 20 &&
    curl -sS -L -o page "$(sed -n "s/^  \(http:.*\)$/\1/p" setup.out)" &&
    wait $pid &&
    olog_since $m | grep "^POST" >log &&
    printf "POST /token grant_type=authorization_code\nPOST /token grant_type=fb_exchange_token\n" >expect &&
    test_cmp expect log &&
    test_grep "^  Token: expires in 60 days (on 2026-11-30); it cannot renew itself: run .dango oauth setup facebook_ads. again before then$" setup.out &&
    test_grep "\"access_token\": \"ll-" .dango/oauth/facebook_ads.json &&
    test_grep ! refresh_token .dango/oauth/facebook_ads.json &&
    test_grep "\"expires_at\": \"2026-11-30T00:00:00Z\"" .dango/oauth/facebook_ads.json
'

test_expect_success 'more than 7 days left: valid, no warning, the sync runs' '
    DANGO_NOW=2026-11-20T00:00:00Z dango oauth check >out 2>err &&
    test_grep "facebook_ads (facebook_ads): valid, expires in 10 days (on 2026-11-30)" out &&
    test_must_be_empty_file() { test ! -s "$1"; } && test_must_be_empty_file err &&
    DANGO_NOW=2026-11-20T00:00:00Z dango sync fb >out 2>err &&
    test_grep ! "OAuth" err
'

test_expect_success 'within 7 days: check warns and exits 0; the sync warns and proceeds' '
    DANGO_NOW=2026-11-25T00:00:00Z dango oauth check facebook_ads >out 2>err &&
    test_grep "⚠ facebook_ads (facebook_ads): expires in 5 days (on 2026-11-30); renew it before then: dango oauth setup facebook_ads" err &&
    m=$(omark) &&
    DANGO_NOW=2026-11-25T00:00:00Z dango sync fb >out 2>err &&
    test_grep "⚠ OAuth token for facebook_ads expires in 5 days (on 2026-11-30); renew it before then: dango oauth setup facebook_ads" err &&
    test_grep "Loaded 2 rows into raw_fb.items" out &&
    olog_since $m >log && printf "GET /api/items auth=valid\n" >expect && test_cmp expect log &&
    DANGO_NOW=2026-11-25T00:00:00Z dango oauth list >list &&
    test_grep "│ facebook_ads │ facebook_ads │ ann@example.com │ fb *│ expires in 5 days (on 2026-11-30) │ never *│" list
'

test_expect_success 'expired: check exits 1 naming the command' '
    DANGO_NOW=2026-12-01T00:00:00Z test_expect_code 1 dango oauth check >out 2>err &&
    test_grep "✗ OAuth token for facebook_ads expired on 2026-11-30; run: dango oauth setup facebook_ads" err &&
    DANGO_NOW=2026-12-01T00:00:00Z test_expect_code 1 dango oauth check facebook_ads 2>err
'

test_expect_success 'expired: that source fails at once, before any request; the others of the run sync' '
    printf "3,1\n" >>data/sales.csv &&
    m=$(omark) &&
    DANGO_NOW=2026-12-01T00:00:00Z test_expect_code 1 dango sync >out 2>err &&
    test_grep "^OAuth token for facebook_ads expired on 2026-11-30; run: dango oauth setup facebook_ads$" err &&
    test_grep "Sync failed for fb" out &&
    test_grep "Loaded 3 rows into raw_sales.sales" out &&
    test_grep "Success: 1/2 sources" out &&
    olog_since $m >log && test_must_be_empty_file() { test ! -s "$1"; } && test_must_be_empty_file log &&
    test "$(q "SELECT count(*) FROM raw_fb.items")" = 2 &&
    test "$(q "SELECT count(*) FROM raw_sales.sales")" = 3
'

test_expect_success 'expired: the dry run and the source test say so too' '
    DANGO_NOW=2026-12-01T00:00:00Z test_must_fail dango sync fb --dry-run >out 2>&1 &&
    test_grep "✗ OAuth token for facebook_ads expired on 2026-11-30; run: dango oauth setup facebook_ads" out &&
    DANGO_NOW=2026-11-25T00:00:00Z dango sync fb --dry-run >out 2>&1 &&
    test_grep "OAuth credential facebook_ads (facebook_ads): expires in 5 days (on 2026-11-30)" out &&
    DANGO_NOW=2026-12-01T00:00:00Z test_must_fail dango validate >out 2>&1 &&
    test_grep "source .fb.: OAuth token for facebook_ads expired on 2026-11-30; run: dango oauth setup facebook_ads" out &&
    DANGO_NOW=2026-11-25T00:00:00Z dango validate >out 2>&1 &&
    test_grep "source .fb.: ready" out &&
    m=$(omark) &&
    DANGO_NOW=2026-12-01T00:00:00Z test_must_fail dango source test fb >out 2>&1 &&
    test_grep "OAuth token for facebook_ads expired on 2026-11-30" out &&
    olog_since $m >log && test ! -s log
'

test_expect_success 'set up again, the source syncs again' '
    DANGO_NOW=2026-12-01T00:00:00Z dango oauth setup facebook_ads --no-browser >setup2.out 2>&1 &
    pid=$! &&
    wait_for_grep "^  http://127.0.0.1" setup2.out 20 &&
    curl -sS -L -o page "$(sed -n "s/^  \(http:.*\)$/\1/p" setup2.out)" &&
    wait $pid &&
    test_grep "^  Token: expires in 60 days (on 2027-01-30)" setup2.out &&
    test_grep "endpoints and client settings from source .fb." setup2.out &&
    test_grep "^  Used by: fb$" setup2.out &&
    DANGO_NOW=2026-12-01T00:00:00Z dango sync fb >out 2>err &&
    test_grep "Loaded 2 rows into raw_fb.items" out
'

test_expect_success 'a token the API refuses that cannot renew itself: the error names the credential' '
    curl -sS -X POST $OA/_control/expire_access >/dev/null &&
    DANGO_NOW=2026-12-01T00:00:00Z test_must_fail dango sync fb >out 2>err &&
    test_grep "AuthenticationError: the API refused the OAuth token of credential .facebook_ads. (HTTP 401 from $OA/api/items); it may have been revoked or lack a scope: run dango oauth setup facebook_ads$" err
'

test_expect_success 'the token file is 0600 and no token reached an output or the ops-db' '
    test "$(stat -c %a .dango/oauth/facebook_ads.json)" = 600 &&
    sed -n "s/^ISSUE access=\([^ ]*\) .*/\1/p" "$TRASH/oauth.log" >tokens &&
    test $(wc -l <tokens) -eq 4 &&
    while read -r t; do
        ! grep -rqaF -- "$t" out err setup.out setup2.out list log .dango/state .dango/sources.yml || { echo "leaked $t"; exit 1; }
    done <tokens
'

test_done
