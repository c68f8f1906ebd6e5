#!/usr/bin/env bash
# dango state on a file source: show lists the tracked files; reset (with
# confirmation) makes the next sync read every file again, once; --drop-data
# drops the table; every change is recorded and shown; the lock is honoured.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
mkdir -p data/in
printf "id,name\n1,a\n2,b\n" >data/in/one.csv
printf "id,name\n3,c\n" >data/in/two.csv
dango source add csv --name drops --directory data/in --set "file_pattern=*.csv" >/dev/null
dango sync drops >/dev/null 2>&1

hold_lock() {
    rm -f .dango/state/dbt.lock.json hold.fifo
    mkfifo hold.fifo
    dango query --write <hold.fifo >/dev/null 2>&1 &
    holder=$!
    exec 9>hold.fifo
    wait_for_file .dango/state/dbt.lock.json
}
release_lock() {
    exec 9>&-
    wait "$holder" 2>/dev/null
    return 0
}

test_expect_success 'show: the resource, its last load, rows and tracked files' '
    dango state show drops >out &&
    sed -e "s/[0-9]\{10\}\.[0-9]*/LOAD/; s/20[0-9-]* [0-9:]*/TIME/g; s/hash [0-9a-f]*/hash H/" out >actual &&
    cat >expect <<-\EOF &&
	Source: drops (csv)
	  resource: drops
	    write_disposition: append
	    last_load: LOAD at TIME
	    rows_synced: 3 (rows in the table now)
	    files: 2 tracked
	      data/in/one.csv  size 16  mtime TIME  hash H  rows 2  status new
	      data/in/two.csv  size 12  mtime TIME  hash H  rows 1  status new
	EOF
    test_cmp expect actual
'

test_expect_success 'show --json: the same as JSON' '
    dango state show drops --json >out &&
    dango query --csv "SELECT j->>'"'"'\$[0].resources[0].files[1].path'"'"', (j->'"'"'\$[0].resources[0].rows'"'"')::INT
                       FROM (SELECT '"'"'$(tr -d "\n" <out)'"'"'::JSON AS j)" | tail -1 >v &&
    echo "data/in/two.csv,3" >expect && test_cmp expect v
'

test_expect_success 'set refuses a resource without a cursor, listing the ones with one' '
    test_expect_code 1 dango state set drops drops --cursor 5 2>err &&
    test_grep "resource .drops. of source .drops. keeps no cursor (resources with one: none)" err &&
    test_expect_code 1 dango state show nope 2>err &&
    test_grep "no source named .nope. (sources: drops)" err
'

test_expect_success 'reset is refused without a terminal or -y, and changes nothing' '
    test_expect_code 1 dango state reset drops </dev/null >out 2>err &&
    test_grep "no terminal to confirm on; pass -y" err &&
    dango state show drops >out && test_grep "status new" out
'

test_expect_success 'reset on a terminal asks; "n" keeps everything' '
    test_expect_code 1 run_on_tty "n\n" dango state reset drops >out &&
    test_grep "Forget the state of every resource of drops (the data stays" out &&
    test_grep "Nothing changed" out &&
    dango state show drops >out && ! grep -q "status reset" out
'

test_expect_success 'reset -y: the next sync reads every file again, once (no duplicate)' '
    dango state reset drops -y >out &&
    test_grep "State of drops forgotten" out &&
    dango state show drops >out &&
    test_grep "last_change: reset by .* (dango state reset) at " out &&
    test_grep "data/in/one.csv  size -  mtime .*  hash -  rows 2  status reset" out &&
    dango sync drops >out 2>&1 &&
    q "SELECT id, name, count(*) FROM raw_drops.drops GROUP BY ALL ORDER BY 1" >v &&
    printf "1,a,1\n2,b,1\n3,c,1\n" >expect && test_cmp expect v &&
    dango state show drops >out && test_grep "rows 2  status updated" out &&
    dango sync drops >out 2>&1 &&
    q "SELECT count(*) FROM raw_drops.drops" >v && echo 3 >expect && test_cmp expect v
'

test_expect_success 'the lock is honoured: a change waits for the writer, then gives up' '
    hold_lock &&
    test_expect_code 3 dango state reset drops -y --wait 1 >out 2>err &&
    release_lock &&
    test_grep "gave up after 1 s waiting for the warehouse lock" err &&
    dango state show drops >out && ! grep -q "status reset" out
'

test_expect_success 'reset --drop-data drops the table and forgets the files; the sync reloads them' '
    dango state reset drops --drop-data -y >out &&
    test_grep "forgotten and its data dropped" out &&
    test_must_fail dango query "SELECT 1 FROM raw_drops.drops" 2>/dev/null &&
    q "SELECT action, resource FROM _dango.state_history ORDER BY changed_at" >v &&
    printf "reset,drops\nreset --drop-data,drops\n" >expect && test_cmp expect v &&
    dango sync drops >out 2>&1 &&
    q "SELECT count(*) FROM raw_drops.drops" >v && echo 3 >expect && test_cmp expect v
'

test_done
