#!/usr/bin/env bash
# rest_api pages fetched at once (concurrency) where the paginator knows
# their URLs from the first page's total: the same rows, in the same order,
# as one page at a time; and a page that fails mid-way fails the sync and
# leaves the warehouse and the state as they were.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
# an endpoint of 25 items in 13 pages of 2, by offset with the total; the
# page at offset FAIL (if any) answers 500
write_sources() {
    cat >.dango/sources.yml <<YAML
version: "1.0"
sources:
  - name: seq
    type: rest_api
    rest_api:
      base_url: $API
      concurrency: 1
      endpoints:
        - {name: items, path: /offset, paginator: {type: offset, limit: 2, total_path: total}}
  - name: conc
    type: rest_api
    rest_api:
      base_url: $API
      concurrency: 4
      request_max_attempts: 2
      request_backoff_factor: 0
      endpoints:
        - name: items
          path: /offset
          params: {fail: $1}
          primary_key: id
          write_disposition: merge
          paginator: {type: offset, limit: 2, total_path: total}
          incremental: {cursor_path: updated_at}
YAML
}
write_sources -1
# every column but the load's own (its id and time, and the random _dlt_id)
rows() { dango query --csv "SELECT * EXCLUDE (_dlt_load_id, _dlt_id, _dlt_extracted_at) FROM raw_$1.items ${2:-}"; }

test_expect_success 'concurrent pages give the rows of sequential ones, in page order' '
    m=$(mark) &&
    dango sync seq >out 2>&1 &&
    test_grep ! "at a time" out &&
    dango sync conc >out 2>&1 &&
    test_grep "^\[[0-9:]*\] items: 12 more pages, 4 at a time (the total says where they are)$" out &&
    test_grep "Loaded 25 rows into raw_conc.items" out &&
    rows seq >seq.csv &&
    rows conc >conc.csv &&
    test "$(wc -l <conc.csv)" = 26 &&
    test_cmp seq.csv conc.csv &&
    rows seq "ORDER BY id" >seq_sorted.csv &&
    test_cmp seq_sorted.csv conc.csv &&
    head -3 conc.csv >actual &&
    cat >expect <<-\EOF &&
	id,name,updated_at,amount,active,note
	1,item-1,2024-06-01 01:00:00+00,1.5,true,
	2,item-2,2024-06-01 02:00:00+00,2.5,false,
	EOF
    test_cmp expect actual &&
    log_since $m | cut -d" " -f2 | grep "fail=-1" | sort >reqs &&
    for o in 0 2 4 6 8 10 12 14 16 18 20 22 24; do echo "/offset?fail=-1&limit=2&offset=$o"; done | sort >expect &&
    test_cmp expect reqs
'

test_expect_success 'a page failing mid-way leaves the warehouse and the state as they were' '
    dango state show conc --resource items >state.before &&
    dango query --csv "SELECT * FROM raw_conc.items ORDER BY id" >rows.before &&
    curl -s -X POST "$API/_control/touch?what=items&id=3" >/dev/null &&
    curl -s -X POST "$API/_control/add?what=items&n=2" >/dev/null &&
    write_sources 14 &&
    test_must_fail dango sync conc >out 2>&1 &&
    test_grep "HTTP 500 from $API/offset?fail=14&limit=2&offset=14 (after 2 attempts)" out &&
    test_grep ! "Loaded" out &&
    dango state show conc --resource items >state.after &&
    test_cmp state.before state.after &&
    dango query --csv "SELECT * FROM raw_conc.items ORDER BY id" >rows.after &&
    test_cmp rows.before rows.after
'

test_expect_success 'the sync after the failure loads the new and changed rows' '
    write_sources -1 &&
    dango sync conc >out 2>&1 &&
    dango query --csv "SELECT id, name FROM raw_conc.items WHERE id = 3 OR id > 25 ORDER BY id" >actual &&
    cat >expect <<-\EOF &&
	id,name
	3,item-3-v2
	26,item-26
	27,item-27
	EOF
    test_cmp expect actual &&
    rows conc "ORDER BY id" >all.csv &&
    test "$(wc -l <all.csv)" = 28
'

test_expect_success 'concurrency must be a whole number from 1 to 64' '
    sed -i "s/concurrency: 4/concurrency: 0/" .dango/sources.yml &&
    test_must_fail dango sync conc >out 2>&1 &&
    test_grep "concurrency .0. is not a whole number from 1 to 64" out
'

test_done
