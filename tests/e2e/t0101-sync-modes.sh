#!/usr/bin/env bash
# dango sync: choosing sources, flags, full refresh and its guard rails, dry run.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf "id,v\n" >data/a.csv && seq 1 10 | sed "s/$/,x/" >>data/a.csv
printf "id,v\n1,y\n2,y\n" >data/b.csv
dango source add csv --name alpha --path data/a.csv >/dev/null
dango source add csv --name beta --path data/b.csv >/dev/null
dango source add csv --name gamma --path data/b.csv --disabled >/dev/null
rows() { q "SELECT count(*) FROM $1"; }

test_expect_success 'with no name every enabled source syncs; disabled ones are noted' '
    dango sync >out &&
    test_grep "Skipping gamma: disabled in .dango/sources.yml" out &&
    strip_clock <out >o &&
    test_grep "^Starting sync for 2 sources...$" o &&
    test_grep "^Syncing alpha (1/2)$" o && test_grep "^Syncing beta (2/2)$" o &&
    test_grep "^Total rows: 12$" o && test_grep "^Success: 2/2 sources$" o
'

test_expect_success 'names: positional, --source repeated and comma lists' '
    dango sync beta >out && test_grep "Starting sync for beta" out &&
    dango sync --source alpha --source beta >out && test_grep "Starting sync for 2 sources" out &&
    dango sync --source "alpha,beta" >out && test_grep "Starting sync for 2 sources" out
'

test_expect_success 'an unknown source name suggests the closest, exit 2' '
    test_expect_code 2 dango sync alpah 2>err &&
    test_grep "no source named '"'"'alpah'"'"' in .dango/sources.yml (did you mean '"'"'alpha'"'"'?)" err
'

test_expect_success 'date flags: --backfill excludes --since/--until; formats are checked' '
    test_expect_code 2 dango sync --backfill 7d --since 2024-01-01 2>err &&
    test_grep "cannot be combined with --since or --until" err &&
    test_expect_code 2 dango sync --backfill 7x 2>err && test_grep "like 7d, 2w or 1m" err &&
    test_expect_code 2 dango sync --since 2024/01/01 2>err && test_grep "YYYY-MM-DD" err &&
    test_expect_code 2 dango sync --since 2024-05-01 --until 2024-01-01 2>err && test_grep "is after --until" err &&
    test_expect_code 2 dango sync --start-date 2024-01-01 --since 2024-02-01 2>err && test_grep "another name for --since" err
'

test_expect_success 'file sources warn that dates do not apply and sync incrementally' '
    dango sync alpha --since 2024-01-01 >out 2>err &&
    test_grep "alpha (csv) does not filter by date: --since/--until ignored, syncing incrementally" err &&
    dango sync alpha --start-date 2024-01-01 2>err >/dev/null && test_grep "does not filter by date" err &&
    dango sync alpha --backfill 2w 2>err >/dev/null && test_grep "does not filter by date" err &&
    rows raw_alpha.alpha >n && echo 10 >expect && test_cmp expect n
'

test_expect_success 'full refresh without a terminal and without -y refuses, changing nothing' '
    test_expect_code 1 dango sync alpha --full-refresh </dev/null >out 2>err &&
    test_grep "Full refresh mode enabled" out &&
    test_grep "alpha (10 rows will be replaced)" out && test_grep "raw_alpha.alpha (10 rows)" out &&
    test_grep "pass -y" err && rows raw_alpha.alpha >n && echo 10 >expect && test_cmp expect n
'

test_expect_success 'full refresh asks on a terminal; no leaves everything' '
    test_expect_code 1 run_on_tty "n\n" dango sync alpha --full-refresh >out &&
    test_grep "Proceed? (y/N)" out && test_grep "Nothing changed" out
'

test_expect_success 'full refresh with -y reloads into a new table swapped in' '
    old=$(q "SELECT min(_dlt_load_id) FROM raw_alpha.alpha") &&
    dango sync alpha --full-refresh -y >out && test_grep "Loaded 10 rows" out &&
    new=$(q "SELECT min(_dlt_load_id) FROM raw_alpha.alpha") && test "$old" != "$new" &&
    rows raw_alpha.alpha >n && echo 10 >expect && test_cmp expect n &&
    q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"'"'raw_alpha'"'"' AND table_name LIKE '"'"'%dango_new%'"'"'" >t &&
    echo 0 >expect && test_cmp expect t
'

