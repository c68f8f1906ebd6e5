#!/usr/bin/env bash
# API presets (stripe, github, hubspot, and a project's own in
# .dango/presets/) against the local fake API, and `dango source test`.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
printf 'version: "1.0"\nsources:\n' >.dango/sources.yml
printf 'STRIPE_API_KEY=sk_test_123\nGITHUB_TOKEN=ghp_test\nHUBSPOT_API_KEY=pat-test\nWRONG=sk_bad\n' >.env

test_expect_success 'stripe: starting_after paging while has_more, created[gte] from start_date' '
    cat >>.dango/sources.yml <<-EOF &&
	  - name: stripe_payments
	    type: stripe
	    stripe:
	      stripe_secret_key_env: STRIPE_API_KEY
	      endpoints: [charges, customers]
	      start_date: "2024-06-03"
	      base_url: $API
	EOF
    m=$(mark) && dango sync stripe_payments >out &&
    strip_clock <out >o &&
    test_grep "^Connecting to Stripe API$" o && test_grep "^Fetching charges (incremental from 2024-06-03)$" o &&
    test_grep "^Loaded 6 rows into raw_stripe_payments.charges$" o && test_grep "^Loaded 3 rows into raw_stripe_payments.customers$" o &&
    log_since $m | grep charges | cut -d" " -f2 >reqs &&
    printf "/v1/charges?created[gte]=1717372800&limit=100\n/v1/charges?created[gte]=1717372800&limit=100&starting_after=ch_005\n" >expect && test_cmp expect reqs &&
    q "SELECT id || '"'"' '"'"' || amount || '"'"' '"'"' || COLUMNS('"'"'metadata_+order'"'"') FROM raw_stripe_payments.charges ORDER BY id" >v &&
    printf "ch_002 2000 o-2\nch_003 3000 o-3\nch_004 4000 o-4\nch_005 5000 o-5\nch_006 6000 o-6\nch_007 7000 o-7\n" >expect && test_cmp expect v
'

test_expect_success 'stripe: the next sync asks only for new charges' '
    sed -i "s|      base_url: $API|      base_url: $API\n      request_backoff_factor: 0.05|" .dango/sources.yml &&
    curl -s -X POST "$API/_control/add?what=charges&n=2" >/dev/null &&
    m=$(mark) && dango sync stripe_payments >out &&
    test_grep "Fetching charges (incremental from 2024-06-08T00:00:00Z)" out && strip_clock <out | grep -x "Fetched 1 customer" &&
    log_since $m | grep charges | cut -d" " -f2 >reqs &&
    printf "/v1/charges?created[gte]=1717804800&limit=100\n" >expect && test_cmp expect reqs &&
    q "SELECT count(*) || '"'"' '"'"' || max(id) FROM raw_stripe_payments.charges" >v && echo "8 ch_009" >expect && test_cmp expect v
'

test_expect_success 'stripe: a bad key is an AuthenticationError naming STRIPE_API_KEY' '
    cat >>.dango/sources.yml <<-EOF &&
	  - name: stripe_bad
	    type: stripe
	    stripe:
	      stripe_secret_key_env: WRONG
	      base_url: $API
	EOF
    test_expect_code 1 dango sync stripe_bad >out 2>err &&
    test_grep "✗ Sync failed for stripe_bad" out &&
    test_grep "^AuthenticationError: Invalid API key (HTTP 401 from $API/v1/charges?created%5Bgte%5D=[0-9]*.limit=100); check the environment variable WRONG" err
'

test_expect_success 'github: Link header pages, since, nested user and labels' '
    cat >>.dango/sources.yml <<-EOF &&
	  - name: gh
	    type: github
	    github:
	      access_token_env: GITHUB_TOKEN
	      repository: acme/widgets
	      endpoints: [issues, commits]
	      base_url: $API
	EOF
    m=$(mark) && dango sync gh >out &&
    test_grep "Loaded 5 rows into raw_gh.issues$" out && test_grep "Loaded 10 rows into raw_gh.issues__labels$" out &&
    test_grep "Loaded 3 rows into raw_gh.commits$" out &&
    log_since $m | grep "/issues" | cut -d" " -f2,3 >reqs &&
    echo "/repos/acme/widgets/issues?state=all&per_page=100&sort=updated&direction=asc&since=2008-01-01T00:00:00Z auth=Bearer" >expect && test_cmp expect reqs &&
    q "SELECT COLUMNS('"'"'user_+login'"'"') FROM raw_gh.issues ORDER BY number LIMIT 1" >v && echo u1 >expect && test_cmp expect v &&
    curl -s -X POST "$API/_control/add?what=issues&n=1" >/dev/null &&
    m=$(mark) && dango sync gh >out &&
    log_since $m | grep "/issues" | cut -d" " -f2 >reqs &&
    echo "/repos/acme/widgets/issues?state=all&per_page=100&sort=updated&direction=asc&since=2024-06-06T00:00:00Z" >expect && test_cmp expect reqs &&
    q "SELECT count(*) FROM raw_gh.issues" >n && echo 6 >expect && test_cmp expect n
