#!/usr/bin/env bash
# The shape an API preset uses for OAuth (docs/oauth.md): a user preset
# whose client says auth_type: oauth with a generic oauth2 provider whose
# endpoints come from the source's block; a public client (PKCE, no
# secret); setup --source names the credential from the preset's config.
. "$(dirname "$0")/lib.sh"

"$FIXTURES/oauth_server" "$TRASH/oport" "$TRASH/oauth.log" &
wait_for_file "$TRASH/oport" || exit 1
OA=http://127.0.0.1:$(cat "$TRASH/oport")
unset DISPLAY WAYLAND_DISPLAY
export DANGO_NOW=2026-10-01T00:00:00Z

dango init p >/dev/null </dev/null
cd p
printf 'ACME_CLIENT_ID=test-client\n' >>.env
mkdir -p .dango/presets
cat >.dango/presets/acme.yml <<'YAML'
label: Acme
category: Business & CRM
config:
  oauth_credential: {default: acme, help: the stored OAuth credential}
  base_url: {default: "https://api.acme.example"}
  authorize_url: {default: "https://acme.example/oauth/authorize"}
  token_url: {default: "https://acme.example/oauth/token"}
default_endpoints: [items]
client:
  base_url: "{config.base_url}"
  auth_type: oauth
  oauth_provider: oauth2
  oauth_credential: "{config.oauth_credential}"
  authorize_url: "{config.authorize_url}"
  token_url: "{config.token_url}"
  client_id_env: ACME_CLIENT_ID
  scopes: [items.read]
endpoints:
  - name: items
    path: /api/items
    primary_key: id
YAML
cat >.dango/sources.yml <<YAML
version: "1.0"
sources:
  - name: acme_prod
    type: acme
    acme:
      base_url: $OA
      authorize_url: $OA/authorize
      token_url: $OA/token
YAML

test_expect_success 'setup oauth2 --source reads the expanded preset: endpoints, client, credential name' '
    dango oauth setup oauth2 --source acme_prod --no-browser >setup.out 2>&1 &
    pid=$! &&
    wait_for_grep "^  http://127.0.0.1" setup.out 20 &&
    url=$(sed -n "s/^  \(http:.*\)$/\1/p" setup.out) &&
    case "$url" in "$OA/authorize?response_type=code&client_id=test-client&"*"&scope=items.read&"*) ;; *) echo "$url"; exit 1;; esac &&
    curl -sS -L -o page "$url" &&
    wait $pid &&
    test_grep "OAuth credential .acme. saved" setup.out &&
    test_grep "^  Used by: acme_prod$" setup.out &&
    test "$(stat -c %a .dango/oauth/acme.json)" = 600
'

test_expect_success 'the preset source syncs with the token; list and check show it' '
    dango sync acme_prod >out 2>&1 &&
    test_grep "Loaded 2 rows into raw_acme_prod.items" out &&
    dango oauth list >list &&
    test_grep "│ acme *│ oauth2 *│ - *│ acme_prod *│ renews automatically" list &&
    dango oauth check acme >out &&
    test_grep "acme (oauth2): valid" out &&
    dango validate >out 2>&1 &&
    test_grep "source .acme_prod.: ready" out
'

test_expect_success 'refresh without a client secret (a public client)' '
    DANGO_NOW=2026-10-01T03:00:00Z dango sync acme_prod >out 2>&1 &&
    grep -c "grant_type=refresh_token" "$TRASH/oauth.log" >n && echo 1 >expect && test_cmp expect n
'

test_done
