#!/usr/bin/env bash
# Stripe's remaining common endpoints (invoices, balance transactions,
# payouts, products, prices, events) against an imitation of the API:
# starting_after paging, created[gte] on the next sync, Stripe's own error
# text for a bad key, a 429 retried.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

start_provider stripe || exit 1
new_project STRIPE_API_KEY=sk_test_123 BAD=sk_bad

test_expect_success 'first sync: every endpoint, paged by starting_after' '
    cat >>.dango/sources.yml <<-EOF &&
	  - name: st
	    type: stripe
	    stripe:
	      stripe_secret_key_env: STRIPE_API_KEY
	      endpoints: [invoices, balance_transactions, payouts, products, prices, events]
	      start_date: "2024-06-01"
	      base_url: $PAPI
	      request_backoff_factor: 0.05
	EOF
    m=$(pmark) && dango sync st >out &&
    for t in invoices balance_transactions payouts products prices events; do
        test_grep "Loaded 5 rows into raw_st.$t\$" out || exit 1
    done &&
    plog_since $m | grep " /v1/invoices" | cut -d" " -f2 >reqs &&
    printf "%s\n" "/v1/invoices?created%5Bgte%5D=1717200000&limit=100" >expect && test_cmp expect reqs &&
    q "SELECT id, amount_due, status FROM raw_st.invoices ORDER BY id" >v &&
    printf "in_001,100,paid\nin_002,200,paid\nin_003,300,paid\nin_004,400,paid\nin_005,500,paid\n" >expect && test_cmp expect v &&
    q "SELECT id, unit_amount, recurring__interval FROM raw_st.prices ORDER BY id LIMIT 2" >v &&
    printf "price_001,500,month\nprice_002,1000,\n" >expect && test_cmp expect v &&
    q "SELECT id, type, data__object__id FROM raw_st.events ORDER BY id LIMIT 1" >v &&
    echo "evt_001,invoice.paid,in_001" >expect && test_cmp expect v &&
    q "SELECT id, fee, net FROM raw_st.balance_transactions ORDER BY id LIMIT 1" >v && echo "txn_001,3,97" >expect && test_cmp expect v
'

test_expect_success 'incremental: the next sync asks for created >= the newest one, loads only new objects' '
    padd 2 && m=$(pmark) && dango sync st >out &&
    test_grep "Fetching invoices (incremental from 2024-06-01T05:00:00Z)" out &&
    plog_since $m | grep " /v1/invoices" | cut -d" " -f2 >reqs &&
    printf "%s\n" "/v1/invoices?created%5Bgte%5D=1717218000&limit=100" >expect && test_cmp expect reqs &&
    q "SELECT count(*), max(id) FROM raw_st.invoices" >v && echo "7,in_007" >expect && test_cmp expect v &&
    q "SELECT count(*) FROM raw_st.payouts" >v && echo 7 >expect && test_cmp expect v
'

test_expect_success 'a 429 is retried (Stripe sends no Retry-After), the sync completes' '
    padd 1 && plimit 1 && dango sync st >out 2>&1 &&
    test_grep "HTTP 429 from $PAPI/v1/invoices?created%5Bgte%5D=1717225200&limit=100, retrying in 0.05 s, attempt 2/5" out &&
    test_grep "Loaded 2 rows into raw_st.invoices" out &&
    q "SELECT count(*) FROM raw_st.invoices" >v && echo 8 >expect && test_cmp expect v
'

test_expect_success 'a bad key: AuthenticationError with Stripe'"'"'s message, nothing loaded' '
    sed -i "s/stripe_secret_key_env: STRIPE_API_KEY/stripe_secret_key_env: BAD/" .dango/sources.yml &&
    q "SELECT count(*) FROM raw_st.invoices" >before &&
    test_expect_code 1 dango sync st >out 2>err &&
    test_grep "^AuthenticationError: Invalid API key (HTTP 401 from $PAPI/v1/invoices" err &&
    test_grep "The API says: Invalid API Key provided: \*\*\*$" err &&
    q "SELECT count(*) FROM raw_st.invoices" >after && test_cmp before after
'

test_done
