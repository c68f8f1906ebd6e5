#!/usr/bin/env bash
# dango state on a REST source with a date cursor: show it, move it back
# (a merge resource re-reads and keeps one row per key) and forward, refuse
# values that are no date, confirm before re-appending, reset.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: api
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - name: items
          path: /incremental
          primary_key: id
          write_disposition: merge
          paginator: {type: page_number}
          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2024-06-01T20:00:00Z"}
        - name: log
          path: /incremental
          write_disposition: append
          paginator: {type: page_number}
          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2024-06-01T22:00:00Z"}
EOF

test_expect_success 'show: the cursor as a date, its boundary keys, rows, last load' '
    dango sync api >out 2>&1 &&
    dango state show api --resource items >out &&
    sed -e "s/[0-9]\{10\}\.[0-9]*/LOAD/; s/at 20[0-9-]* [0-9:]*/at TIME/g" out >actual &&
    cat >expect <<-\EOF &&
	Source: api (rest_api)
	  resource: items
	    write_disposition: merge (primary key id)
	    last_value: 2024-06-02T01:00:00Z
	    first_value: 2024-06-01T20:00:00Z
	    last_load: LOAD at TIME
	    rows_synced: 6 (rows in the table now)
	EOF
    test_cmp expect actual &&
    dango state show api --resource log >out &&
    test_grep "boundary_keys: 1 (" out
'

test_expect_success 'dry run shows the values the sync would start from' '
    dango sync api --dry-run >out 2>&1 &&
    test_grep "state: items: starts from cursor 2024-06-02T01:00:00Z" out &&
    test_grep "state: log: starts from cursor 2024-06-02T01:00:00Z" out
'

test_expect_success 'bad values and unknown resources are refused with the valid choices' '
    test_expect_code 1 dango state set api items --cursor yesterday 2>err &&
    test_grep "'"'yesterday'"' is not a valid cursor for items: give a date or timestamp, such as 2024-01-15" err &&
    test_expect_code 1 dango state set api itmes --cursor 2024-06-01 2>err &&
    test_grep "source .api. has no resource .itmes. with a cursor (resources with one: items, log)" err &&
    test_expect_code 1 dango state set nope items --cursor 2024-06-01 2>err &&
    test_grep "no source named .nope." err &&
    dango state show api --resource items >out && test_grep "last_value: 2024-06-02T01:00:00Z" out
'

test_expect_success 'rewind a merge resource: the next sync re-reads from there, no duplicates' '
    dango state set api items --cursor 2024-06-01T10:00:00Z >out &&
    test_grep "api.items: cursor 2024-06-02T01:00:00Z -> 2024-06-01T10:00:00Z" out &&
    test_grep "merges on the primary key (no duplicates)" out &&
    dango state show api --resource items >out &&
    test_grep "last_change: set by .* (dango state set) at .* (was 2024-06-02T01:00:00Z, set to 2024-06-01T10:00:00Z)" out &&
    m=$(mark) &&
    dango sync api >out 2>&1 &&
    log_since $m | grep "/incremental" | grep -c "updated_since=2024-06-01T10:00:00Z" >n && test "$(cat n)" -ge 1 &&
    q "SELECT count(*), count(DISTINCT id), min(id) FROM raw_api.items" >v && echo "16,16,10" >expect &&
    test_cmp expect v &&
    dango state show api --resource items >out && test_grep "last_value: 2024-06-02T01:00:00Z" out &&
    test_grep "moved since: by the sync of" out
'

test_expect_success 'forward: the next sync starts there' '
    dango state set api items --cursor 2024-06-03 >out &&
    dango sync api --dry-run >out 2>&1 &&
    test_grep "state: items: starts from cursor 2024-06-03" out
'

test_expect_success 'rewinding an append resource warns, and needs a terminal or -y' '
    test_expect_code 1 dango state set api log --cursor 2024-06-01T23:00:00Z </dev/null >out 2>err &&
    test_grep "log appends (no primary key): the rows after 2024-06-01T23:00:00Z that were loaded already will be appended again" err &&
    test_grep "no terminal to confirm on; pass -y" err &&
    dango state show api --resource log >out && test_grep "last_value: 2024-06-02T01:00:00Z" out &&
    run_on_tty "y\n" dango state set api log --cursor 2024-06-01T23:00:00Z >out &&
    test_grep "api.log: cursor 2024-06-02T01:00:00Z -> 2024-06-01T23:00:00Z" out
'

test_expect_success 'reset one resource: it starts from its initial value again; the other keeps its cursor' '
    dango state reset api --resource items -y >out &&
    dango sync api --dry-run >out 2>&1 &&
    test_grep "items: GET .* (incremental from 2024-06-01T20:00:00Z)" out &&
    test_grep "state: log: starts from cursor 2024-06-01T23:00:00Z" out &&
    dango sync api >out 2>&1 &&
    q "SELECT count(*), count(DISTINCT id) FROM raw_api.items" >v && echo "16,16" >expect && test_cmp expect v
'

test_done
