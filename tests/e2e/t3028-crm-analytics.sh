#!/usr/bin/env bash
# Salesforce (SOQL, nextRecordsUrl, SystemModstamp), Personio (a token from
# /v1/auth), Workable (paging.next), Matomo (days keyed by date, errors in a
# 200), Google Sheets (a header row), GA4 (runReport zipped with its
# headers), Google Ads (searchStream batches), Facebook Ads (an async
# report run polled until done).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

new_project 'SALESFORCE_ACCESS_TOKEN=00Dtest!token' PERSONIO_CLIENT_ID=pers-id PERSONIO_CLIENT_SECRET=pers-secret \
    WORKABLE_API_TOKEN=wk-token MATOMO_TOKEN_AUTH=mt-token GOOGLE_SHEETS_ACCESS_TOKEN=ya29.sheets \
    GOOGLE_ANALYTICS_ACCESS_TOKEN=ya29.ga4 GOOGLE_ADS_ACCESS_TOKEN=ya29.ads GOOGLE_ADS_DEVELOPER_TOKEN=dev-token \
    FACEBOOK_ACCESS_TOKEN=EAAB-test

entry() { # TYPE NAME LINES...
    local t=$1 n=$2; shift 2
    printf '  - name: %s\n    type: %s\n    %s:\n' "$n" "$t" "$t"
    printf '      %s\n' "$@" "base_url: @API@" "request_backoff_factor: 0.05"
}

start_provider salesforce || exit 1
SRC=sf TABLE=account FIRST=5 ENTRY=$(entry salesforce sf "objects: [Account, Contact]" 'start_date: "2024-06-01"')
REQ_FIRST='^GET /services/data/v59.0/query\?q=SELECT%20FIELDS%28STANDARD%29%20FROM%20Account%20WHERE%20SystemModstamp%20%3E%3D%202024-06-01T00%3A00%3A00Z%20ORDER%20BY%20SystemModstamp%20ASC auth=Bearer'
SELECT="SELECT id, name, attributes__type FROM raw_sf.account ORDER BY id LIMIT 2"
EXPECT='Acc000000000001,Account 1,Account\nAcc000000000002,Account 2,Account\n'
REQ_NEXT='SystemModstamp%20%3E%3D%202024-06-01T05%3A00%3A00Z' NEXT=7
LIMITED='^RateLimitError: Too many requests \(HTTP 403 from .*/services/data/v59.0/query' LIMIT_FAILS=1
BAD='s/^SALESFORCE_ACCESS_TOKEN=.*/SALESFORCE_ACCESS_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: Session expired or invalid'
preset_tests
unset LIMIT_FAILS

start_provider personio || exit 1
SRC=hr TABLE=employees FIRST=5 ENTRY=$(entry personio hr 'start_date: "2024-06-01"')
REQ_FIRST='^GET /v1/company/employees\?updated_since=2024-06-01T00%3A00%3A00&limit=200&offset=0 auth=Bearer'
SELECT="SELECT attributes__id__value, attributes__first_name__value FROM raw_hr.employees ORDER BY 1 LIMIT 2"
EXPECT='1,Emp1\n2,Emp2\n'
REQ_NEXT='updated_since=2024-06-01T05%3A00%3A00&' NEXT=7
LIMITED='HTTP 429 from .*/v1/auth.*Retry-After'
BAD='s/^PERSONIO_CLIENT_SECRET=.*/PERSONIO_CLIENT_SECRET=bad-token-x9/'
AUTH_ERR='^AuthenticationError: Invalid API key \(HTTP 401 from .*/v1/auth\); check the environment variables PERSONIO_CLIENT_ID and PERSONIO_CLIENT_SECRET'
preset_tests

start_provider workable || exit 1
SRC=wk TABLE=candidates FIRST=5 ENTRY=$(entry workable wk 'start_date: "2024-06-01"')
REQ_FIRST='^GET /spi/v3/candidates\?limit=100&updated_after=2024-06-01T00%3A00%3A00Z auth=Bearer'
SELECT="SELECT id, name, job__shortcode FROM raw_wk.candidates ORDER BY id LIMIT 2"
EXPECT='c001,Candidate 1,J1\nc002,Candidate 2,J1\n'
REQ_NEXT='updated_after=2024-06-01T05%3A00%3A00Z' NEXT=7
LIMITED='HTTP 429 from .*/spi/v3/candidates.*Retry-After'
BAD='s/^WORKABLE_API_TOKEN=.*/WORKABLE_API_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: Not authorized'
preset_tests

start_provider matomo || exit 1
SRC=mt TABLE=page_urls FIRST=10 ENTRY=$(entry matomo mt 'start_date: "2024-06-01"')
REQ_FIRST='^GET /index.php\?module=API&method=Actions.getPageUrls&idSite=1&period=day&flat=1&date=2024-06-01%2Ctoday&format=JSON&token_auth=mt-token '
SELECT="SELECT date, label, nb_visits FROM raw_mt.page_urls ORDER BY date, label LIMIT 3"
EXPECT='2024-06-01,/home,5\n2024-06-01,/pricing,1\n2024-06-02,/home,10\n'
REQ_NEXT='date=2024-06-05%2Ctoday' NEXT=14
LIMITED='HTTP 429 from .*/index.php.*Retry-After'
BAD='s/^MATOMO_TOKEN_AUTH=.*/MATOMO_TOKEN_AUTH=bad-token-x9/'
AUTH_ERR="The API says: You can't access this resource as it requires 'view' access for the website id = 1."
preset_tests

