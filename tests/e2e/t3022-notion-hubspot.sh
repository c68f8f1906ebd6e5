#!/usr/bin/env bash
# Notion (databases query: start_cursor and a last_edited_time filter in the
# POST body) and HubSpot (the CRM search API: a GTE filter and `after` in
# the body) against imitations of their APIs.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

start_provider notion || exit 1
NOTION=$PAPI NLOG=$PLOG
start_provider hubspot || exit 1
HUBSPOT=$PAPI HLOG=$PLOG
new_project NOTION_API_KEY=secret_test HUBSPOT_API_KEY=pat-test BAD=nope

test_expect_success 'notion: first sync pages with start_cursor in the body' '
    cat >>.dango/sources.yml <<-EOF &&
	  - name: nt
	    type: notion
	    notion:
	      database_ids: [db123]
	      start_date: "2024-06-01"
	      base_url: $NOTION
	      request_backoff_factor: 0.05
	EOF
    PAPI=$NOTION PLOG=$NLOG && m=$(pmark) && dango sync nt >out &&
    test_grep "Loaded 5 rows into raw_nt.database_db123" out && test_grep "Loaded 2 rows into raw_nt.users" out &&
    plog_since $m | grep query | cut -d" " -f1,2,4- | head -1 >reqs &&
    plog_since $m | grep query | grep -o "\"start_cursor\":\"[^\"]*\"" >cursors &&
    printf "%s\n" "\"start_cursor\":\"b2Zmc2V0OjI=\"" "\"start_cursor\":\"b2Zmc2V0OjQ=\"" >expect && test_cmp expect cursors &&
    printf "%s\n" "POST /v1/databases/db123/query body={\"filter\":{\"timestamp\":\"last_edited_time\",\"last_edited_time\":{\"on_or_after\":\"2024-06-01T00:00:00Z\"}},\"sorts\":[{\"timestamp\":\"last_edited_time\",\"direction\":\"ascending\"}],\"page_size\":100}" >expect &&
    test_cmp expect reqs &&
    q "SELECT id, properties__done__checkbox, last_edited_time FROM raw_nt.database_db123 ORDER BY id LIMIT 2" >v &&
    printf "00000001-aaaa-4bbb-8ccc-000000000000,false,2024-06-01 01:00:00+00\n00000002-aaaa-4bbb-8ccc-000000000000,true,2024-06-01 02:00:00+00\n" >expect &&
    test_cmp expect v
'

test_expect_success 'notion: the next sync filters from the newest edit' '
    PAPI=$NOTION PLOG=$NLOG && padd 3 && m=$(pmark) && dango sync nt >out &&
    plog_since $m | grep query | sed -n "1p" | grep -o "on_or_after\":\"[^\"]*\"" >f &&
    echo "on_or_after\":\"2024-06-01T05:00:00Z\"" >expect && test_cmp expect f &&
    test_grep "Loaded 4 rows into raw_nt.database_db123" out &&
    q "SELECT count(*) FROM raw_nt.database_db123" >v && echo 8 >expect && test_cmp expect v
'

test_expect_success 'notion: a bad token is an AuthenticationError with "API token is invalid."' '
    sed -i "s|      database_ids: \[db123\]|      api_key_env: BAD\n      database_ids: [db123]|" .dango/sources.yml &&
    test_expect_code 1 dango sync nt >out 2>err &&
    test_grep "^AuthenticationError: Invalid API key (HTTP 401 from $NOTION/v1/users" err &&
    test_grep "The API says: API token is invalid.$" err &&
    sed -i "/api_key_env: BAD/d" .dango/sources.yml
'

test_expect_success 'notion: rate_limited (429, Retry-After) is waited out' '
    PAPI=$NOTION && plimit 1 && dango sync nt >out 2>&1 &&
    test_grep "HTTP 429 from $NOTION/v1/users" out && test_grep "Sync complete" out
'

test_expect_success 'hubspot: contacts searched with a GTE filter on lastmodifieddate, after in the body' '
    cat >>.dango/sources.yml <<-EOF &&
	  - name: hs
	    type: hubspot
	    hubspot:
	      api_key_env: HUBSPOT_API_KEY
	      endpoints: [contacts, deals]
	      start_date: "2024-06-01"
	      base_url: $HUBSPOT
	      request_backoff_factor: 0.05
	EOF
    PAPI=$HUBSPOT PLOG=$HLOG && m=$(pmark) && dango sync hs >out &&
    test_grep "Loaded 5 rows into raw_hs.contacts" out && test_grep "Loaded 5 rows into raw_hs.deals" out &&
    plog_since $m | grep contacts | cut -d" " -f1,2,4- >reqs &&
    printf "%s\n" "POST /crm/v3/objects/contacts/search body={\"filterGroups\":[{\"filters\":[{\"propertyName\":\"lastmodifieddate\",\"operator\":\"GTE\",\"value\":\"2024-06-01T00:00:00Z\"}]}],\"sorts\":[{\"propertyName\":\"lastmodifieddate\",\"direction\":\"ASCENDING\"}],\"limit\":100}" >expect &&
    test_cmp expect reqs &&
    q "SELECT id, properties__email, properties__lastmodifieddate FROM raw_hs.contacts ORDER BY id::INT LIMIT 2" >v &&
    printf "1,c1@example.com,2024-06-01 01:00:00+00\n2,c2@example.com,2024-06-01 02:00:00+00\n" >expect && test_cmp expect v
'

test_expect_success 'hubspot: the next sync searches from the newest updatedAt' '
    PAPI=$HUBSPOT && padd 2 && PAPI=$HUBSPOT PLOG=$HLOG && m=$(pmark) && dango sync hs >out &&
    plog_since $m | grep deals | grep -o "\"value\":\"[^\"]*\"" >f && echo "\"value\":\"2024-06-01T05:00:00Z\"" >expect && test_cmp expect f &&
    test_grep "Loaded 3 rows into raw_hs.deals" out &&
    q "SELECT count(*) FROM raw_hs.deals" >v && echo 7 >expect && test_cmp expect v
'

test_expect_success 'hubspot: the secondly limit (429 RATE_LIMIT) is retried; when it persists, the API'"'"'s words' '
    PAPI=$HUBSPOT && plimit 1 && dango sync hs >out 2>&1 && test_grep "HTTP 429" out && test_grep "Sync complete" out &&
    plimit 10 && test_expect_code 1 dango sync hs >out 2>err &&
    test_grep "RateLimitError: Too many requests (HTTP 429 from $HUBSPOT/crm/v3/objects/contacts/search, 5 attempts)" err &&
    test_grep "The API says: You have reached your secondly limit." err &&
    curl -s -X POST "$HUBSPOT/_control/ratelimit?n=0" >/dev/null
'

test_expect_success 'hubspot: a bad token: AuthenticationError with HubSpot'"'"'s message' '
    sed -i "s/api_key_env: HUBSPOT_API_KEY/api_key_env: BAD/" .dango/sources.yml &&
    test_expect_code 1 dango sync hs >out 2>err &&
    test_grep "^AuthenticationError: Invalid API key (HTTP 401 from $HUBSPOT/crm/v3/objects/contacts/search)" err &&
    test_grep "The API says: Authentication credentials not found." err
'

test_done
