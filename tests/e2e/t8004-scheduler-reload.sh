#!/usr/bin/env bash
# Reloading: on SIGHUP and when schedules.yml changes; a broken file keeps
# the schedules loaded before.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
cat >.dango/schedules.yml <<'EOS'
schedules:
  - name: first
    type: script
    cron: "0 12 * * *"
    command: "echo first >>runs.log"
EOS
export DANGO_NOW=2026-03-28T11:00:00Z DANGO_CLOCK_SPEED=60

test_expect_success 'start a scheduler with one schedule' '
    { dango scheduler >sched.out 2>&1 & } && echo $! >sched.pid &&
    wait_for_grep "scheduler started for project .p. (pid [0-9]*): 1 schedule$" sched.out
'

test_expect_success 'a change of schedules.yml is picked up without a restart' '
    cat >>.dango/schedules.yml <<-\EOS &&
	  - name: second
	    type: script
	    cron: "*/5 * * * *"
	    command: "echo second >>runs.log"
	EOS
    wait_for_grep ".dango/schedules.yml changed; reloading" sched.out &&
    wait_for_grep "reloaded .dango/schedules.yml: 2 schedules" sched.out &&
    wait_for_grep "second: succeeded" sched.out &&
    test_grep "^second$" runs.log
'

test_expect_success 'a broken file keeps the old schedules and says why' '
    cp .dango/schedules.yml good.yml &&
    sed -i "s/\*\/5 \* \* \* \*/*\/5 25 * * */" .dango/schedules.yml &&
    wait_for_grep "reload failed; keeping the 2 schedules loaded before:" sched.out &&
    wait_for_grep "  .dango/schedules.yml:8:11: bad cron .\*/5 25 \* \* \*. in schedule .second.: field .hour. (0-23): value 25 is out of range" sched.out &&
    n=$(grep -c "^second$" runs.log) &&
    i=0 && while [ "$(grep -c "^second$" runs.log)" -le "$n" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done &&
    test "$(grep -c "^second$" runs.log)" -gt "$n"
'

test_expect_success 'SIGHUP reloads' '
    cp good.yml .dango/schedules.yml &&
    wait_for_grep "reloaded .dango/schedules.yml: 2 schedules" sched.out &&
    c=$(grep -c "reloaded .dango/schedules.yml" sched.out) &&
    kill -HUP $(cat sched.pid) &&
    wait_for_grep "reload requested" sched.out &&
    i=0 && while [ "$(grep -c "reloaded .dango/schedules.yml" sched.out)" -le "$c" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done &&
    test "$(grep -c "reloaded .dango/schedules.yml" sched.out)" -gt "$c"
'

test_expect_success 'SIGTERM stops it' '
    kill -TERM $(cat sched.pid) &&
    wait_for_grep "scheduler stopped" sched.out
'

test_done
