#!/usr/bin/env bash
# type: command with NDJSON output: one table named after the source (or
# routed by table_key), nested data as the API engine flattens it,
# primary_key/write_disposition as for rest_api, and {"_state": ...} lines
# handed back in DANGO_STATE on the next run.
. "$(dirname "$0")/lib.sh"
TAPS="$SRC_DIR/tests/fixtures/taps"

dango init p >/dev/null </dev/null
cd p
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
cat >.dango/sources.yml <<EOF2
version: "1.0"
sources:
  - name: feed
    type: command
    command:
      run: [$TAPS/ndjson_feed.py]
EOF2

test_expect_success 'one table named after the source; objects flatten, lists become a child table' '
    dango sync feed >out 2>err &&
    test_grep "\[feed\] DANGO_STATE=(unset)" out &&
    test_grep "^Loaded 3 rows into raw_feed.feed$" <(strip_clock <out) &&
    dango query --csv "SELECT * EXCLUDE (_dlt_id, _dlt_load_id, _dlt_extracted_at) FROM raw_feed.feed ORDER BY id" >rows &&
    cat >expect <<-\EOF2 &&
	id,name,price,meta__color,meta__size,when
	1,item 1,2.5,red,1,2024-03-01 12:00:00+00
	2,item 2,5.0,red,2,2024-03-02 12:00:00+00
	3,item 3,7.5,red,3,2024-03-03 12:00:00+00
	EOF2
    test_cmp expect rows &&
    dango query --csv "SELECT f.id, l.value FROM raw_feed.feed f JOIN raw_feed.feed__labels l ON l._dlt_parent_id = f._dlt_id ORDER BY 1, l._dlt_list_idx" >labels &&
    printf "id,value\n1,a\n2,a\n2,b\n" >expect && test_cmp expect labels
'

test_expect_success 'the _state line is committed and comes back in DANGO_STATE' '
    q "SELECT state FROM raw_feed._dango_state WHERE resource = '"'"'_command'"'"'" >st &&
    echo "\"{\"\"format\"\":\"\"ndjson\"\",\"\"state\"\":{\"\"last\"\":3}}\"" >expect && test_cmp expect st &&
    sed -i "s|ndjson_feed.py]|ndjson_feed.py, --upto, \"5\"]|" .dango/sources.yml &&
    dango sync feed >out 2>err &&
    test_grep "\[feed\] DANGO_STATE={\"last\":3}" out &&
    test_grep "^Loaded 2 rows into raw_feed.feed$" <(strip_clock <out) &&
    q "SELECT string_agg(id::VARCHAR, '"'"' '"'"' ORDER BY id) FROM raw_feed.feed" >ids && echo "1 2 3 4 5" >expect && test_cmp expect ids
'

test_expect_success 'a line that is not an object fails with its number; the state stays' '
    sed -i "s|--upto, \"5\"]|--upto, \"7\", --scalar]|" .dango/sources.yml &&
    test_expect_code 1 dango sync feed >out 2>err &&
    test_grep "source '"'"'feed'"'"': line 3 of the program'"'"'s output: not a JSON object" err &&
    q "SELECT state->>'"'"'$.state.last'"'"' FROM raw_feed._dango_state" >st && echo 5 >expect && test_cmp expect st &&
    q "SELECT count(*) FROM raw_feed.feed" >n && echo 5 >expect && test_cmp expect n
'

test_expect_success 'table_key routes lines to tables (the key is not a column)' '
    cat >>.dango/sources.yml <<-EOF2 &&
	  - name: routed
	    type: command
	    command:
	      run: [$TAPS/ndjson_feed.py, --route, --upto, "4"]
	      table_key: _table
	      format: ndjson
	EOF2
    dango sync routed >out &&
    test_grep "^Loaded 2 rows into raw_routed.evens$" <(strip_clock <out) &&
    test_grep "^Loaded 2 rows into raw_routed.odds$" <(strip_clock <out) &&
    q "SELECT string_agg(column_name, '"'"' '"'"' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '"'"'raw_routed'"'"' AND table_name = '"'"'evens'"'"'" >cols &&
    echo "_dlt_id id name price meta__color meta__size when _dlt_load_id _dlt_extracted_at" >expect && test_cmp expect cols &&
    q "SELECT string_agg(id::VARCHAR, '"'"' '"'"' ORDER BY id) FROM raw_routed.odds" >ids && echo "1 3" >expect && test_cmp expect ids
'

test_expect_success 'primary_key merges: a line sent again replaces its row' '
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: keyed
	    type: command
	    command:
	      run: "printf '"'"'{\"id\": 1, \"v\": \"%s\"}\n{\"id\": 2, \"v\": \"same\"}\n'"'"' $(cat word)"
	      primary_key: id
	EOF2
    echo old >word && dango sync keyed >out && echo new >word && dango sync keyed >out &&
    dango query --csv "SELECT id, v FROM raw_keyed.keyed ORDER BY id" >rows &&
    printf "id,v\n1,new\n2,same\n" >expect && test_cmp expect rows &&
    q "SELECT write_disposition FROM raw_keyed._dango_resources" >wd && echo merge >expect && test_cmp expect wd
'

test_expect_success 'primary_key merges within the first sync too: a key sent twice is one row, the last' '
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: twice
	    type: command
	    command:
	      run: "printf '"'"'{\"id\": 1, \"v\": \"first\"}\n{\"id\": 2, \"v\": \"b\"}\n{\"id\": 1, \"v\": \"last\"}\n'"'"'"
	      primary_key: id
	EOF2
    dango sync twice >out &&
    dango query --csv "SELECT id, v FROM raw_twice.twice ORDER BY id" >rows &&
    printf "id,v\n1,last\n2,b\n" >expect && test_cmp expect rows &&
    dango sync twice --full-refresh -y >out &&
    dango query --csv "SELECT id, v FROM raw_twice.twice ORDER BY id" >rows && test_cmp expect rows
'

test_expect_success 'write_disposition replace reloads the table each sync' '
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: snap
	    type: command
	    command:
	      run: "printf '"'"'{\"k\": \"%s\"}\n'"'"' $(cat word)"
	      write_disposition: replace
	EOF2
    echo a >word && dango sync snap >out && echo b >word && dango sync snap >out &&
    test_grep "replace: every sync reloads snap" out &&
    dango query --csv "SELECT k FROM raw_snap.snap" >rows && printf "k\nb\n" >expect && test_cmp expect rows
'

test_expect_success 'a _state line holds nothing else' '
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: mixed
	    type: command
	    command:
	      run: "echo '"'"'{\"_state\": {\"a\": 1}, \"id\": 2}'"'"'"
	EOF2
    test_expect_code 1 dango sync mixed >out 2>err &&
    test_grep "line 1 of the program'"'"'s output: a {\"_state\": ...} line holds nothing else" err
'

test_done
