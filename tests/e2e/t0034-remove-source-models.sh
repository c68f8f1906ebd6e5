#!/usr/bin/env bash
# dango source remove offers to remove the staging files generated for the
# source (edited ones are kept, with a note); validate reports dbt sources
# and models whose source is gone, so that it never passes where run fails.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf 'id,v\n1,a\n' >data/shop.csv
printf 'id,v\n2,b\n' >data/shop_eu.csv
dango source add csv --name shop --path data/shop.csv >/dev/null
dango source add csv --name shop_eu --path data/shop_eu.csv >/dev/null
dango sync >/dev/null
dango generate >/dev/null 2>&1
S=dbt/models/staging

test_expect_success 'setup: both sources have their generated files, run passes' '
    test -f $S/stg_shop.sql && test -f $S/stg_shop_eu.sql && test -f $S/_stg_shop__sources.yml &&
    dango run >/dev/null
'

test_expect_success 'remove without -y and no terminal refuses and keeps everything' '
    ls $S >before &&
    test_expect_code 1 dango source remove shop </dev/null >out 2>&1 &&
    ls $S >after && test_cmp before after
'

test_expect_success 'remove -y removes its unedited generated files, and only its own' '
    dango source remove shop -y >out 2>&1 &&
    test_grep "dbt/models/staging/stg_shop.sql" out &&
    test_grep "Removed 3 generated staging files" out &&
    test ! -e $S/stg_shop.sql && test ! -e $S/_stg_shop__sources.yml && test ! -e $S/_stg_shop__schema.yml &&
    test -f $S/stg_shop_eu.sql && test -f $S/_stg_shop_eu__sources.yml &&
    dango db clean -y >/dev/null &&
    dango validate >out && test_grep "All checks passed" out &&
    dango run >out && test_grep "Completed successfully" out
'

test_expect_success 'an edited model is kept with a note; validate then fails, naming it' '
    echo "-- my change" >>$S/stg_shop_eu.sql &&
    dango source remove shop_eu -y >out 2>&1 &&
    test_grep "kept dbt/models/staging/stg_shop_eu.sql: edited by hand" out &&
    test -f $S/stg_shop_eu.sql && test ! -e $S/_stg_shop_eu__schema.yml &&
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep ! "All checks passed" out
'

test_expect_success 'validate names a dbt source, and its model, whose source and table are gone' '
    dango db clean -y >/dev/null &&
    dango source add csv --name back --path data/shop.csv >/dev/null && dango sync back >/dev/null &&
    dango generate >/dev/null 2>&1 && rm $S/stg_shop_eu.sql &&
    dango validate >out && test_grep "All checks passed" out &&
    sed -i "/- name: back/,\$d" .dango/sources.yml &&
    dango query --write "DROP SCHEMA raw_back CASCADE" >/dev/null &&
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "_stg_back__sources.yml: source '"'"'back'"'"' table '"'"'back'"'"' reads raw_back.back, but .dango/sources.yml has no source '"'"'back'"'"'" out &&
    test_grep "model '"'"'stg_back'"'"' reads source '"'"'back.back'"'"', whose source is gone" out &&
    test_expect_code 1 dango run >/dev/null 2>&1 &&
    rm $S/*back* && dango validate >/dev/null
'

test_expect_success 'a source taken out of sources.yml by hand: db clean removes its generated files too' '
    printf "id\n7\n" >data/hand.csv &&
    dango source add csv --name hand --path data/hand.csv >/dev/null && dango sync hand >/dev/null &&
    dango generate >/dev/null 2>&1 && test -f $S/stg_hand.sql &&
    sed -i "/- name: hand/,\$d" .dango/sources.yml &&
    dango db clean -y >out 2>&1 &&
    test_grep "Dropped 1 orphaned item" out &&
    test_grep "Removed 3 generated staging files" out &&
    test ! -e $S/stg_hand.sql && test ! -e $S/_stg_hand__sources.yml &&
    dango validate >out && test_grep "All checks passed" out
'

test_done
