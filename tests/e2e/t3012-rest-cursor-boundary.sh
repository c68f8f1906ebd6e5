#!/usr/bin/env bash
# An append resource whose start parameter is inclusive (updated_since:
# updated_at >= value) gets the previous sync's last records again: they
# are recognised by their key (primary key, else a hash of the record)
# kept with the cursor, and dropped, as dlt's incremental does; new records
# that tie with the cursor still load. An exclusive API loses nothing.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: hashed
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - name: items
          path: /incremental
          write_disposition: append
          paginator: {type: page_number}
          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2024-06-01T20:00:00Z"}
  - name: keyed
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - name: items
          path: /incremental
          primary_key: id
          write_disposition: append
          paginator: {type: page_number}
          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2024-06-01T20:00:00Z"}
  - name: exclusive
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - name: items
          path: /incremental
          params: {exclusive: 1}
          write_disposition: append
          paginator: {type: page_number}
          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2024-06-01T20:00:00Z"}
EOF
counts() { q "SELECT count(*) || ' ' || count(DISTINCT id) FROM raw_$1.items"; }

test_expect_success 'first sync: 6 records, the boundary (one record) kept with the cursor' '
    for s in hashed keyed exclusive; do dango sync $s >out || exit 1; done &&
    counts hashed >n && echo "6 6" >expect && test_cmp expect n &&
    counts keyed >n && test_cmp expect n &&
    counts exclusive >n && echo "5 5" >expect && test_cmp expect n &&
    q "SELECT (state->>'"'"'cursor'"'"') || '"'"' '"'"' || json_array_length(state->'"'"'boundary'"'"') FROM raw_hashed._dango_state WHERE resource = '"'"'items'"'"'" >c &&
    echo "2024-06-02T01:00:00Z 1" >expect && test_cmp expect c
'

test_expect_success 'a sync with nothing new loads nothing twice, and says it skipped the boundary record' '
    for s in hashed keyed; do
        m=$(mark) && dango sync $s >out || exit 1
        log_since $m | cut -d" " -f2 | head -1 >reqs && echo "/incremental?updated_since=2024-06-02T01:00:00Z&page=1" >expect && test_cmp expect reqs || exit 1
        strip_clock <out | grep -x "Fetched 0 items (1 already loaded at the cursor, skipped)" || exit 1
        counts $s >n && echo "6 6" >expect && test_cmp expect n || exit 1
    done &&
    dango sync exclusive >out && test_grep "Fetched 0 items$" out && counts exclusive >n && echo "5 5" >expect && test_cmp expect n
'

test_expect_success 'new records that tie with the cursor load; the old boundary does not' '
    curl -s -X POST "$API/_control/add?what=items&n=2&at=25" >/dev/null &&
    curl -s -X POST "$API/_control/add?what=items&n=1" >/dev/null &&
    for s in hashed keyed; do
        dango sync $s >out || exit 1
        strip_clock <out | grep -x "Fetched 3 items (1 already loaded at the cursor, skipped)" || exit 1
        counts $s >n && echo "9 9" >expect && test_cmp expect n || exit 1
        dango sync $s >out && counts $s >n && test_cmp expect n || exit 1
    done &&
    q "SELECT string_agg(id::VARCHAR, '"'"' '"'"' ORDER BY id) FROM raw_keyed.items" >ids && echo "20 21 22 23 24 25 26 27 28" >expect && test_cmp expect ids
'

test_expect_success 'the boundary is the records at the new cursor' '
    q "SELECT (state->>'"'"'cursor'"'"') || '"'"' '"'"' || json_array_length(state->'"'"'boundary'"'"') FROM raw_keyed._dango_state WHERE resource = '"'"'items'"'"'" >c &&
    echo "2024-07-13T20:00:00Z 1" >expect && test_cmp expect c
'

test_expect_success 'a full refresh says so, and does not call itself incremental' '
    dango sync hashed --full-refresh -y >out 2>err &&
    test_grep "Fetching items (full refresh from 2024-06-01T20:00:00Z)" out && test_grep ! "incremental from" out
'

test_done
