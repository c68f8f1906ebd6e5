#!/usr/bin/env bash
# Several pages from Zendesk (incremental export: after_url until
# end_of_stream), Jira (JQL search: nextPageToken until isLast) and Shopify
# (Link header with page_info, which carries every parameter): each page
# asked for as the provider documents it, every record loaded once, a 429
# in the middle of the pages retried, and a re-sync that pages through the
# new records only.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

new_project ZENDESK_API_TOKEN=zd-token JIRA_API_TOKEN=jira-token SHOPIFY_ACCESS_TOKEN=shpat_test

# the request lines of the log after mark $1, without the auth and body parts
requests_since() { plog_since "$1" | sed 's/ auth=.*//'; }


# The two checks, for one provider: SRC, TABLE, KEY (a column), ENTRY, the
# expected request lines FIRST_REQS / NEXT_REQS and rows FIRST_ROWS / NEXT_ROWS.
paging_tests() {
    test_expect_success "$SRC: five records over three pages, each page asked for as documented" '
        printf "%s\n" "$ENTRY" | sed "s|@API@|$PAPI|" >>.dango/sources.yml &&
        ppages 2 &&
        m=$(pmark) && dango sync $SRC >out 2>&1 &&
        requests_since $m >reqs &&
        printf "%s\n" "$FIRST_REQS" >expect && test_cmp expect reqs &&
        q "SELECT count(*), count(DISTINCT $KEY), min($KEY), max($KEY) FROM raw_$SRC.$TABLE" >v &&
        printf "$FIRST_ROWS" >expect && test_cmp expect v
    '
    test_expect_success "$SRC: the re-sync pages through the new records only; a 429 on its second page is retried" '
        padd 3 && plimit_after 1 1 &&
        m=$(pmark) && dango sync $SRC >out 2>&1 &&
        grep -E "HTTP 429 from .*Retry-After" out >/dev/null &&
        requests_since $m >reqs &&
        printf "%s\n" "$NEXT_REQS" >expect && test_cmp expect reqs &&
        q "SELECT count(*), count(DISTINCT $KEY), min($KEY), max($KEY) FROM raw_$SRC.$TABLE" >v &&
        printf "$NEXT_ROWS" >expect && test_cmp expect v
    '
}

# Zendesk: start_time (epoch seconds) only on the first request, then the
# after_url as given (its cursor and per_page); the re-sync starts at the
# newest updated_at loaded (record 5, 05:00).
start_provider zendesk || exit 1
SRC=zd TABLE=tickets KEY=id
ENTRY="  - name: zd
    type: zendesk
    zendesk:
      email: agent@example.com
      start_date: \"2024-06-01\"
      base_url: @API@
      endpoints: [tickets]
      request_backoff_factor: 0.05"
FIRST_REQS='GET /api/v2/incremental/tickets/cursor.json?per_page=1000&start_time=1717200000
GET /api/v2/incremental/tickets/cursor.json?cursor=WzE3MTcyMDAwMDAsMl0%3D&per_page=2
GET /api/v2/incremental/tickets/cursor.json?cursor=WzE3MTcyMDAwMDAsNF0%3D&per_page=2'
FIRST_ROWS='5,5,1,5\n'
NEXT_REQS='GET /api/v2/incremental/tickets/cursor.json?per_page=1000&start_time=1717218000
GET /api/v2/incremental/tickets/cursor.json?cursor=WzE3MTcyMTgwMDAsMl0%3D&per_page=2
GET /api/v2/incremental/tickets/cursor.json?cursor=WzE3MTcyMTgwMDAsMl0%3D&per_page=2'
NEXT_ROWS='8,8,1,8\n'
paging_tests

# Jira: the same JQL on every page, with the nextPageToken of the last one;
# a page that repeats after the 429 is the same request again.
start_provider jira || exit 1
SRC=jr TABLE=issues KEY=key
ENTRY="  - name: jr
    type: jira
    jira:
      email: jane@example.com
      start_date: \"2024-06-01\"
      base_url: @API@
      endpoints: [issues]
      request_backoff_factor: 0.05"
FIRST_REQS='GET /rest/api/3/search/jql?jql=%20updated%20%3E%3D%20%222024-06-01%2000%3A00%22%20ORDER%20BY%20updated%20ASC&fields=%2Aall&maxResults=100
GET /rest/api/3/search/jql?jql=%20updated%20%3E%3D%20%222024-06-01%2000%3A00%22%20ORDER%20BY%20updated%20ASC&fields=%2Aall&maxResults=100&nextPageToken=b2Zmc2V0OjI%3D
GET /rest/api/3/search/jql?jql=%20updated%20%3E%3D%20%222024-06-01%2000%3A00%22%20ORDER%20BY%20updated%20ASC&fields=%2Aall&maxResults=100&nextPageToken=b2Zmc2V0OjQ%3D'
FIRST_ROWS='5,5,PROJ-1,PROJ-5\n'
NEXT_REQS='GET /rest/api/3/search/jql?jql=%20updated%20%3E%3D%20%222024-06-01%2005%3A00%22%20ORDER%20BY%20updated%20ASC&fields=%2Aall&maxResults=100
GET /rest/api/3/search/jql?jql=%20updated%20%3E%3D%20%222024-06-01%2005%3A00%22%20ORDER%20BY%20updated%20ASC&fields=%2Aall&maxResults=100&nextPageToken=b2Zmc2V0OjI%3D
GET /rest/api/3/search/jql?jql=%20updated%20%3E%3D%20%222024-06-01%2005%3A00%22%20ORDER%20BY%20updated%20ASC&fields=%2Aall&maxResults=100&nextPageToken=b2Zmc2V0OjI%3D'
NEXT_ROWS='8,8,PROJ-1,PROJ-8\n'
paging_tests

# Shopify: a page_info link carries every parameter, so the pages after the
# first are asked for with the link's own query (limit, page_info) only.
start_provider shopify || exit 1
SRC=shop TABLE=orders KEY=name
ENTRY="  - name: shop
    type: shopify
    shopify:
      start_date: \"2024-06-01\"
      base_url: @API@
      endpoints: [orders]
      request_backoff_factor: 0.05"
FIRST_REQS='GET /admin/api/2024-07/orders.json?status=any&limit=250&updated_at_min=2024-06-01T00%3A00%3A00Z
GET /admin/api/2024-07/orders.json?limit=2&page_info=eyJzaW5jZSI6IjIwMjQtMDYtMDFUMDA6MDA6MDBaIiwib2Zmc2V0IjoyfQ%3D%3D
GET /admin/api/2024-07/orders.json?limit=2&page_info=eyJzaW5jZSI6IjIwMjQtMDYtMDFUMDA6MDA6MDBaIiwib2Zmc2V0Ijo0fQ%3D%3D'
FIRST_ROWS='5,5,#1001,#1005\n'
NEXT_REQS='GET /admin/api/2024-07/orders.json?status=any&limit=250&updated_at_min=2024-06-01T05%3A00%3A00Z
GET /admin/api/2024-07/orders.json?limit=2&page_info=eyJzaW5jZSI6IjIwMjQtMDYtMDFUMDU6MDA6MDBaIiwib2Zmc2V0IjoyfQ%3D%3D
GET /admin/api/2024-07/orders.json?limit=2&page_info=eyJzaW5jZSI6IjIwMjQtMDYtMDFUMDU6MDA6MDBaIiwib2Zmc2V0IjoyfQ%3D%3D'
NEXT_ROWS='8,8,#1001,#1008\n'
paging_tests

test_done
