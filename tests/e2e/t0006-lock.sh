#!/usr/bin/env bash
# The single-writer lock: waiting, timing out, a killed holder, readers.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p

# A writer that holds the lock until the test lets go: `dango query --write`
# with no SQL reads it from stdin, here a FIFO whose write end the test
# holds open on fd 9 (no timing assumptions, however loaded the machine).
hold_lock() {
    rm -f .dango/state/dbt.lock.json hold.fifo
    mkfifo hold.fifo
    dango query --write <hold.fifo >/dev/null 2>&1 &
    holder=$!
    exec 9>hold.fifo
    wait_for_file .dango/state/dbt.lock.json 60   # a loaded machine may take seconds to start it
}
release_lock() {
    exec 9>&-
    wait "$holder" 2>/dev/null
    return 0
}

test_expect_success 'the holder is recorded in dbt.lock.json and removed after' '
    hold_lock &&
    test_grep "\"command\": \"dango query\"" .dango/state/dbt.lock.json &&
    test_grep "\"pid\": [0-9]" .dango/state/dbt.lock.json &&
    test_grep "\"started_at\": \"20[0-9-]*T[0-9:]*\"" .dango/state/dbt.lock.json &&
    test_grep "\"hostname\"" .dango/state/dbt.lock.json &&
    release_lock && test ! -e .dango/state/dbt.lock.json
'

test_expect_success 'a writer waits for the holder, saying so, then goes on' '
    hold_lock &&
    pid=$(sed -n "s/.*\"pid\": \([0-9]*\).*/\1/p" .dango/state/dbt.lock.json) &&
    rm -f out && { dango db clean -y --wait 30 >out 2>&1 9>&- & } && cleaner=$! &&
    wait_for_grep "Waiting for lock" out &&
    release_lock && wait $cleaner &&
    test_grep "^⏳ Another writer is running (pid $pid, since [0-9][0-9]:[0-9][0-9]:[0-9][0-9]). Waiting for lock (up to 30 seconds)...$" out &&
    test_grep "^✓ Lock acquired.$" out &&
    test_grep "No orphaned raw data" out
'

test_expect_success '--wait 0 fails without waiting, naming the holder, exit 3 (no time bound asserted: a wait would hang until the holder goes)' '
    hold_lock &&
    pid=$(sed -n "s/.*\"pid\": \([0-9]*\).*/\1/p" .dango/state/dbt.lock.json) &&
    test_expect_code 3 dango db clean -y --wait 0 >out 2>err &&
    test_grep ! "Waiting for lock" out &&
    test_grep "the warehouse lock is held by pid $pid, dango query, since" err &&
    test_grep "use --wait SECONDS" err && release_lock
'

test_expect_success 'a waiter gives up after --wait seconds' '
    hold_lock &&
    test_expect_code 3 dango query --write --wait 1 "SELECT 1" >out 2>err &&
    test_grep "Waiting for lock (up to 1 seconds)" out &&
    test_grep "gave up after 1 s waiting for the warehouse lock, held by pid" err &&
    release_lock
'

test_expect_success 'the lock file wait default comes from project.yml' '
    sed -i "s/lock_wait: 300/lock_wait: 1/" .dango/project.yml &&
    hold_lock &&
    test_expect_code 3 dango db clean -y >out 2>err &&
    test_grep "up to 1 seconds" out &&
    release_lock; sed -i "s/lock_wait: 1 /lock_wait: 300 /" .dango/project.yml
'

test_expect_success 'a holder killed with SIGKILL never blocks anyone' '
    hold_lock &&
    pid=$(sed -n "s/.*\"pid\": \([0-9]*\).*/\1/p" .dango/state/dbt.lock.json) &&
    test "$pid" = "$holder" &&
    kill -9 $pid && { wait $pid; true; } && exec 9>&- &&
    test -e .dango/state/dbt.lock.json &&
    dango query --write --wait 0 "CREATE TABLE main.after_kill AS SELECT 1 AS x" >out 2>&1 &&
    ! grep -q "Waiting" out &&
    q "SELECT x FROM main.after_kill" >v && echo 1 >expect && test_cmp expect v
'

test_expect_success 'a reader during a write is told why it cannot open, exit 3' '
    hold_lock &&
    test_expect_code 3 dango query "SELECT 1" 2>err &&
    test_grep "the warehouse is being written by pid [0-9]*, dango query" err &&
    test_grep "DuckDB lets no other process open the file while one writes it" err &&
    test_grep -- "pass --wait SECONDS" err && release_lock
'

test_expect_success 'a reader with --wait gets in once the writer is done' '
    hold_lock &&
    rm -f out && { dango query --wait 20 --csv "SELECT 5 AS v" >out 2>&1 9>&- & } && reader=$! &&
    wait_for_grep "Waiting for it to close" out &&
    release_lock && wait $reader &&
    test_grep "Waiting for it to close (up to 20 seconds)" out && test_grep "^5$" out
'

test_expect_success 'a writer waits for a reader that has the file open' '
    rm -f read.fifo && mkfifo read.fifo &&
    { dango query <read.fifo >/dev/null 2>&1 & } && reader=$! && exec 8>read.fifo &&
    i=0 && until ls -l /proc/$reader/fd 2>/dev/null | grep -q warehouse.duckdb; do
        i=$((i + 1)); if [ $i -ge 300 ]; then echo "the reader never opened the warehouse"; exit 1; fi; sleep 0.1
    done &&
    rm -f out &&
    { dango query --write --wait 30 "SELECT 1" >out 2>&1 8>&- & } && writer=$! &&
    wait_for_grep "Waiting for it to close" out &&
    exec 8>&- && wait $writer &&
    test_grep "^⏳ The warehouse .* is open in another process (pid $reader). Waiting for it to close" out && test_grep "│     1 │" out && wait $reader
'

test_done
