#!/usr/bin/env bash
# dango source add | list | remove | edit | test
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf "id,v\n1,a\n" >data/s.csv

test_expect_success 'add (scripted) writes the entry and tests the file' '
    dango source add csv --name sales --path data/s.csv --description "Daily sales export" >out &&
    test_grep "✓ file '"'"'data/s.csv'"'"' exists and is readable" out &&
    test_grep "✓ Source added to .dango/sources.yml" out &&
    cat >expect <<-\EOF &&
	  - name: sales
	    type: csv
	    enabled: true
	    description: Daily sales export
	    csv:
	      path: data/s.csv
	EOF
    sed -n "/- name: sales/,\$p" .dango/sources.yml >actual && test_cmp expect actual
'

test_expect_success 'add keeps comments and order, and handles --set, nested keys, tags' '
    cat >.dango/sources.yml <<-\EOF &&
	# my sources, hand written
	version: "1.0"
	sources:
	  # the sales export
	  - name: sales
	    type: csv       # one file
	    csv:
	      path: data/s.csv
	# end of list
	EOF
    dango source add rest_api --name api --no-test --tag crm --tag daily \
        --set base_url=https://api.example.com --set auth_type=bearer --set auth_token_env=API_TOKEN \
        --set "endpoints=[{name: users, path: /users}]" --set paginator.type=cursor \
        --set paginator.cursor_path=next --lookback-days 3 >/dev/null &&
    cat >expect <<-\EOF &&
	# my sources, hand written
	version: "1.0"
	sources:
	  # the sales export
	  - name: sales
	    type: csv       # one file
	    csv:
	      path: data/s.csv
	  - name: api
	    type: rest_api
	    enabled: true
	    tags: [crm, daily]
	    lookback_days: 3
	    rest_api:
	      base_url: https://api.example.com
	      auth_type: bearer
	      auth_token_env: API_TOKEN
	      endpoints: [{name: users, path: /users}]
	      paginator:
	        type: cursor
	        cursor_path: next
	# end of list
	EOF
    test_cmp expect .dango/sources.yml && dango validate >/dev/null 2>&1 || dango validate 2>&1 | test_grep "API_TOKEN is not set" /dev/stdin
'

test_expect_success 'add refuses a duplicate name, an unknown type, a bad key' '
    test_expect_code 1 dango source add csv --name sales --path data/s.csv 2>err &&
    test_grep "already exists" err &&
    test_expect_code 2 dango source add cvs --name x 2>err &&
    test_grep "unknown source type '"'"'cvs'"'"' (did you mean '"'"'csv'"'"'?)" err &&
    cp .dango/sources.yml before &&
    test_expect_code 1 dango source add csv --name x --path data/s.csv --set delimter=";" 2>err &&
    test_grep "unknown key '"'"'delimter'"'"' in source '"'"'x'"'"' (did you mean '"'"'delimiter'"'"'?)" err &&
    test_cmp before .dango/sources.yml
'

test_expect_success 'add without a type and without a terminal asks for one' '
    test_expect_code 2 dango source add </dev/null 2>err &&
    test_grep "no terminal for the wizard" err
'

test_expect_success 'the wizard on a terminal adds a source' '
    run_on_tty "rest_api\nweb_api\nhttps://api.test\nbearer\nWEB_TOKEN\nusers\n/v1/users\n" dango source add >out &&
    test_grep "Select source type:" out && test_grep "Source name (unique identifier)" out &&
    test_grep "Testing connection" out &&
    test_grep "✗ WEB_TOKEN is not set" out &&
    test_grep "source '"'"'web_api'"'"' added to .dango/sources.yml, but its connection test failed" out &&
    test_grep ! "Source added" out &&
    test_grep "base_url: \"\\?https://api.test" .dango/sources.yml &&
    test_grep "endpoints: \[{name: users, path: /v1/users}\]" .dango/sources.yml
'

test_expect_success 'the wizard for a preset asks for the key variable, resources, start date' '
    STRIPE_API_KEY=sk_test_abcdefgh1234 run_on_tty "stripe\nstripe_payments\n\ncharges, customers\n2024-06-01\n" dango source add >out &&
    test_grep "API Key stored in environment variable \[STRIPE_API_KEY\]" out &&
    test_grep "Start date (YYYY-MM-DD) \[2024-01-01\]" out &&
    test_grep "✓ STRIPE_API_KEY is set" out &&
    sed -n "/name: stripe_payments/,\$p" .dango/sources.yml >entry &&
    test_grep "stripe_secret_key_env: STRIPE_API_KEY" entry &&
    test_grep "endpoints: \[charges, customers\]" entry &&
    test_grep "start_date: 2024-06-01" entry
'

test_expect_success 'the wizard turns a folder into directory + pattern, from a subfolder too' '
    mkdir -p data/drops && (cd dbt && run_on_tty "csv\ndrops\ndata/drops\n*.csv\n" dango source add >../out) &&
    test_grep "File pattern \[\*.csv\]" out &&
    sed -n "/name: drops/,\$p" .dango/sources.yml >entry &&
    test_grep "directory: data/drops" entry && test_grep "file_pattern: \"\*.csv\"" entry
'

test_expect_success 'the wizard re-asks for an invalid or taken name' '
    run_on_tty "csv\nBad Name\nsales\nsales_two\ndata/s.csv\n" dango source add >out &&
    test_grep "Use lowercase letters" out && test_grep "exists already" out &&
    test_grep "name: sales_two" .dango/sources.yml
