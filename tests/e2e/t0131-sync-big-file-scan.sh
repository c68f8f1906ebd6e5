#!/usr/bin/env bash
# A big new CSV (8 MiB or more) is hashed and checked for NUL bytes while
# DuckDB loads it, not before (issue 18): a NUL byte found then must still
# fail the sync naming file:line and commit nothing, and the content hash
# must still be recorded for the next sync's change detection.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p

test_expect_success 'a big CSV loads whole; its metadata has the content hash' '
    awk "BEGIN { print \"id,note\"; for (i = 1; i <= 400000; i++) printf \"%d,row number %d of the big file\n\", i, i }" >data/big.csv &&
    test $(stat -c %s data/big.csv) -ge 8388608 &&
    dango source add csv --name big --path data/big.csv >/dev/null &&
    dango sync big >out && test_grep "Loaded 400,000 rows into raw_big.big" out &&
    q "SELECT rows || '"'"' '"'"' || length(content_hash) || '"'"' '"'"' || status FROM raw_big._dango_file_metadata" >m &&
    echo "400000 16 new" >expect && test_cmp expect m
'

test_expect_success 'touched but not changed, it is not read again (the recorded hash matched)' '
    touch -d "2030-01-01" data/big.csv &&
    dango sync big >out && test_grep "1 file unchanged, skipped" out && test_grep "Loaded 0 rows" out
'

test_expect_success 'a NUL byte near the end of a big new CSV fails the sync, naming file:line, nothing committed' '
    { head -n 399000 data/big.csv; printf "399000,bad\000value\n"; tail -n +399001 data/big.csv; } >data/nul.csv &&
    dango source add csv --name nul --path data/nul.csv >/dev/null &&
    test_expect_code 1 dango sync nul >out 2>err &&
    test_grep "^data/nul.csv:399001: a NUL byte inside the data" err &&
    test_grep "Nothing was changed for nul" out &&
    test_must_fail dango query "SELECT count(*) FROM raw_nul.nul"
'

test_done
