#!/usr/bin/env bash
# The scheduler on a fast clock: a schedule whose run is still going has its
# next fires recorded as skipped; a failing one is retried with backoff;
# two syncs of the same source at the same minute serialize on the lock.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf 'id,v\n1,a\n2,b\n' >data/shop.csv
dango source add csv --name shop_db --path data/shop.csv >/dev/null
# 60x: a minute of Dango's clock is a second of real time
export DANGO_NOW=2026-03-28T11:59:00Z DANGO_CLOCK_SPEED=60
cat >.dango/schedules.yml <<'EOS'
version: "1.0"
schedules:
  - name: slow
    type: script
    cron: "* * * * *"
    command: "echo started >>slow.log; while [ ! -e release ]; do sleep 0.1; done"
  - name: flaky
    type: script
    cron: "0 12 * * *"
    command: "echo try >>flaky.log; echo 'error: the upstream is down' >&2; exit 3"
    retries: {max: 2, backoff_seconds: 60}
  - name: sync_a
    type: sync_only
    cron: "0 12 * * *"
    sources: [shop_db]
  - name: sync_b
    type: sync_only
    cron: "0 12 * * *"
    sources: [shop_db]
EOS

test_expect_success 'the scheduler fires, skips the overlap, retries the failure' '
    { dango scheduler >sched.out 2>&1 & } && sched=$! &&
    wait_for_grep "slow: fire of 2026-03-28 1[12]:[0-9][0-9] UTC skipped: previous run still running since 2026-03-28 1[12]:[0-9][0-9] UTC" sched.out &&
    wait_for_grep "flaky: retrying in 60 s (attempt 2/3)" sched.out &&
    wait_for_grep "flaky: retrying in 120 s (attempt 3/3)" sched.out &&
    wait_for_grep "flaky: failed (attempt 3/3)" sched.out &&
    wait_for_grep "sync_a: succeeded" sched.out &&
    wait_for_grep "sync_b: succeeded" sched.out &&
    touch release &&
    wait_for_grep "slow: succeeded" sched.out &&
    kill -TERM $sched && wait $sched &&
    test_grep "scheduler stopped" sched.out &&
    test_grep "scheduler stopped" .dango/logs/scheduler.log
'

test_expect_success 'the history holds every attempt of the failing schedule' '
    dango schedule history flaky --json >h.json &&
    jq -r ".[] | [.trigger, .status, .attempt, .scheduled_for_iso] | @tsv" h.json >out &&
    printf "retry\tfailed\t3\t2026-03-28T12:00:00Z\nretry\tfailed\t2\t2026-03-28T12:00:00Z\nschedule\tfailed\t1\t2026-03-28T12:00:00Z\n" >expect &&
    test_cmp expect out &&
    test "$(wc -l <flaky.log)" -eq 3 &&
    jq -r ".[0].error" h.json >out &&
    echo "the command exited with status 3: error: the upstream is down" >expect &&
    test_cmp expect out
'

test_expect_success 'overlapping fires were skipped, not queued' '
    dango schedule history slow --limit 100 --json >h.json &&
    test "$(jq "[.[] | select(.status == \"success\")] | length" h.json)" -ge 1 &&
    test "$(jq "[.[] | select(.status == \"skipped\")] | length" h.json)" -ge 1 &&
    jq -r "[.[] | select(.status == \"skipped\")][0].error" h.json >out &&
    test_grep "^previous run still running since 2026-03-28 1[12]:[0-9][0-9] UTC$" out &&
    test "$(grep -c started slow.log)" -eq "$(jq "[.[] | select(.status == \"success\")] | length" h.json)"
'

test_expect_success 'two syncs of one source both succeeded, one after the other' '
    dango schedule history sync_a --json >a.json &&
    dango schedule history sync_b --json >b.json &&
    test "$(jq -r ".[0].status" a.json)" = success &&
    test "$(jq -r ".[0].status" b.json)" = success &&
    test $(( $(jq ".[0].rows_loaded" a.json) + $(jq ".[0].rows_loaded" b.json) )) -eq 2 &&
    q "SELECT id, v FROM raw_shop_db.shop_db ORDER BY id" >out &&
    printf "1,a\n2,b\n" >expect && test_cmp expect out
'

test_expect_success 'each run has its log and its status file' '
    path=$(jq -r ".[0].log_path" a.json) && test -f "$path" &&
    test_grep "Loaded 2 rows into raw_shop_db.shop_db\|Sync complete" "$path" &&
    st=$(jq -r ".[0].status_path" a.json) && test -f "$st" &&
    test "$(jq -r .phase "$st")" = completed &&
    dango schedule history flaky --json | jq -r ".[0].status_path" >st &&
    test "$(jq -r .phase "$(cat st)")" = failed
'

test_expect_success 'list shows the last run of each' '
    dango schedule list >out &&
    test_grep "^flaky .* failed 2026-03-28 12:0[0-9] UTC .* yes$" out &&
    test_grep "^sync_a .* success 2026-03-28 12:00 UTC .* yes$" out
'

test_done
