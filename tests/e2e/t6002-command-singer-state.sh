#!/usr/bin/env bash
# A Singer tap's STATE: the last one commits with the rows, and the next
# run gets it as --state FILE and resumes; key_properties merge rows again;
# --full-refresh starts without the state.
. "$(dirname "$0")/lib.sh"
TAPS="$SRC_DIR/tests/fixtures/taps"

dango init p >/dev/null </dev/null
cd p
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
cat >.dango/sources.yml <<EOF2
version: "1.0"
sources:
  - name: shop
    type: command
    command:
      run: [$TAPS/tap_shop.py]
      config: {users: 3}
      select: [users]
EOF2

test_expect_success 'the first run has no --state; the last STATE is committed' '
    dango sync shop >out 2>err &&
    test_grep ! "resuming from" out &&
    test_grep "^Loaded 3 rows into raw_shop.users$" <(strip_clock <out) &&
    q "SELECT resource, state FROM raw_shop._dango_state" >st &&
    cat >expect <<-\EOF2 &&
	_command,"{""format"":""singer"",""state"":{""bookmarks"":{""users"":{""id"":3}}}}"
	EOF2
    test_cmp expect st
'

test_expect_success 'the next run resumes from it (--state FILE) and loads only the new records' '
    sed -i "s/users: 3/users: 5/" .dango/sources.yml &&
    dango sync shop >out 2>err &&
    test_grep "\[shop\] resuming from {\"bookmarks\": {\"users\": {\"id\": 3}}}" out &&
    test_grep "^Loaded 2 rows into raw_shop.users$" <(strip_clock <out) &&
    q "SELECT string_agg(id::VARCHAR, '"'"' '"'"' ORDER BY id) FROM raw_shop.users" >ids && echo "1 2 3 4 5" >expect && test_cmp expect ids &&
    q "SELECT state->>'"'"'$.state.bookmarks.users.id'"'"' FROM raw_shop._dango_state" >st && echo 5 >expect && test_cmp expect st
'

test_expect_success '--full-refresh runs without the state and reloads everything' '
    dango sync shop --full-refresh -y >out 2>err &&
    test_grep ! "resuming from" out &&
    test_grep "^Loaded 5 rows into raw_shop.users$" <(strip_clock <out) &&
    q "SELECT count(*) FROM raw_shop.users" >n && echo 5 >expect && test_cmp expect n
'

test_expect_success 'key_properties merge: a record sent again replaces its row' '
    mkdir -p bin && cat >bin/people <<-\EOF2 && chmod +x bin/people &&
	#!/bin/sh
	echo "{\"type\": \"SCHEMA\", \"stream\": \"people\", \"key_properties\": [\"personId\"], \"schema\": {\"properties\": {\"personId\": {\"type\": \"integer\"}, \"name\": {\"type\": \"string\"}}}}"
	echo "{\"type\": \"RECORD\", \"stream\": \"people\", \"record\": {\"personId\": 1, \"name\": \"$(cat name)\"}}"
	echo "{\"type\": \"RECORD\", \"stream\": \"people\", \"record\": {\"personId\": 2, \"name\": \"bea\"}}"
	EOF2
    echo ann >name &&
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: crm
	    type: command
	    command: {run: [bin/people], format: singer}
	EOF2
    dango sync crm >out &&
    echo anna >name && dango sync crm >out &&
    dango query --csv "SELECT person_id, name FROM raw_crm.people ORDER BY 1" >rows &&
    printf "person_id,name\n1,anna\n2,bea\n" >expect && test_cmp expect rows
'

test_done
