#!/usr/bin/env bash
# dango sync never loses or duplicates: a killed sync, two syncs at once,
# and bad input that is refused with the file and line.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
rows() { q "SELECT count(*) FROM $1"; }
# A file big enough that loading it takes a moment.
dango query --write "COPY (SELECT i AS id, 'name ' || i AS name, i * 1.5 AS amount FROM range(3000000) t(i)) TO 'data/big.csv' (HEADER)" >/dev/null
dango source add csv --name big --path data/big.csv >/dev/null
printf "id,v\n1,a\n" >data/small.csv
dango source add csv --name small --path data/small.csv >/dev/null

test_expect_success 'kill -9 in the middle of a load leaves the previous data and state' '
    dango sync big >out 2>&1 &
    pid=$! &&
    wait_for_grep "Reading data/big.csv" out &&
    sleep 0.3 && kill -9 $pid && { wait $pid; true; } &&
    ! grep -q "Sync complete" out &&
    n=$(q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"'"'raw_big'"'"' AND table_name = '"'"'big'"'"'") &&
    test "$n" = 0 &&
    dango sync big >out2 && test_grep "Reading data/big.csv (new)" out2 &&
    rows raw_big.big >n && echo 3000000 >expect && test_cmp expect n &&
    q "SELECT count(DISTINCT id) FROM raw_big.big" >d && test_cmp expect d
'

test_expect_success 'kill -9 during an update of a file keeps the old rows, then replaces them once' '
    dango query --write "COPY (SELECT i AS id, '"'"'v2 '"'"' || i AS name, i * 2.0 AS amount FROM range(3000000) t(i)) TO '"'"'data/big.csv'"'"' (HEADER)" >/dev/null
    dango sync big >out 2>&1 &
    pid=$! &&
    wait_for_grep "Reading data/big.csv" out &&
    sleep 0.3 && kill -9 $pid && { wait $pid; true; } &&
    q "SELECT count(*) || '"'"' '"'"' || count(*) FILTER (WHERE name LIKE '"'"'name%'"'"') FROM raw_big.big" >n &&
    echo "3000000 3000000" >expect && test_cmp expect n &&
    dango sync big >out2 && test_grep "Reading data/big.csv (updated)" out2 &&
    q "SELECT count(*) || '"'"' '"'"' || count(*) FILTER (WHERE name LIKE '"'"'v2%'"'"') FROM raw_big.big" >n &&
    echo "3000000 3000000" >expect && test_cmp expect n
'

test_expect_success 'a second sync waits for the first, saying who holds the lock' '
    rm -f .dango/state/dbt.lock.json &&
    dango sync big --full-refresh -y >first 2>&1 &
    wait_for_file .dango/state/dbt.lock.json &&
    pid=$(sed -n "s/.*\"pid\": \([0-9]*\).*/\1/p" .dango/state/dbt.lock.json) &&
    dango sync small >second 2>&1 &&
    test_grep "^⏳ Another sync is running (pid $pid, since [0-9:]*). Waiting for lock (up to 5 minutes)...$" second &&
    test_grep "^✓ Lock acquired.$" second && test_grep "Sync complete (1 row in" second &&
    wait && test_grep "Sync complete" first
'

test_expect_success '--wait 0 makes a second sync fail at once, exit 3, changing nothing' '
    printf "id,v\n1,a\n2,b\n" >data/small.csv
    rm -f .dango/state/dbt.lock.json
    dango sync big --full-refresh -y >first 2>&1 &
    wait_for_file .dango/state/dbt.lock.json &&
    pid=$(sed -n "s/.*\"pid\": \([0-9]*\).*/\1/p" .dango/state/dbt.lock.json) &&
    test_expect_code 3 dango sync small --wait 0 >second 2>err &&
    test_grep "the warehouse lock is held by pid $pid, dango sync big" err &&
    wait && rows raw_small.small >n && echo 1 >expect && test_cmp expect n &&
    f=$(ls -t .dango/state/sync_status_*.json | head -1) && test_grep "\"phase\": \"completed\"" $f &&
    grep -l "\"phase\": \"failed\"" .dango/state/sync_status_*.json >failed && test -s failed
'

test_expect_success 'a long load shows a progress bar on a terminal, and clears it' '
    run_on_tty "" dango sync big --full-refresh -y >tty &&
    grep -a -q "\[#*\.*\] *[0-9]*%" tty &&
    test_grep "Sync complete (3,000,000 rows" tty &&
    dango sync big --full-refresh -y >plain && ! grep -q "%" plain
'

test_expect_success 'a malformed row fails with file:line and what was wrong' '
    printf "id,v\n1,a\n2,b,extra\n3,c\n" >data/bad.csv &&
    dango source add csv --name bad --path data/bad.csv >/dev/null &&
    test_expect_code 1 dango sync bad >out 2>err &&
    test_grep "^data/bad.csv:3: Expected Number of Columns: 2 Found: 3$" err &&
    test_grep "the line reads: 2,b,extra" err &&
    test_expect_code 1 dango query "SELECT * FROM raw_bad.bad" 2>/dev/null
'

test_expect_success 'a value of the wrong type fails with its line and column' '
    printf "id,v\n1,a\nx,b\n" >data/typed.csv &&
    dango source add csv --name typed --path data/typed.csv --set "column_types={id: BIGINT}" >/dev/null &&
    test_expect_code 1 dango sync typed 2>err >/dev/null &&
    test_grep "^data/typed.csv:3: .*\"id\".*" err
'

test_expect_success 'on_error: skip loads the good rows, counts and keeps the bad ones' '
    dango source add csv --name lenient --path data/bad.csv --set on_error=skip >/dev/null &&
    dango sync lenient >out 2>err &&
    test_grep "data/bad.csv: skipped 1 bad row (kept in raw_lenient._dango_rejects)" err &&
    rows raw_lenient.lenient >n && echo 2 >expect && test_cmp expect n &&
    q "SELECT file || '"'"':'"'"' || line || '"'"' '"'"' || replace(csv_line, '"'"','"'"', '"'"';'"'"') FROM raw_lenient._dango_rejects" >r &&
    echo "data/bad.csv:3 2;b;extra" >expect && test_cmp expect r
'

test_expect_success 'a missing file is an error naming it' '
    dango source add csv --name gone --path data/gone.csv --no-test >/dev/null 2>&1 &&
    test_expect_code 1 dango sync gone >out 2>err && test_grep "^data/gone.csv: no such file$" err
'

test_expect_success 'an empty file is refused; a header-only file loads no rows' '
    : >data/empty.csv && dango source add csv --name empty --path data/empty.csv >/dev/null &&
    test_expect_code 1 dango sync empty 2>err >/dev/null &&
    test_grep "data/empty.csv: the file is empty (no header, no rows)" err &&
    printf "id,v\n" >data/header.csv && dango source add csv --name header --path data/header.csv >/dev/null &&
    dango sync header >out && test_grep "Loaded 0 rows into raw_header.header" out &&
    q "SELECT count(*) FROM information_schema.columns WHERE table_schema = '"'"'raw_header'"'"' AND table_name = '"'"'header'"'"' AND column_name IN ('"'"'id'"'"', '"'"'v'"'"')" >c &&
    echo 2 >expect && test_cmp expect c
'

test_expect_success 'an unreadable file is an error naming it' '
    printf "id\n1\n" >data/secret.csv && chmod 000 data/secret.csv &&
    dango source add csv --name secret --path data/secret.csv --no-test >/dev/null &&
    chmod a+rwx "$TRASH" && chmod -R a+rwX . && chmod 000 data/secret.csv &&
    # root reads anything: drop to nobody for the read (a user is refused as is)
    if [ "$(id -u)" = 0 ]; then as_user="setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp"; else as_user=; fi &&
    test_expect_code 1 $as_user "$DANGO" sync secret >out 2>err &&
    test_grep "^data/secret.csv: cannot read: Permission denied$" err
'

test_expect_success 'a failed file in a folder leaves the whole source unchanged' '
    mkdir -p data/in && printf "id,v\n1,a\n" >data/in/a.csv &&
    dango source add local_files --name inbox --directory data/in >/dev/null &&
    dango sync inbox >/dev/null &&
    printf "id,v\n2,b\n" >data/in/b.csv && printf "id,v\n3,c,x\n" >data/in/c.csv &&
    test_expect_code 1 dango sync inbox >out 2>err &&
    test_grep "data/in/c.csv:2: Expected Number of Columns" err &&
    rows raw_inbox.inbox >n && echo 1 >expect && test_cmp expect n &&
    q "SELECT count(*) FROM raw_inbox._dango_file_metadata" >m && echo 1 >expect && test_cmp expect m &&
    rm data/in/c.csv && dango sync inbox >/dev/null && rows raw_inbox.inbox >n && echo 2 >expect && test_cmp expect n
'

test_done