'

test_expect_success 'github: a repository is required' '
    cat >>.dango/sources.yml <<-EOF &&
	  - name: gh2
	    type: github
	    github:
	      access_token_env: GITHUB_TOKEN
	EOF
    test_must_fail dango sync gh2 >out 2>err && test_grep "repository" err &&
    sed -i "/name: gh2/,\$d" .dango/sources.yml
'

test_expect_success 'hubspot: after-cursor paging (owners; the objects are searched: t3022)' '
    cat >>.dango/sources.yml <<-EOF &&
	  - name: hs
	    type: hubspot
	    hubspot:
	      api_key_env: HUBSPOT_API_KEY
	      endpoints: owners
	      base_url: $API
	EOF
    m=$(mark) && dango sync hs >out && test_grep "Loaded 5 rows into raw_hs.owners" out &&
    q "SELECT COLUMNS('"'"'properties_+name'"'"') FROM raw_hs.owners ORDER BY id" >v && printf "owners 1\nowners 2\nowners 3\nowners 4\nowners 5\n" >expect && test_cmp expect v &&
    log_since $m | cut -d" " -f2 >reqs && echo "/crm/v3/owners?limit=100" >expect && test_cmp expect reqs
'

test_expect_success 'an unknown preset endpoint is named with a suggestion' '
    sed -i "s/endpoints: owners/endpoints: [contcts]/" .dango/sources.yml &&
    test_must_fail dango sync hs >out 2>err &&
    test_grep "HubSpot has no endpoint .contcts. (did you mean .contacts.?)" err &&
    sed -i "s/endpoints: \[contcts\]/endpoints: owners/" .dango/sources.yml
'

test_expect_success 'a project preset in .dango/presets is a source type' '
    mkdir -p .dango/presets && cat >.dango/presets/acme.yml <<-\EOF &&
	label: Acme
	category: Custom
	config:
	  token_env: {default: ACME_TOKEN, secret: true}
	  base_url: {default: "https://api.acme.example"}
	client:
	  base_url: "{config.base_url}"
	  auth_type: bearer
	  auth_token_env: "{config.token_env}"
	endpoints:
	  - name: widgets
	    path: /cursor
	    primary_key: id
	    paginator: {type: cursor, cursor_path: meta.next_cursor, limit: 10}
	EOF
    echo ACME_TOKEN=t0k >>.env &&
    cat >>.dango/sources.yml <<-EOF &&
	  - name: acme
	    type: acme
	    acme:
	      base_url: $API
	EOF
    dango sync acme >out && test_grep "Connecting to Acme API" out &&
    test_grep "Loaded 25 rows into raw_acme.widgets" out &&
    sed -i "s|      base_url: $API$|      base_url: $API\n      typo_key: 1|" .dango/sources.yml &&
    test_must_fail dango sync acme >out 2>&1 && test_grep "unknown key .typo_key." out &&
    sed -i "/typo_key/d" .dango/sources.yml
'

test_expect_success 'the wizard offers the bundled presets and the project'"'"'s own' '
    n=$(run_on_tty "q\n" dango source add | sed -n "s/^ *\([0-9]*\)\. Acme (acme)\r*$/\1/p") &&
    test -n "$n" &&
    run_on_tty "q\n" dango source add >menu || true &&
    test_grep "Stripe (stripe)" menu && test_grep "GitHub (github)" menu && test_grep "HubSpot (hubspot)" menu &&
    test_grep "REST API (rest_api)" menu && test_grep "Your presets (.dango/presets)" menu &&
    run_on_tty "$n\nacme_two\nACME_TOKEN\n\n\n" dango source add >out &&
    test_grep "added to .dango/sources.yml" out &&
    sed -n "/name: acme_two/,\$p" .dango/sources.yml >entry && test_grep "type: acme" entry &&
    test_grep "token_env: ACME_TOKEN" entry
'

test_expect_success 'dango source test makes one authenticated request' '
    m=$(mark) && dango source test stripe_payments >out 2>&1 &&
    test_grep "✓ GET $API/v1/charges: HTTP 200, 3 records on the first page of charges" out &&
    log_since $m | wc -l >n && echo 1 >expect && test_cmp expect n &&
    test_must_fail dango source test stripe_bad >out 2>&1 &&
    test_grep "AuthenticationError: Invalid API key" out
'

test_done
