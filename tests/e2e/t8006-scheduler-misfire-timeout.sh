#!/usr/bin/env bash
# Misfires (fires missed while no scheduler ran), timeout_minutes, and
# type sync running the dbt models downstream of what it loaded.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf 'id,v\n1,a\n2,b\n' >data/shop.csv
dango source add csv --name shop_db --path data/shop.csv >/dev/null
cat >.dango/schedules.yml <<'EOS'
schedules:
  - name: hourly
    type: script
    cron: "0 * * * *"
    command: "echo ran >>hourly.log"
    misfire_grace_time: 600
  - name: slowpoke
    type: script
    cron: "30 11 * * *"
    command: "sleep 600"
    timeout_minutes: 1
  - name: nightly
    type: sync
    cron: "0 3 * * *"
    sources: [shop_db]
EOS
hist() { dango schedule history "$1" --json; }

test_expect_success 'a first scheduler runs the 12:00 fire' '
    { DANGO_NOW=2026-03-28T11:59:58Z dango scheduler >s1.out 2>&1 & } && s=$! &&
    wait_for_grep "hourly: succeeded" s1.out &&
    kill -TERM $s && wait $s &&
    test "$(hist hourly | jq length)" -eq 1
'

test_expect_success 'missed fires: the latest within misfire_grace_time runs once, the others are missed' '
    { DANGO_NOW=2026-03-28T15:05:00Z dango scheduler >s2.out 2>&1 & } && s=$! &&
    wait_for_grep "hourly: succeeded" s2.out &&
    kill -TERM $s && wait $s &&
    test_grep "hourly: 3 fires missed while no scheduler ran; running the latest now (within misfire_grace_time)" s2.out &&
    hist hourly | jq -r ".[] | [.scheduled_for_iso, .trigger, .status] | @tsv" >out &&
    printf "%s\n" "2026-03-28T15:00:00Z	misfire	success" "2026-03-28T14:00:00Z	schedule	missed" \
        "2026-03-28T13:00:00Z	schedule	missed" "2026-03-28T12:00:00Z	schedule	success" >expect &&
    test_cmp expect out &&
    test "$(wc -l <hourly.log)" -eq 2
'

test_expect_success 'fires later than misfire_grace_time are only recorded' '
    { DANGO_NOW=2026-03-28T18:30:00Z dango scheduler >s3.out 2>&1 & } && s=$! &&
    wait_for_grep "hourly: 3 fires missed while no scheduler ran; recorded as missed" s3.out &&
    kill -TERM $s && wait $s &&
    test "$(hist hourly | jq "[.[] | select(.status == \"missed\")] | length")" -eq 5 &&
    hist hourly | jq -r ".[0].error" >out &&
    test_grep "more than misfire_grace_time (600 s) late" out &&
    test "$(wc -l <hourly.log)" -eq 2
'

test_expect_success 'timeout_minutes kills the job and records a timeout' '
    { DANGO_NOW=2026-03-28T11:29:00Z DANGO_CLOCK_SPEED=60 dango scheduler >s4.out 2>&1 & } && s=$! &&
    wait_for_grep "slowpoke: started" s4.out &&
    job=$(hist slowpoke | jq -r ".[0].pid") &&
    wait_for_grep "slowpoke: timeout (attempt 1/1): timed out after 1 minute: the job.s processes were killed" s4.out &&
    kill -TERM $s && wait $s &&
    test "$(hist slowpoke | jq -r ".[0].status")" = timeout &&
    ! kill -0 $job 2>/dev/null &&
    ! pgrep -f "^sleep 600$" >/dev/null
'

test_expect_success 'type sync loads, then runs the models downstream of the source' '
    dango schedule run nightly >out 2>&1 &&
    test_grep "Loaded 2 rows into raw_shop_db.shop_db" out &&
    test_grep "OK created sql view model staging.stg_shop_db" out &&
    hist nightly >h.json &&
    test "$(jq -r ".[0] | [.trigger, .status, .rows_loaded, .models_run] | @tsv" h.json)" = "manual	success	2	1" &&
    q "SELECT id, v FROM staging.stg_shop_db ORDER BY id" >out &&
    printf "1,a\n2,b\n" >expect && test_cmp expect out &&
    st=$(jq -r ".[0].status_path" h.json) &&
    test "$(jq -r ".phases[-2:] | join(\" \")" "$st")" = "dbt_started completed" &&
    test "$(jq -r .schedule "$st")" = nightly
'

test_done
