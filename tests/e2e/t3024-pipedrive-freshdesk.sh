#!/usr/bin/env bash
# Pipedrive (v2 lists: updated_since, next_cursor; the x-api-token header)
# and Freshdesk (updated_since, Link-header pages, the API key as basic user).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

new_project PIPEDRIVE_API_TOKEN=pd-token FRESHDESK_API_KEY=fd-key

start_provider pipedrive || exit 1
SRC=pd TABLE=deals FIRST=5
ENTRY="  - name: pd
    type: pipedrive
    pipedrive:
      endpoints: [deals, persons, users]
      start_date: \"2024-06-01\"
      base_url: @API@
      request_backoff_factor: 0.05"
REQ_FIRST='^GET /api/v2/deals\?updated_since=2024-06-01T00%3A00%3A00Z&limit=500 auth=- '
SELECT="SELECT d.id, d.title, d.value, d.currency, (SELECT count(*) FROM raw_pd.persons__emails) FROM raw_pd.deals d ORDER BY id LIMIT 2"
EXPECT='1,Deal 1,100,EUR,5\n2,Deal 2,200,EUR,5\n'
REQ_NEXT='^GET /api/v2/deals\?updated_since=2024-06-01T05%3A00%3A00Z&limit=500 ' NEXT=7
LIMITED='HTTP 429 from .*/api/v2/deals.*Retry-After'
BAD='s/^PIPEDRIVE_API_TOKEN=.*/PIPEDRIVE_API_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: unauthorized access'
preset_tests

start_provider freshdesk || exit 1
SRC=fd TABLE=tickets FIRST=5
ENTRY="  - name: fd
    type: freshdesk
    freshdesk:
      start_date: \"2024-06-01\"
      base_url: @API@
      request_backoff_factor: 0.05"
REQ_FIRST='^GET /api/v2/tickets\?per_page=100&order_by=updated_at&order_type=asc&updated_since=2024-06-01T00%3A00%3A00Z auth=Basic'
SELECT="SELECT id, subject, status, priority FROM raw_fd.tickets ORDER BY id LIMIT 2"
EXPECT='1,Ticket 1,2,1\n2,Ticket 2,2,1\n'
REQ_NEXT='^GET /api/v2/contacts\?per_page=100&_updated_since=2024-06-01T05%3A00%3A00Z ' NEXT=7
LIMITED='HTTP 429 from .*/api/v2/tickets.*Retry-After'
BAD='s/^FRESHDESK_API_KEY=.*/FRESHDESK_API_KEY=bad-token-x9/'
AUTH_ERR='The API says: You have to be logged in to perform this action.'
preset_tests

test_done