'

test_expect_success 'list shows status, type, file, enabled-only filters' '
    dango source add csv --name old --path data/s.csv --disabled >/dev/null &&
    dango source list >out &&
    test_grep "^Configured Sources:$" out &&
    test_grep "^● sales (csv) - Enabled$" out &&
    test_grep "^○ old (csv) - Disabled$" out &&
    test_grep "^  File: data/s.csv$" out &&
    test_grep "^  Last synced: never$" out &&
    dango source list --enabled-only >out && ! grep -q "old (csv)" out && test_grep "sales (csv)" out
'

test_expect_success 'list reads tables, rows and last sync from the warehouse' '
    dango query --write "CREATE SCHEMA raw_sales; CREATE TABLE raw_sales.sales AS SELECT * FROM range(1234) t(id);
        CREATE TABLE raw_sales._dlt_loads (load_id VARCHAR, schema_name VARCHAR, status INTEGER, inserted_at TIMESTAMP);
        INSERT INTO raw_sales._dlt_loads VALUES ('"'"'1'"'"', '"'"'sales'"'"', 0, TIMESTAMP '"'"'2024-12-09 12:34:56'"'"')" >/dev/null &&
    dango source list >out &&
    sed -n "/● sales (csv)/,/^[●○]/p" out >block &&
    test_grep "Last synced: 2024-12-09 12:34:56" block &&
    test_grep "Tables: sales (1,234 rows)" block
'

test_expect_success 'remove asks; without a terminal it needs -y' '
    cp .dango/sources.yml before &&
    test_expect_code 1 dango source remove old </dev/null >out 2>err &&
    test_grep "no terminal to ask on (pass -y/--yes)" err &&
    test_cmp before .dango/sources.yml &&
    run_on_tty "n\n" dango source remove old >out; test_cmp before .dango/sources.yml &&
    run_on_tty "y\n" dango source remove old >out && test_grep "Removed '"'"'old'"'"'" out &&
    ! grep -q "name: old" .dango/sources.yml
'

test_expect_success 'remove keeps the data, other entries and comments, and says how to clean' '
    dango source remove sales -y >out &&
    test_grep "Its data stays in the warehouse (schema raw_sales); '"'"'dango db clean'"'"' removes it." out &&
    test_grep "# my sources, hand written" .dango/sources.yml &&
    test_grep "# end of list" .dango/sources.yml &&
    test_grep "name: api" .dango/sources.yml &&
    q "SELECT count(*) FROM raw_sales.sales" >n && echo 1234 >expect && test_cmp expect n
'

test_expect_success 'removing the last source leaves a valid empty list' '
    for s in $(sed -n "s/^  - name: //p" .dango/sources.yml); do dango source remove $s -y >/dev/null; done &&
    dango source list >out && test_grep "No sources configured" out &&
    test_grep "^sources: \[\]" .dango/sources.yml
'

test_expect_success 'remove of an unknown source suggests a name' '
    dango source add csv --name orders --path data/s.csv >/dev/null &&
    test_expect_code 1 dango source remove order -y 2>err &&
    test_grep "no source named '"'"'order'"'"' in .dango/sources.yml (did you mean '"'"'orders'"'"'?)" err
'

test_expect_success 'edit runs $EDITOR at the entry and validates the result' '
    cat >ed.sh <<-\EOF &&
	#!/bin/sh
	echo "$@" >editor-args
	sed -i "s/path: data\/s.csv/path: data\/s.csv\n      delimiter: \";\"/" "$2"
	EOF
    chmod +x ed.sh &&
    EDITOR="$PWD/ed.sh" dango source edit orders >out &&
    test_grep "^+[0-9]" editor-args &&
    test_grep "sources.yml is valid" out && test_grep "delimiter: \";\"" .dango/sources.yml
'

test_expect_success 'edit reports errors (and exits 1 without a terminal)' '
    printf "#!/bin/sh\nsed -i s/delimiter/delimter/ \"\$1\"\n" >bad.sh && chmod +x bad.sh &&
    EDITOR="$PWD/bad.sh" test_expect_code 1 dango source edit </dev/null 2>err &&
    test_grep "unknown key '"'"'delimter'"'"'" err
'

test_expect_success 'test reports a readable file, and a missing one' '
    sed -i s/delimter/delimiter/ .dango/sources.yml &&
    dango source test orders >out && test_grep "ready to sync" out &&
    cp .dango/sources.yml before &&
    test_expect_code 1 dango source add csv --name gone --path data/none.csv >out 2>&1 &&
    test_grep "✗ cannot read" out && test_grep "not added: the connection test failed" out &&
    test_grep ! "Source added" out && test_cmp before .dango/sources.yml &&
    dango source add csv --name gone --path data/none.csv --no-test >out 2>&1 &&
    test_grep "Source added" out &&
    test_expect_code 1 dango source test gone >out 2>&1 &&
    test_grep "✗ cannot read '"'"'.*data/none.csv'"'"': No such file or directory" out &&
    test_grep "not ready" out
'

test_expect_success 'test on a folder source counts matching files' '
    touch data/uploads/a.csv data/uploads/b.csv data/uploads/c.txt &&
    dango source add local_files --name up --directory data/uploads --set "file_pattern=*.csv" >out &&
    test_grep "folder '"'"'data/uploads'"'"' holds 2 files matching '"'"'\*.csv'"'"'" out
'

test_done
