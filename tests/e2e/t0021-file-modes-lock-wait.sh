#!/usr/bin/env bash
# Files that may hold secrets are the owner's only (issue 10, item 8), a
# rewrite keeps a file's mode, and --wait waits its whole time (item 12).
. "$(dirname "$0")/lib.sh"

umask 022
dango init p >/dev/null </dev/null
cd p
printf "id,v\n1,a\n" >data/s.csv
mode() { stat -c %a "$1"; }

test_expect_success 'dango init creates .env and .dango/sources.yml 0600, the rest as the umask says' '
    test "$(mode .env)" = 600 &&
    test "$(mode .dango/sources.yml)" = 600 &&
    test "$(mode .dango/project.yml)" = 644 &&
    test "$(mode README.md)" = 644
'

test_expect_success 'source add and remove rewrite sources.yml and keep it 0600' '
    dango source add csv --name s --path data/s.csv >out 2>&1 &&
    test_grep "s" .dango/sources.yml &&
    test "$(mode .dango/sources.yml)" = 600 &&
    run_on_tty "y\n" dango source remove s >out &&
    test "$(mode .dango/sources.yml)" = 600
'

test_expect_success 'a sources.yml created by an older version keeps the mode its owner gave it' '
    chmod 640 .dango/sources.yml &&
    dango source add csv --name s --path data/s.csv >out 2>&1 &&
    test "$(mode .dango/sources.yml)" = 640 &&
    chmod 600 .dango/sources.yml
'

test_expect_success 'no temporary file is left behind' '
    ! ls -a .dango | grep -q "\.tmp\."
'

test_expect_success 'dango init in a fresh folder under a wide umask still makes secrets 0600' '
    (umask 000 && dango init q >/dev/null </dev/null) &&
    test "$(mode q/.env)" = 600 &&
    test "$(mode q/.dango/sources.yml)" = 600
'

# As in t0006: a writer holds the lock while the test keeps a FIFO open.
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

test_expect_success '--wait 2 waits at least 2 s before it gives up (no upper bound asserted)' '
    hold_lock &&
    start=$(date +%s%N) &&
    test_expect_code 3 dango query --write --wait 2 "SELECT 1" >out 2>err &&
    end=$(date +%s%N) &&
    waited_ms=$(( (end - start) / 1000000 )) &&
    echo "waited $waited_ms ms" &&
    test "$waited_ms" -ge 2000 &&
    test_grep "gave up after 2 s waiting for the warehouse lock" err &&
    release_lock
'

test_done
