#!/usr/bin/env bash
# dango sync of rest_api sources into a PostgreSQL warehouse (#19), against
# the local fake API: nested objects flattened and lists in child tables
# linked by _dlt_id; an incremental merge whose cursor is committed with
# the rows; the rows read back with psql.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
pg_warehouse_use
cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: nest
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - {name: orders, path: /nested, primary_key: id}
  - name: inc
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - name: items
          path: /incremental
          primary_key: id
          write_disposition: merge
          paginator: {type: page_number, page_param: page}
          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2024-06-01T10:00:00Z"}
EOF

test_expect_success 'nested data: flattened columns and child tables linked by _dlt_id' '
    dango sync nest >out 2>err &&
    test_grep "Loaded 2 rows into raw_nest.orders" out && test_grep "Loaded 3 rows into raw_nest.orders__tags" out &&
    whq "SELECT o.id, t.value, t._dlt_list_idx FROM raw_nest.orders o JOIN raw_nest.orders__tags t ON t._dlt_parent_id = o._dlt_id ORDER BY 1, 3" >v &&
    printf "id|value|_dlt_list_idx\n1|a|0\n1|b|1\n2|c|0\n(3 rows)\n" >expect && test_cmp expect v &&
    whq "SELECT l.sku, p.p FROM raw_nest.orders__lines l JOIN raw_nest.orders__lines__parts p ON p._dlt_parent_id = l._dlt_id ORDER BY 2" >v &&
    printf "sku|p\nx|1\nx|2\n(2 rows)\n" >expect && test_cmp expect v &&
    whq "SELECT created FROM raw_nest.orders ORDER BY id" >v &&
    printf "created\n2024-06-01 10:00:00+00\n2024-06-02 09:30:00+00\n(2 rows)\n" >expect && test_cmp expect v
'

test_expect_success 'incremental merge: the cursor commits with the rows; changed rows replace by key' '
    dango sync inc >out 2>err && test_grep "Loaded 16 rows into raw_inc.items" out &&
    whq "SELECT state->>'"'"'cursor'"'"' AS cursor FROM raw_inc._dango_state WHERE resource = '"'"'items'"'"'" >c &&
    printf "cursor\n2024-06-02T01:00:00Z\n(1 row)\n" >expect && test_cmp expect c &&
    curl -s -X POST "$API/_control/add?what=items&n=3" >/dev/null && curl -s -X POST "$API/_control/touch?what=items&id=12" >/dev/null &&
    dango sync inc >out 2>err && test_grep "Fetching items (incremental from 2024-06-02T01:00:00Z)" out &&
    test_grep "Loaded 5 rows into raw_inc.items" out &&
    whq "SELECT count(*), count(DISTINCT id) FROM raw_inc.items" >n && printf "count|count\n19|19\n(1 row)\n" >expect && test_cmp expect n &&
    whq "SELECT name FROM raw_inc.items WHERE id = 12" >v && printf "name\nitem-12-v2\n(1 row)\n" >expect && test_cmp expect v
'

test_done
