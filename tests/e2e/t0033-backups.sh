#!/usr/bin/env bash
# Anomaly backups of a full refresh live apart from the source's tables:
# no staging model, not listed as a table, listed as backups, restorable,
# removed by db clean after a retention.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
(echo id,v; seq 1 10 | sed 's/$/,x/') >data/a.csv
dango source add csv --name alpha --path data/a.csv >/dev/null
dango sync >/dev/null
printf 'id,v\n1,y\n2,y\n' >data/a.csv
dango sync alpha --full-refresh -y >/dev/null 2>err
B=$(sed -n 's/.*kept as \(raw_alpha\.[a-z0-9_]*\) for recovery.*/\1/p' err)

test_expect_success 'the backup is named as a backup, and is one' '
    test -n "$B" &&
    echo "$B" | grep -q "^raw_alpha\._dango_backup_[0-9]\{14\}__alpha$" &&
    q "SELECT count(*) FROM $B" >n && echo 10 >expect && test_cmp expect n
'

test_expect_success 'it is not a table of the source: source list, generate, run leave it out' '
    dango source list >out && test_grep "Tables: alpha (2 rows)$" out &&
    dango generate --force -y >out 2>&1 &&
    ls dbt/models/staging >models && test_grep ! backup models &&
    test_grep ! backup dbt/models/staging/_stg_alpha__sources.yml &&
    dango run >out 2>&1 && test_grep ! backup out &&
    q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"'"'staging'"'"' AND table_name LIKE '"'"'%backup%'"'"'" >n &&
    echo 0 >expect && test_cmp expect n
'

test_expect_success 'db status and db backups list it apart from the tables' '
    dango db status >out &&
    sed -n "/^Backups/,\$p" out >section && test_grep "$B" section &&
    sed -n "1,/^Backups/p" out >tables && test_grep ! "_dango_backup" tables &&
    dango db backups >out && test_grep "$B .* raw_alpha.alpha .* 10 │" out
'

test_expect_success 'restore asks first, and without a terminal or -y changes nothing' '
    test_expect_code 1 dango db restore "$B" >out 2>err </dev/null &&
    test_grep "pass -y" err && q "SELECT count(*) FROM raw_alpha.alpha" >n && echo 2 >expect && test_cmp expect n
'

test_expect_success 'restore puts the old rows back and keeps the replaced table as a backup' '
    dango db restore "$B" -y >out &&
    test_grep "Restored raw_alpha.alpha from" out &&
    q "SELECT id, v FROM raw_alpha.alpha ORDER BY id" >rows &&
    seq 1 10 | sed "s/$/,x/" >expect && test_cmp expect rows &&
    dango db backups >out && test_grep "__alpha .* raw_alpha.alpha .* 2 │" out &&
    test_expect_code 1 dango query "SELECT 1 FROM $B" >/dev/null 2>&1
'

test_expect_success 'restore of an unknown backup: exit 2, with the list to look at' '
    test_expect_code 2 dango db restore raw_alpha.nope -y 2>err &&
    test_grep "no backup named '"'"'raw_alpha.nope'"'"'" err && test_grep "dango db backups" err
'

test_expect_success 'db clean keeps recent backups, drops those older than --older-than' '
    dango db clean -y >out && test_grep "1 backup kept: none older than 7d" out &&
    dango db backups >out && test_grep "_dango_backup_" out &&
    test_expect_code 2 dango db clean --older-than soon -y 2>err && test_grep "older-than" err &&
    dango db clean --older-than 0d -y >out && test_grep "Dropped 1 backup older than 0d" out &&
    dango db backups >out && test_grep "No backups" out
'

test_expect_success 'backups named the old way are recognised too, and their age read from the name' '
    dango query --write "CREATE TABLE raw_alpha.alpha__backup_20200101000000 AS SELECT * FROM raw_alpha.alpha" >/dev/null &&
    dango db backups >out && test_grep "raw_alpha.alpha__backup_20200101000000 .* 2020-01-01 00:00:00" out &&
    dango source list >out && test_grep "Tables: alpha (10 rows)$" out &&
    dango db clean -y >out && test_grep "Dropped 1 backup older than 7d" out
'

test_expect_success 'dango help documents restore' '
    dango help db >out && test_grep "restore" out &&
    dango help db restore >out && test_grep "^usage: dango db restore BACKUP" out &&
    dango --help >out && test_grep "restore" out
'

test_done
