#!/usr/bin/env bash
# validate and the wizard check what an API source's block says: dates are
# days of the calendar (2024-99-01 is not March 2032), and resources are the
# preset's, with a did-you-mean and the list; the wizard lists them.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p

test_expect_success 'validate: a start_date that is not a calendar day, named by file:line' '
    cat >.dango/sources.yml <<-\EOF &&
	version: "1.0"
	sources:
	  - name: st
	    type: stripe
	    stripe:
	      stripe_secret_key_env: STRIPE_API_KEY
	      start_date: "2024-99-01"
	  - name: gh
	    type: github
	    github:
	      access_token_env: GITHUB_TOKEN
	      repository: a/b
	      start_date: "2023-02-29"
	  - name: leap
	    type: github
	    github:
	      access_token_env: GITHUB_TOKEN
	      repository: a/b
	      start_date: "2024-02-29"
	  - name: api
	    type: rest_api
	    rest_api:
	      base_url: http://127.0.0.1:1
	      endpoints:
	        - {name: a, incremental: {cursor_path: t, initial_value: "2024-06-31T00:00:00Z"}}
	        - {name: b, incremental: {cursor_path: t, initial_value: "2024-06-30T23:59:59Z"}}
	        - {name: c, incremental: {cursor_path: t, initial_value: "1717200000"}}
	EOF
    test_expect_code 1 dango validate >out 2>err &&
    grep "^✗ .dango/sources.yml" err >e &&
    cat >expect <<-\EOF &&
	✗ .dango/sources.yml:7:19: start_date '"'"'2024-99-01'"'"' in source '"'"'st'"'"' is not a calendar date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ)
	✗ .dango/sources.yml:13:19: start_date '"'"'2023-02-29'"'"' in source '"'"'gh'"'"' is not a calendar date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ)
	✗ .dango/sources.yml:25:66: initial_value '"'"'2024-06-31T00:00:00Z'"'"' in source '"'"'api'"'"' is not a calendar date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ)
	EOF
    test_cmp expect e
'

test_expect_success 'validate: an endpoint the preset does not have, with a suggestion and the list' '
    cat >.dango/sources.yml <<-\EOF &&
	version: "1.0"
	sources:
	  - name: st
	    type: stripe
	    stripe:
	      stripe_secret_key_env: STRIPE_API_KEY
	      endpoints: [charges, chargez]
	  - name: hs
	    type: hubspot
	    hubspot:
	      api_key_env: HUBSPOT_API_KEY
	      endpoints: "contacts, dealz"
	EOF
    test_expect_code 1 dango validate >out 2>err &&
    test_grep "^✗ .dango/sources.yml:7:28: source '"'"'st'"'"': Stripe has no endpoint '"'"'chargez'"'"' (did you mean '"'"'charges'"'"'?); it has: charges, customers, subscriptions" err &&
    test_grep "^✗ .dango/sources.yml:12:18: source '"'"'hs'"'"': HubSpot has no endpoint '"'"'dealz'"'"' (did you mean '"'"'deals'"'"'?); it has: contacts" err &&
    test_grep "2 problems found" out
'

test_expect_success 'source add --set refuses an impossible date' '
    printf "version: \"1.0\"\nsources:\n" >.dango/sources.yml &&
    test_must_fail dango source add stripe --name s2 --set start_date=2024-99-01 >out 2>err &&
    test_grep "not a calendar date" err && test_grep ! "name: s2" .dango/sources.yml
'

test_expect_success 'the wizard lists the resources and asks again for a wrong one or a wrong date' '
    printf "version: \"1.0\"\nsources:\n" >.dango/sources.yml &&
    STRIPE_API_KEY=sk_test_abcdefgh1234 run_on_tty "stripe\nstripe_payments\n\nchargez\ncharges, customers\n2024-99-01\n2024-06-01\n" dango source add >out &&
    tr -d "\r" <out >o &&
    test_grep "Resources of Stripe: charges, customers, subscriptions, invoices, products, prices, payment_intents, refunds, balance_transactions, payouts, disputes, coupons, events$" o &&
    test_grep "Stripe has no resource '"'"'chargez'"'"' (did you mean '"'"'charges'"'"'?)\.$" o &&
    test_grep "'"'"'2024-99-01'"'"' is not a date of the calendar (YYYY-MM-DD)\.$" o &&
    sed -n "/name: stripe_payments/,\$p" .dango/sources.yml >entry &&
    test_grep "endpoints: \[charges, customers\]" entry && test_grep "start_date: 2024-06-01" entry &&
    STRIPE_API_KEY=sk_test_abcdefgh1234 dango validate >out 2>&1
'

test_done