test_expect_success 'full refresh loading 0 rows over data is refused unless --allow-empty' '
    printf "id,v\n" >data/a.csv &&
    test_expect_code 1 dango sync alpha --full-refresh -y >out 2>err &&
    test_grep "loaded 0 rows over 10 existing rows; refusing" err && test_grep -- "--allow-empty" err &&
    rows raw_alpha.alpha >n && echo 10 >expect && test_cmp expect n &&
    dango sync alpha --full-refresh -y --allow-empty >out 2>&1 && rows raw_alpha.alpha >n && echo 0 >expect && test_cmp expect n
'

test_expect_success 'full refresh under half the rows warns and keeps a named backup' '
    seq 1 10 | sed "s/$/,x/" >>data/a.csv && dango sync alpha --full-refresh -y >/dev/null 2>&1 &&
    printf "id,v\n1,x\n2,x\n3,x\n" >data/a.csv &&
    dango sync alpha --full-refresh -y >out 2>err &&
    test_grep "loaded 3 rows, under half of the previous 10; the old table is kept as raw_alpha._dango_backup_[0-9_]*__alpha for recovery" err &&
    b=$(sed -n "s/.*kept as raw_alpha\.\(_dango_backup_[0-9_]*__alpha\) .*/\1/p" err) &&
    rows "raw_alpha.$b" >n && echo 10 >expect && test_cmp expect n &&
    rows raw_alpha.alpha >n && echo 3 >expect && test_cmp expect n
'

test_expect_success 'dry run lists sources, modes and estimates, and changes nothing' '
    printf "id,v\n" >data/c.csv && seq 1 1000 | sed "s/$/,zz/" >>data/c.csv &&
    dango source add csv --name cee --path data/c.csv >/dev/null &&
    md5sum data/warehouse.duckdb >before && ls .dango/state >state_before &&
    dango sync --dry-run >out &&
    md5sum data/warehouse.duckdb >after && test_cmp before after &&
    ls .dango/state >state_after && test_cmp state_before state_after &&
    test_grep "^DRY RUN MODE - No data will be modified$" out &&
    test_grep "^Would sync 3 sources:$" out &&
    test_grep "^3. cee (csv)$" out && test_grep "mode: first sync (everything)" out &&
    test_grep "data/c.csv: ~1,[0-9]* rows (new)" out &&
    test_grep "data/b.csv: unchanged, skipped" out &&
    test_grep "^No data was modified.$" out &&
    test_expect_code 1 dango query "SELECT 1 FROM raw_cee.cee" 2>/dev/null
'

test_expect_success 'dry run warns about missing files and exits 1' '
    dango source add csv --name ghost --path data/ghost.csv --no-test >/dev/null 2>&1 &&
    test_expect_code 1 dango sync ghost --dry-run >out &&
    test_grep "✗ data/ghost.csv: no such file" out
'

test_expect_success 'a failing source does not stop the others; the exit code is 1' '
    test_expect_code 1 dango sync ghost cee >out 2>err &&
    strip_clock <out >o &&
    test_grep "^✗ Sync failed for ghost$" o && test_grep "^data/ghost.csv: no such file$" err &&
    test_grep "^✓ Sync complete (1,000 rows" o &&
    test_grep "^✗ 1 of 2 syncs failed$" o && test_grep "^Success: 1/2 sources$" o && test_grep "^Failed: 1/2 sources$" o
'

test_expect_success '--fail-fast stops at the first failure' '
    test_expect_code 1 dango sync ghost beta --fail-fast >out 2>err &&
    ! grep -q "Syncing beta" out && test_grep "Stopped after the first failure (--fail-fast): 1 not run" out
'

test_expect_success 'a command that writes nothing syncs, and says it loaded nothing' '
    dango source add command --name cmd1 --set run=true --no-test >/dev/null &&
    dango sync cmd1 >out 2>err && test_grep "the program of source '"'"'cmd1'"'"' wrote no records" err
'

test_expect_success '--workers reads sources at once, loads them in order' '
    mkdir -p data/w && for i in 1 2 3 4; do printf "id\n%s\n" $i >data/w/f$i.csv; done &&
    for i in 1 2 3 4; do dango source add csv --name w$i --path data/w/f$i.csv >/dev/null; done &&
    dango sync w1 w2 w3 w4 --workers 4 >out &&
    strip_clock <out | grep "^Syncing" >order &&
    printf "Syncing w1 (1/4)\nSyncing w2 (2/4)\nSyncing w3 (3/4)\nSyncing w4 (4/4)\n" >expect && test_cmp expect order &&
    test_grep "^Success: 4/4 sources$" out &&
    for i in 1 2 3 4; do q "SELECT id FROM raw_w$i.w$i" >v && echo $i >expect && test_cmp expect v || exit 1; done &&
    dango sync w1 w2 --workers 1 >out && test_grep "Success: 2/2" out
'

test_done
