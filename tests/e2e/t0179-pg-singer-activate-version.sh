#!/usr/bin/env bash
# A Singer command source synced into a postgres warehouse (#19): its
# incremental STATE kept on the server, and ACTIVATE_VERSION (full-table
# replication) removing the rows of older versions in the publish
# transaction; a version with no rows empties the table only with
# --allow-empty; records without a version keep only the last load's rows.
# Rows read back with psql.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"
TAPS="$SRC_DIR/tests/fixtures/taps"

pg_warehouse_start

dango init p >/dev/null </dev/null
cd p
pg_warehouse_use
rm -f data/warehouse.duckdb
cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: shop
    type: command
    command:
      run: [$TAPS/tap_shop.py]
      config: {version: 1, events: 2, users: 2}
      select: [events, users]
EOF

rows() { whq "SELECT n, what, _sdc_table_version FROM raw_shop.events ORDER BY n"; }

test_expect_success 'version 1 loads into PostgreSQL' '
    dango sync shop >out 2>&1 &&
    test_grep "stream events: version 1 activated (rows of older versions removed)" out &&
    rows >r && printf "n|what|_sdc_table_version\n0|v1-0|1\n1|v1-1|1\n(2 rows)\n" >expect && test_cmp expect r &&
    whq "SELECT id, name FROM raw_shop.users ORDER BY id" >r &&
    printf "id|name\n1|user 1\n2|user 2\n(2 rows)\n" >expect && test_cmp expect r &&
    ! test -e data/warehouse.duckdb
'

test_expect_success 'version 2 replaces the rows of version 1; users go on from their bookmark' '
    sed -i "s/version: 1, events: 2, users: 2/version: 2, events: 3, users: 3/" .dango/sources.yml &&
    dango sync shop >out 2>&1 &&
    test_grep "Loaded 3 rows into raw_shop.events" out &&
    rows >r && printf "n|what|_sdc_table_version\n0|v2-0|2\n1|v2-1|2\n2|v2-2|2\n(3 rows)\n" >expect && test_cmp expect r &&
    whq "SELECT id, name FROM raw_shop.users ORDER BY id" >r &&
    printf "id|name\n1|user 1\n2|user 2\n3|user 3\n(3 rows)\n" >expect && test_cmp expect r
'

test_expect_success 'a version without rows would empty the table: refused, unless --allow-empty' '
    sed -i "s/version: 2, events: 3/version: 3, events: 0/" .dango/sources.yml &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "activating a new version of raw_shop.events loaded 0 rows over 3 existing rows; refusing" err &&
    rows >r && printf "n|what|_sdc_table_version\n0|v2-0|2\n1|v2-1|2\n2|v2-2|2\n(3 rows)\n" >expect && test_cmp expect r &&
    dango sync shop --allow-empty >out 2>err &&
    test_grep "loaded 0 rows: its 3 previous rows were removed (--allow-empty)" err &&
    whq "SELECT count(*) FROM raw_shop.events" >n && printf "count\n0\n(1 row)\n" >expect && test_cmp expect n
'

test_expect_success 'records without a version: ACTIVATE_VERSION keeps only this load'"'"'s rows' '
    mkdir -p bin && cat >bin/full <<-\EOF2 && chmod +x bin/full &&
	#!/bin/sh
	echo "{\"type\": \"SCHEMA\", \"stream\": \"t\", \"schema\": {\"properties\": {\"v\": {\"type\": \"string\"}}}, \"key_properties\": []}"
	echo "{\"type\": \"RECORD\", \"stream\": \"t\", \"record\": {\"v\": \"$(cat word)\"}}"
	echo "{\"type\": \"ACTIVATE_VERSION\", \"stream\": \"t\", \"version\": $(date +%s%N)}"
	EOF2
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: full
	    type: command
	    command: {run: [bin/full]}
	EOF2
    echo one >word && dango sync full >out 2>&1 && echo two >word && dango sync full >out 2>&1 &&
    whq "SELECT v FROM raw_full.t" >r && printf "v\ntwo\n(1 row)\n" >expect && test_cmp expect r
'

test_done
