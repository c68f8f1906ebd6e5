#!/usr/bin/env bash
# Locks with a PostgreSQL warehouse (#19): an advisory lock per source on
# the server instead of the project's file lock, so syncs of two sources
# run at the same time and both commit; a second sync of the same source
# fails at once with --wait 0, or waits for the first and then runs.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
whv() { psql -X -A -t -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }

dango init p >/dev/null </dev/null
cd p
pg_warehouse_use
mkdir -p bin
# a source that takes as long as the test says: it waits for a file
cat >bin/slow <<\EOF
#!/bin/sh
touch slow.started
while [ ! -e slow.go ]; do sleep 0.1; done
echo '{"id": 1, "v": "slow"}'
EOF
chmod +x bin/slow
printf "id,v\n1,a\n2,b\n" >data/small.csv
dango source add csv --name small --path data/small.csv >/dev/null
cat >>.dango/sources.yml <<\EOF
  - name: slow
    type: command
    command:
      run: [bin/slow]
      format: ndjson
EOF

test_expect_success 'two sources sync at the same time and both commit' '
    rm -f slow.started slow.go &&
    { dango sync slow >slow.out 2>&1 & } && slow_pid=$! &&
    wait_for_file slow.started &&
    dango sync small --wait 0 >out 2>err &&
    test_grep "Loaded 2 rows into raw_small.small" out &&
    whv "SELECT count(*) FROM raw_small.small" >n && echo 2 >expect && test_cmp expect n &&
    touch slow.go && wait $slow_pid &&
    test_grep "Loaded 1 row into raw_slow.slow" slow.out &&
    whv "SELECT v FROM raw_slow.slow" >v && echo slow >expect && test_cmp expect v
'

test_expect_success 'the same source twice: --wait 0 fails at once, naming it' '
    rm -f slow.started slow.go &&
    { dango sync slow >slow.out 2>&1 & } && slow_pid=$! &&
    wait_for_file slow.started &&
    test_expect_code 3 dango sync slow --wait 0 >out 2>err &&
    test_grep "another sync of '"'"'slow'"'"' is running against the postgres warehouse 127.0.0.1:$PGPORT/wh" err &&
    touch slow.go && wait $slow_pid &&
    whv "SELECT count(*) FROM raw_slow.slow" >n && echo 2 >expect && test_cmp expect n
'

test_expect_success 'the same source twice: with --wait the second runs once the first is done' '
    rm -f slow.started slow.go &&
    { dango sync slow >slow.out 2>&1 & } && slow_pid=$! &&
    wait_for_file slow.started && rm slow.started &&
    { dango sync slow --wait 60 >second.out 2>&1 & } && second_pid=$! &&
    wait_for_grep "Waiting: another sync of '"'"'slow'"'"' is running" second.out &&
    test ! -e slow.started &&
    touch slow.go && wait $slow_pid && wait $second_pid &&
    test_grep "Loaded 1 row into raw_slow.slow" second.out &&
    whv "SELECT count(*) FROM raw_slow.slow" >n && echo 4 >expect && test_cmp expect n
'

test_done
