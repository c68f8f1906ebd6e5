#!/usr/bin/env bash
# Shopify (updated_at_min, Link page_info pages, X-Shopify-Access-Token) and
# Strapi (one table per collection; pagination[page]; filters[updatedAt][$gte]).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

new_project SHOPIFY_ACCESS_TOKEN=shpat_test STRAPI_API_TOKEN=strapi-token

start_provider shopify || exit 1
SRC=shop TABLE=orders FIRST=5
ENTRY="  - name: shop
    type: shopify
    shopify:
      start_date: \"2024-06-01\"
      base_url: @API@
      request_backoff_factor: 0.05"
REQ_FIRST='^GET /admin/api/2024-07/orders.json\?status=any&limit=250&updated_at_min=2024-06-01T00%3A00%3A00Z auth=- '
SELECT="SELECT o.name, o.total_price, li.quantity FROM raw_shop.orders o JOIN raw_shop.orders__line_items li ON li._dlt_parent_id = o._dlt_id ORDER BY o.id LIMIT 2"
EXPECT='#1001,10.00,1\n#1002,20.00,2\n'
REQ_NEXT='^GET /admin/api/2024-07/orders.json\?status=any&limit=250&updated_at_min=2024-06-01T05%3A00%3A00Z ' NEXT=7
LIMITED='HTTP 429 from .*/admin/api/2024-07/orders.json.*Retry-After'
BAD='s/^SHOPIFY_ACCESS_TOKEN=.*/SHOPIFY_ACCESS_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: \[API\] Invalid API key or access token \(unrecognized login or wrong password\)'
preset_tests

start_provider strapi || exit 1
SRC=cms TABLE=articles FIRST=5
ENTRY="  - name: cms
    type: strapi
    strapi:
      collections: [articles, authors]
      start_date: \"2024-06-01\"
      base_url: @API@
      request_backoff_factor: 0.05"
REQ_FIRST='^GET /api/articles\?sort=updatedAt%3Aasc&filters%5BupdatedAt%5D%5B%24gte%5D=2024-06-01T00%3A00%3A00Z&pagination%5Bpage%5D=1&pagination%5BpageSize%5D=100 auth=Bearer'
SELECT="SELECT id, document_id, title FROM raw_cms.articles ORDER BY id LIMIT 2"
EXPECT='1,doc0001,articles 1\n2,doc0002,articles 2\n'
REQ_NEXT='filters%5BupdatedAt%5D%5B%24gte%5D=2024-06-01T05%3A00%3A00Z' NEXT=7
LIMITED='HTTP 429 from .*/api/articles.*Retry-After'
BAD='s/^STRAPI_API_TOKEN=.*/STRAPI_API_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: Missing or invalid credentials'
preset_tests

test_done
