#!/usr/bin/env bash
# Status files tell the truth and spool folders do not pile up (issue 9 §8):
# a sync that was killed is reported as failed, old status files are
# pruned, and an API sync's spool folder goes on SIGINT/SIGTERM and, when a
# process died without cleaning up, at the next start.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1
mkdir tmp && export TMPDIR=$TRASH/tmp
dango init p >/dev/null </dev/null
cd p
printf 'version: "1.0"\nsources:\n  - name: slow\n    type: rest_api\n    rest_api:\n      base_url: %s\n      endpoints:\n        - {name: s, path: /slow}\n  - name: quick\n    type: rest_api\n    rest_api:\n      base_url: %s\n      endpoints:\n        - {name: q, path: /single}\n' "$API" "$API" >.dango/sources.yml

test_expect_success 'SIGTERM during an API sync removes its spool folder (named with the pid)' '
    dango sync slow >out 2>&1 &
    pid=$! &&
    for i in $(seq 100); do ls "$TMPDIR" | grep -q "^dango-spool-$pid-" && break; sleep 0.1; done &&
    ls "$TMPDIR" | grep "^dango-spool-$pid-" &&
    kill -TERM $pid && { wait $pid; rc=$?; } ; test "$rc" = 143 &&
    ls "$TMPDIR" >left && test_grep ! "dango-spool-" left &&
    grep -l "\"phase\": \"data_load\"" .dango/state/sync_status_*.json >"$TRASH/stale" && test -s "$TRASH/stale"
'

test_expect_success 'SIGINT does the same' '
    # with job control, so that the background sync does not ignore SIGINT
    set -m
    dango sync slow >out 2>&1 &
    pid=$!
    set +m
    for i in $(seq 100); do ls "$TMPDIR" | grep -q "^dango-spool-$pid-" && break; sleep 0.1; done &&
    kill -INT $pid && { wait $pid; rc=$?; } ; test "$rc" = 130 &&
    ls "$TMPDIR" >left && test_grep ! "dango-spool-" left
'

test_expect_success 'the next sync reports it as failed, and removes spool folders of dead processes' '
    mkdir "$TMPDIR/dango-spool-999999999-abcdef" && echo x >"$TMPDIR/dango-spool-999999999-abcdef/t.ndjson" &&
    mkdir "$TMPDIR/dango-spool-$$-alive" &&
    dango sync quick >out &&
    for f in $(cat "$TRASH/stale"); do
        test_grep "\"phase\": \"failed\"" $f && test_grep "\"stale\": true" $f &&
        test_grep "ended during phase .data_load. without finishing: killed or crashed" $f || exit 1
    done &&
    test ! -e "$TMPDIR/dango-spool-999999999-abcdef" && test -d "$TMPDIR/dango-spool-$$-alive" &&
    ls "$TMPDIR" | grep -c "^dango-spool-" >n && echo 1 >expect && test_cmp expect n
'

test_expect_success 'kill -9 leaves a status that the next sync marks failed' '
    dango sync slow >out 2>&1 &
    pid=$! &&
    for i in $(seq 100); do grep -l "\"pid\": $pid," .dango/state/sync_status_*.json >f 2>/dev/null && grep -q data_load $(cat f) && break; sleep 0.1; done &&
    kill -9 $pid; wait $pid; f=$(cat f) && test_grep "\"phase\": \"data_load\"" $f &&
    dango sync quick >/dev/null && test_grep "\"phase\": \"failed\"" $f
'

test_expect_success 'a writer that exited but was not reaped (a zombie) is not taken as running' '
    # perl forks a child that exits and never reaps it (a shell may reap
    # its background job before exec, and then there is no zombie)
    perl -e "\$p = fork; exit 0 unless \$p; open F, q(>zpid.tmp); print F \$p; close F; rename q(zpid.tmp), q(zpid); sleep 30" &
    parent=$! &&
    for i in $(seq 100); do test -s zpid && grep -q "^[^)]*) Z" /proc/$(cat zpid)/stat 2>/dev/null && break; sleep 0.1; done &&
    grep "^[^)]*) Z" /proc/$(cat zpid)/stat &&
    f=.dango/state/sync_status_29990101T000000000_$(cat zpid).json &&
    printf "{\"id\": \"z\", \"phase\": \"data_load\", \"pid\": %s}\n" $(cat zpid) >$f &&
    dango sync quick >/dev/null &&
    kill $parent; wait $parent;
    test_grep "\"phase\": \"failed\"" $f && test_grep "killed or crashed" $f
'

test_expect_success 'only the newest 100 status files are kept' '
    for i in $(seq 1 120); do
        printf "{\"id\": \"x\", \"phase\": \"completed\", \"pid\": 1}\n" >.dango/state/sync_status_20000101T0000$(printf %03d $i)_1.json
    done &&
    dango sync quick >/dev/null &&
    ls .dango/state/sync_status_*.json | wc -l >n && echo 100 >expect && test_cmp expect n &&
    test ! -e .dango/state/sync_status_20000101T0000001_1.json && test -e .dango/state/sync_status_20000101T0000120_1.json
'

test_done