start_provider google_sheets || exit 1
test_expect_success 'google sheets: one table per sheet, the first row as columns, replaced each sync' '
    entry google_sheets gs "spreadsheet_id: sheet123" "sheets: [Orders, Team list]" | sed "s|@API@|$PAPI|" >>.dango/sources.yml &&
    m=$(pmark) && dango sync gs >out &&
    test_grep "Loaded 5 rows into raw_gs.orders" out && test_grep "Loaded 2 rows into raw_gs.team_list" out &&
    plog_since $m | cut -d" " -f2 | head -1 >reqs &&
    echo "/v4/spreadsheets/sheet123/values/Orders?majorDimension=ROWS&valueRenderOption=UNFORMATTED_VALUE&dateTimeRenderOption=FORMATTED_STRING" >expect && test_cmp expect reqs &&
    q "SELECT order_id, customer, amount, paid FROM raw_gs.orders ORDER BY order_id LIMIT 2" >v &&
    printf "1,Cust 1,10.5,false\n2,Cust 2,21.0,true\n" >expect && test_cmp expect v &&
    q "SELECT name, role, column_3 FROM raw_gs.team_list ORDER BY name" >v && printf "Ann,Lead,\nBob,Dev,extra\n" >expect && test_cmp expect v &&
    PAPI=$PAPI padd 2 && dango sync gs >out && q "SELECT count(*) FROM raw_gs.orders" >v && echo 7 >expect && test_cmp expect v
'
test_expect_success 'google sheets: quota (429 RESOURCE_EXHAUSTED) retried; UNAUTHENTICATED named' '
    plimit 1 && dango sync gs >out 2>&1 && test_grep "HTTP 429" out &&
    sed -i "s/^GOOGLE_SHEETS_ACCESS_TOKEN=.*/GOOGLE_SHEETS_ACCESS_TOKEN=bad-token-x9/" .env &&
    test_expect_code 1 dango sync gs >out 2>err && test_grep "The API says: Request had invalid authentication credentials." err
'

start_provider ga4 || exit 1
SRC=ga TABLE=report FIRST=10 ENTRY=$(entry google_analytics ga 'property_id: "123"' 'start_date: "2024-06-01"')
REQ_FIRST='^POST /v1beta/properties/123:runReport auth=Bearer body=\{"dateRanges":\[\{"startDate":"2024-06-01","endDate":"today"\}\],"dimensions":\[\{"name":"date"\},\{"name":"country"\}\],"metrics":\[\{"name":"activeUsers"\},\{"name":"sessions"\}\],"keepEmptyRows":false,"limit":10000,"offset":0\}'
SELECT="SELECT date, country, active_users, sessions FROM raw_ga.report ORDER BY date, country LIMIT 2"
EXPECT='20240601,France,16,20\n20240601,Germany,17,20\n'
REQ_NEXT='"startDate":"2024-06-05"' NEXT=14
LIMITED='HTTP 429 from .*:runReport'
BAD='s/^GOOGLE_ANALYTICS_ACCESS_TOKEN=.*/GOOGLE_ANALYTICS_ACCESS_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: Request had invalid authentication credentials.'
preset_tests

start_provider google_ads || exit 1
SRC=ads TABLE=campaign_stats FIRST=10 ENTRY=$(entry google_ads ads 'customer_id: "1234567890"' 'start_date: "2024-06-01"')
REQ_FIRST="^POST /v17/customers/1234567890/googleAds:searchStream auth=Bearer body=\{\"query\":\"SELECT campaign.id, .* FROM campaign WHERE segments.date >= '2024-06-01' AND segments.date <= '[0-9-]+'\"\}"
SELECT="SELECT campaign__id, campaign__name, segments__date, metrics__clicks FROM raw_ads.campaign_stats ORDER BY segments__date, campaign__id LIMIT 2"
EXPECT='11,Brand,2024-06-01,11\n12,Generic,2024-06-01,12\n'
REQ_NEXT="segments.date >= '2024-06-05'" NEXT=14
LIMITED='HTTP 429 from .*googleAds:searchStream'
BAD='s/^GOOGLE_ADS_DEVELOPER_TOKEN=.*/GOOGLE_ADS_DEVELOPER_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: The developer token is not valid.'
preset_tests

start_provider facebook_ads || exit 1
SRC=fb TABLE=ads_insights FIRST=10 ENTRY=$(entry facebook_ads fb 'account_id: "42"' 'poll_seconds: 0.1' 'start_date: "2024-06-01"')
REQ_FIRST='^POST /v19.0/act_42/insights\?level=ad&fields=[^ ]*&time_increment=1&time_range=%7B%22since%22%3A%222024-06-01%22%2C%22until%22%3A%22[0-9-]+%22%7D&access_token=EAAB-test '
SELECT="SELECT ad_id, date_start, impressions, spend FROM raw_fb.ads_insights ORDER BY date_start, ad_id LIMIT 2"
EXPECT='701,2024-06-01,101,1.50\n702,2024-06-01,102,1.50\n'
REQ_NEXT='time_range=%7B%22since%22%3A%222024-06-05%22' NEXT=14
LIMITED='^RateLimitError: Too many requests \(HTTP 400 from .*/v19.0/act_42/insights' LIMIT_FAILS=1
BAD='s/^FACEBOOK_ACCESS_TOKEN=.*/FACEBOOK_ACCESS_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: Invalid OAuth access token - Cannot parse access token'
preset_tests

test_expect_success 'facebook ads: the report run was polled until Job Completed' '
    grep -c "^GET /v19.0/600042?access_token" "$PLOG" >n && test "$(cat n)" -ge 2
'

test_done
