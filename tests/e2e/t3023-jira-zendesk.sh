#!/usr/bin/env bash
# Jira (JQL search with nextPageToken) and Zendesk (incremental export with
# start_time, then after_url until end_of_stream).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

new_project JIRA_API_TOKEN=jira-token ZENDESK_API_TOKEN=zd-token

start_provider jira || exit 1
SRC=jr TABLE=issues FIRST=5
ENTRY="  - name: jr
    type: jira
    jira:
      email: jane@example.com
      start_date: \"2024-06-01\"
      base_url: @API@
      request_backoff_factor: 0.05"
REQ_FIRST='^GET /rest/api/3/search/jql\?jql=%20updated%20%3E%3D%20%222024-06-01%2000%3A00%22%20ORDER%20BY%20updated%20ASC&fields=%2Aall&maxResults=100 auth=Basic'
SELECT="SELECT key, fields__summary, fields__status__name FROM raw_jr.issues ORDER BY id LIMIT 2"
EXPECT='PROJ-1,Issue 1,To Do\nPROJ-2,Issue 2,To Do\n'
REQ_NEXT='jql=%20updated%20%3E%3D%20%222024-06-01%2005%3A00%22' NEXT=7
LIMITED='HTTP 429 from .*/rest/api/3/search/jql.*Retry-After'
BAD='s/^JIRA_API_TOKEN=.*/JIRA_API_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: You are not authenticated. Authentication required to perform this operation.'
preset_tests

start_provider zendesk || exit 1
SRC=zd TABLE=tickets FIRST=5
ENTRY="  - name: zd
    type: zendesk
    zendesk:
      email: agent@example.com
      start_date: \"2024-06-01\"
      base_url: @API@
      request_backoff_factor: 0.05"
REQ_FIRST='^GET /api/v2/incremental/tickets/cursor.json\?per_page=1000&start_time=1717200000 auth=Basic'
SELECT="SELECT id, subject, status, updated_at FROM raw_zd.tickets ORDER BY id LIMIT 2"
EXPECT='1,Ticket 1,open,2024-06-01 01:00:00+00\n2,Ticket 2,open,2024-06-01 02:00:00+00\n'
REQ_NEXT='^GET /api/v2/incremental/tickets/cursor.json\?per_page=1000&start_time=1717218000 ' NEXT=7
LIMITED='HTTP 429 from .*/api/v2/incremental/tickets/cursor.json.*Retry-After'
BAD='s/^ZENDESK_API_TOKEN=.*/ZENDESK_API_TOKEN=bad-token-x9/'
AUTH_ERR="The API says: Couldn't authenticate you"
preset_tests

test_done
