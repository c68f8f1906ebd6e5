#!/usr/bin/env bash
# kill -9 of the scheduler during a job: the job's status ends completed or
# failed, never stuck, and a restarted scheduler does not run the fire
# again. A second stop signal kills the running job's process group.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf 'id,v\n1,a\n2,b\n' >data/shop.csv
dango source add csv --name shop_db --path data/shop.csv >/dev/null
cat >.dango/schedules.yml <<'EOS'
schedules:
  - name: load
    type: sync_only
    cron: "0 12 * * *"
    sources: [shop_db]
  - name: stuck
    type: script
    cron: "0 13 * * *"
    command: "sleep 600"
  - name: blocker
    type: script
    cron: "0 14 * * *"
    command: "while [ ! -e release ]; do sleep 0.1; done"
EOS

# a writer holding the warehouse lock until the test lets go (see t0006)
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
alive() { kill -0 "$1" 2>/dev/null && ! grep -q "^State:.*Z" /proc/"$1"/status 2>/dev/null; }
hist() { dango schedule history "$1" --json; }

test_expect_success 'a sync started by a scheduler that is killed -9 still completes' '
    hold_lock &&
    { DANGO_NOW=2026-03-28T11:59:59Z dango scheduler >s1.out 2>&1 9>&- & } && s1=$! &&
    wait_for_grep "load: started" s1.out &&
    log=$(hist load | jq -r ".[0].log_path") &&
    wait_for_grep "Waiting for lock" "$log" &&
    job=$(hist load | jq -r ".[0].pid") && test "$job" != null &&
    # the scheduler records the sync'"'"'s status file on its next poll; killed
    # before that, a restart can only say the outcome is unknown
    i=0 && while [ "$(hist load | jq -r ".[0].status_path")" = null ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done &&
    kill -9 $s1 && wait $s1 2>/dev/null; true &&
    alive $job &&
    test "$(hist load | jq -r ".[0].status")" = running &&
    # as if killed before that poll: the restart must find the file itself
    # (by the job'"'"'s pid and start time)
    sqlite3 .dango/state/dango.sqlite "UPDATE schedule_runs SET status_path = NULL WHERE schedule = '"'load'"'" &&
    test "$(hist load | jq -r ".[0].status_path")" = null &&
    release_lock &&
    i=0 && while alive $job && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done &&
    st=$(ls .dango/state/sync_status_*_$job.json) &&
    test "$(jq -r .phase "$st")" = completed
'

test_expect_success 'the restarted scheduler records it and does not run the fire again' '
    { DANGO_NOW=2026-03-28T12:03:00Z dango scheduler >s2.out 2>&1 & } && s2=$! &&
    wait_for_grep "load: run 1 was left running by a stopped scheduler; recorded success" s2.out &&
    kill -TERM $s2 && wait $s2 &&
    test_grep ! "load: started" s2.out &&
    hist load >h.json &&
    test "$(jq length h.json)" -eq 1 &&
    test "$(jq -r ".[0].status" h.json)" = success &&
    test "$(jq -r ".[0].rows_loaded" h.json)" = 2 &&
    st=$(jq -r ".[0].status_path" h.json) && test "$(jq -r .phase "$st")" = completed &&
    q "SELECT count(*) FROM raw_shop_db.shop_db" >out && echo 2 >expect && test_cmp expect out
'

test_expect_success 'a job killed with its scheduler ends failed, not stuck' '
    { DANGO_NOW=2026-03-28T12:59:59Z dango scheduler >s3.out 2>&1 & } && s3=$! &&
    wait_for_grep "stuck: started" s3.out &&
    job=$(hist stuck | jq -r ".[0].pid") && test "$job" != null &&
    kill -9 $s3 && wait $s3 2>/dev/null; true &&
    kill -9 -- -$job && i=0 && while alive $job && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done &&
    { DANGO_NOW=2026-03-28T13:01:00Z dango scheduler >s4.out 2>&1 & } && s4=$! &&
    wait_for_grep "stuck: run 2 was left running by a stopped scheduler; recorded failed" s4.out &&
    kill -TERM $s4 && wait $s4 &&
    hist stuck >h.json &&
    test "$(jq length h.json)" -eq 1 &&
    test "$(jq -r ".[0].status" h.json)" = failed &&
    jq -r ".[0].error" h.json >out &&
    test_grep "ended during phase .starting. without finishing: killed or crashed" out &&
    st=$(jq -r ".[0].status_path" h.json) &&
    test "$(jq -r .phase "$st")" = failed
'

test_expect_success 'a second SIGTERM kills the running job and records it failed' '
    { DANGO_NOW=2026-03-28T13:59:59Z dango scheduler >s5.out 2>&1 & } && s5=$! &&
    wait_for_grep "blocker: started" s5.out &&
    job=$(hist blocker | jq -r ".[0].pid") &&
    kill -TERM $s5 &&
    wait_for_grep "stopping after the 1 running job (signal again to kill it)" s5.out &&
    alive $job &&
    kill -TERM $s5 &&
    test_expect_code 1 wait $s5 &&
    test_grep "blocker: killing the job.s process group (second stop signal)" s5.out &&
    ! alive $job &&
    test "$(hist blocker | jq -r ".[0].status")" = failed &&
    test "$(hist blocker | jq -r ".[0].error")" = "killed: the scheduler was stopped with a second signal"
'

test_expect_success 'one scheduler a project' '
    { DANGO_NOW=2026-03-28T15:00:00Z dango scheduler >s6.out 2>&1 & } && s6=$! &&
    wait_for_grep "scheduler started" s6.out &&
    test_expect_code 1 dango scheduler >s7.out 2>&1 &&
    test_grep "a scheduler is already running for this project (pid $s6" s7.out &&
    kill -TERM $s6 && wait $s6
'

test_done
