#!/usr/bin/env bash
# Asana (workspaces -> projects -> tasks with modified_since; next_page.offset)
# and Airtable (one table per Airtable table; IS_AFTER on the last-modified field).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/provider_lib.sh"

new_project ASANA_ACCESS_TOKEN=asana-pat AIRTABLE_TOKEN=pat-airtable

start_provider asana || exit 1
SRC=asn TABLE=tasks FIRST=10
ENTRY="  - name: asn
    type: asana
    asana:
      start_date: \"2024-06-01\"
      base_url: @API@
      request_backoff_factor: 0.05"
REQ_FIRST='^GET /api/1.0/tasks\?project=2002&opt_fields=[^ ]*&modified_since=2024-06-01T00%3A00%3A00Z&limit=100 auth=Bearer'
SELECT="SELECT gid, name, _projects_gid FROM raw_asn.tasks ORDER BY gid LIMIT 2"
EXPECT='31001,Task 1 of 2001,2001\n31002,Task 2 of 2001,2001\n'
REQ_NEXT='^GET /api/1.0/tasks\?project=2001&.*modified_since=2024-06-01T05%3A00%3A00Z' NEXT=14
LIMITED='HTTP 429 from .*/api/1.0/workspaces.*Retry-After'
BAD='s/^ASANA_ACCESS_TOKEN=.*/ASANA_ACCESS_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: Not Authorized'
preset_tests

start_provider airtable || exit 1
SRC=at TABLE=team_members FIRST=5
ENTRY="  - name: at
    type: airtable
    airtable:
      base_id: appBase1
      tables: [Tasks, Team Members]
      start_date: \"2024-06-01\"
      base_url: @API@
      request_backoff_factor: 0.05"
REQ_FIRST="^GET /v0/appBase1/Team%20Members\?filterByFormula=IS_AFTER%28%7BLast%20Modified%7D%2C%20%272024-06-01T00%3A00%3A00Z%27%29&pageSize=100 auth=Bearer"
SELECT="SELECT id, fields__name, fields__done FROM raw_at.team_members ORDER BY id LIMIT 2"
EXPECT='rec00001,Team Members 1,true\nrec00002,Team Members 2,\n'
REQ_NEXT='IS_AFTER%28%7BLast%20Modified%7D%2C%20%272024-06-01T05%3A00%3A00Z%27%29' NEXT=7
LIMITED='HTTP 429 from .*/v0/appBase1/Tasks'
BAD='s/^AIRTABLE_TOKEN=.*/AIRTABLE_TOKEN=bad-token-x9/'
AUTH_ERR='The API says: Authentication required'
preset_tests

test_done
