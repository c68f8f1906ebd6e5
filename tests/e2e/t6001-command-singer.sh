#!/usr/bin/env bash
# type: command with a Singer tap (tests/fixtures/taps/tap_shop.py): one
# table per stream in raw_<source>; SCHEMA's JSON Schema types become the
# column types; objects flatten, arrays become child tables; key_properties
# become the primary key; time_extracted fills _dlt_extracted_at.
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
      format: singer
      config: {users: 3}
EOF2

test_expect_success 'a Singer tap syncs: one table per stream, child tables for arrays' '
    dango sync shop >out 2>err &&
    strip_clock <out | grep -E "^(Loaded|stream)" >lines &&
    cat >expect <<-\EOF2 &&
	stream users: bookmark_properties id (the program'"'"'s cursor, kept in its STATE)
	stream events: version 1 activated (rows of older versions removed)
	Loaded 3 rows into raw_shop.users
	Loaded 2 rows into raw_shop.orders
	Loaded 2 rows into raw_shop.events
	Loaded 3 rows into raw_shop.users__tags
	Loaded 4 rows into raw_shop.orders__items
	EOF2
    test_cmp expect lines
'

test_expect_success 'SCHEMA types become column types (date-time, date, nullable lists, objects flattened)' '
    q "SELECT column_name || '"'"' '"'"' || data_type FROM information_schema.columns WHERE table_schema = '"'"'raw_shop'"'"' AND table_name = '"'"'users'"'"' ORDER BY ordinal_position" >types &&
    cat >expect <<-\EOF2 &&
	_dlt_id UUID
	id BIGINT
	name VARCHAR
	score DOUBLE
	active BOOLEAN
	signed_up TIMESTAMP WITH TIME ZONE
	birthday DATE
	prefs__theme VARCHAR
	prefs__mails BIGINT
	never_sent BIGINT
	_dlt_extracted_at TIMESTAMP WITH TIME ZONE
	_dlt_load_id VARCHAR
	EOF2
    test_cmp expect types
'

test_expect_success 'the rows read back as the tap wrote them; time_extracted is _dlt_extracted_at' '
    dango query --csv "SELECT * EXCLUDE (_dlt_id, _dlt_load_id) FROM raw_shop.users ORDER BY id" >rows &&
    cat >expect <<-\EOF2 &&
	id,name,score,active,signed_up,birthday,prefs__theme,prefs__mails,never_sent,_dlt_extracted_at
	1,user 1,1.5,true,2024-01-01 08:30:00+00,1990-02-01,dark,1,,2024-05-02 10:00:00+00
	2,user 2,3.0,false,2024-01-02 08:30:00+00,1990-02-02,light,2,,2024-05-03 10:00:00+00
	3,user 3,4.5,true,2024-01-03 08:30:00+00,1990-02-03,dark,3,,2024-05-04 10:00:00+00
	EOF2
    test_cmp expect rows &&
    dango query --csv "SELECT u.id, t.value, t._dlt_list_idx FROM raw_shop.users u JOIN raw_shop.users__tags t ON t._dlt_parent_id = u._dlt_id ORDER BY 1, 3" >tags &&
    printf "id,value,_dlt_list_idx\n1,t0,0\n2,t0,0\n2,t1,1\n" >expect && test_cmp expect tags &&
    dango query --csv "SELECT o.order_id, o.total, i.sku, i.qty FROM raw_shop.orders o JOIN raw_shop.orders__items i ON i._dlt_parent_id = o._dlt_id ORDER BY 1, 3" >items &&
    printf "order_id,total,sku,qty\n100,25.0,a100,1\n100,25.0,b,2\n101,25.25,a101,1\n101,25.25,b,2\n" >expect && test_cmp expect items
'

test_expect_success 'key_properties are the primary key (merge); a stream without keys appends' '
    dango query --csv "SELECT resource, primary_key, write_disposition FROM raw_shop._dango_resources ORDER BY 1" >res &&
    cat >expect <<-\EOF2 &&
	resource,primary_key,write_disposition
	events,[],append
	orders,"[""order_id""]",merge
	orders__items,"[""_dlt_id""]",merge
	users,"[""id""]",merge
	users__tags,"[""_dlt_id""]",merge
	EOF2
    test_cmp expect res &&
    dango sync shop --full-refresh -y >out &&
    q "SELECT count(*), count(DISTINCT id) FROM raw_shop.users" >n && echo "3,3" >expect && test_cmp expect n &&
    q "SELECT count(*) FROM raw_shop.orders" >n && echo 2 >expect && test_cmp expect n
'

test_expect_success 'a record that breaks its SCHEMA fails with the line and the field' '
    mkdir -p bin && cat >bin/badtype <<-\EOF2 && chmod +x bin/badtype &&
	#!/bin/sh
	echo "{\"type\": \"SCHEMA\", \"stream\": \"s\", \"schema\": {\"properties\": {\"n\": {\"type\": \"integer\"}}}, \"key_properties\": []}"
	echo "{\"type\": \"RECORD\", \"stream\": \"s\", \"record\": {\"n\": 1}}"
	echo "{\"type\": \"RECORD\", \"stream\": \"s\", \"record\": {\"n\": \"many\"}}"
	EOF2
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: typed
	    type: command
	    command: {run: [bin/badtype]}
	EOF2
    test_expect_code 1 dango sync typed >out 2>err &&
    test_grep "source '"'"'typed'"'"': line 3 of the program'"'"'s output: field '"'"'n'"'"' is \"many\" (a string), not an integer as its SCHEMA says" err &&
    q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"'"'raw_typed'"'"' AND table_name = '"'"'s'"'"'" >n && echo 0 >expect && test_cmp expect n
'

test_done
