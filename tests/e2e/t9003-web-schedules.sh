#!/usr/bin/env bash
# Schedules in `dango web`: the list with next run and last result, run now
# (through the in-process scheduler, or `dango schedule run` with
# --no-scheduler), enable/disable editing schedules.yml in place, and the
# scheduler running inside the server on a fast clock: a due schedule runs
# while the server answers; SIGTERM waits for a running job, a second one
# kills it; another scheduler holding the project makes the server serve
# without one, and say so.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/web_lib.sh"

dango init p >/dev/null </dev/null
cd p || exit 1
printf 'id,v\n1,a\n2,b\n' >data/shop.csv
dango source add csv --name shop --path data/shop.csv >/dev/null
cat >.dango/schedules.yml <<'EOS'
version: "1.0"
schedules:
  # the nightly load
  - name: nightly
    type: sync_only
    cron: "0 12 * * *"
    sources: [shop]
  - name: tick
    type: script
    cron: "30 * * * *"
    command: "echo hello from tick"
  - name: off
    type: script
    cron: daily
    command: "true"
    enabled: false
  - name: slow
    type: script
    cron: "0 0 1 1 *"
    command: "echo slow started; while [ ! -e release ]; do sleep 0.1; done; echo slow done"
EOS

# wait_until SECONDS COMMAND...: poll COMMAND every 0.1 s
wait_until() {
    local n=$(( $1 * 10 ))
    shift
    while ! "$@"; do
        n=$((n - 1))
        [ $n -le 0 ] && { echo "wait_until: gave up on: $*" >&2; return 1; }
        sleep 0.1
    done
}
sched() { web_get /api/schedules | jq -c ".schedules[] | select(.name == \"$1\") | $2"; }
last_status() { test "$(sched "$1" '.last_run.status')" = "\"$2\""; }
# a function, so wait_until asks again each time (a $(...) argument is asked once)
is_running() { test "$(sched "$1" .running)" = true; }
source_rows() { test "$(web_get /api/sources | jq -r ".sources[0].rows")" = "$1"; }

# a clock that stands still: nothing fires by itself
export DANGO_NOW=2026-03-28T11:00:00Z DANGO_CLOCK_SPEED=0
start_web web1 --no-scheduler

test_expect_success 'GET /api/schedules: each schedule with its next run and last result' '
    web_get /api/schedules >s.json &&
    jq -r ".schedules[] | [.name, .type, .selection, .enabled, .next_run, .next_run_local, .last_run, .running] | @tsv" s.json >out &&
    cat >expect <<-EOF &&
	nightly	sync_only	shop	true	2026-03-28T12:00:00Z	2026-03-28 12:00 UTC		false
	tick	script	\$ echo hello from tick	true	2026-03-28T11:30:00Z	2026-03-28 11:30 UTC		false
	off	script	\$ true	false				false
	slow	script	\$ echo slow started; while [ ! -e release ]; do sleep 0.1; done; echo slow done	true	2027-01-01T00:00:00Z	2027-01-01 00:00 UTC		false
	EOF
    test_cmp expect out &&
    jq -r ".scheduler | [.running, .note] | @tsv" s.json >out &&
    printf "false\tnot running: dango web was started with --no-scheduler\n" >expect && test_cmp expect out &&
    web_get /api/health | jq -r .scheduler.running >out && echo false >expect && test_cmp expect out
'

test_expect_success 'Sources show the schedules that sync them' '
    web_get /api/sources | jq -r ".sources[0].schedule" >out &&
    echo "nightly (next 2026-03-28 12:00 UTC)" >expect && test_cmp expect out
'

test_expect_success 'run now without a scheduler: dango schedule run, recorded in the history' '
    web_session &&
    web_post /api/schedules/tick/run "{}" >resp &&
    test "$(tail -1 resp)" = 202 &&
    id=$(head -1 resp | jq -r .run_id) && wait_run "$id" &&
    test "$(jq -r .status run.json)" = completed &&
    sched tick ".last_run | [.status, .schedule_status, .trigger, .started_at]" >out &&
    echo "[\"completed\",\"success\",\"manual\",\"2026-03-28T11:00:00Z\"]" >expect && test_cmp expect out &&
    rid=$(sched tick ".last_run.id" | tr -d \") &&
    web_get "/api/runs/$rid" >r.json &&
    jq -r "[.kind, .target, .origin, .status] | @tsv" r.json >out &&
    printf "schedule\ttick\tscheduler\tcompleted\n" >expect && test_cmp expect out &&
    jq -r .log r.json >log && test_grep "^hello from tick$" log &&
    dango schedule history tick --json | jq -r ".[0] | [.trigger, .status] | @tsv" >out &&
    printf "manual\tsuccess\n" >expect && test_cmp expect out
'

test_expect_success 'the runs list shows a scheduled run once, as the scheduler'"'"'s' '
    web_get "/api/runs?kind=schedule" | jq -r ".runs[] | [.kind, .target, .origin] | @tsv" >out &&
    printf "schedule\ttick\tscheduler\n" >expect && test_cmp expect out &&
    web_get /api/runs | jq -r "[.runs[] | select(.target == \"tick\")] | length" >out &&
    echo 1 >expect && test_cmp expect out
'

test_expect_success 'enable and disable edit schedules.yml in place' '
    web_post /api/schedules/off/enable "{}" >resp &&
    test "$(tail -1 resp)" = 200 &&
    head -1 resp | jq -r "[.name, .enabled, .next_run] | @tsv" >out &&
    printf "off\ttrue\t2026-03-29T06:00:00Z\n" >expect && test_cmp expect out &&
    test_grep "^  # the nightly load$" .dango/schedules.yml &&
    dango schedule list --json | jq -r ".[] | select(.name == \"off\") | .enabled" >out &&
    echo true >expect && test_cmp expect out &&
    web_post /api/schedules/off/disable "{}" >resp && test "$(tail -1 resp)" = 200 &&
    sched off .enabled >out && echo false >expect && test_cmp expect out &&
    test_grep "enabled: false" .dango/schedules.yml
'

test_expect_success 'unknown schedules, GET on actions, bad names' '
    web_post /api/schedules/nope/run "{}" >resp && test "$(tail -1 resp)" = 404 &&
    head -1 resp | jq -r .error >out &&
    echo "no schedule named '"'nope'"' in .dango/schedules.yml" >expect && test_cmp expect out &&
    test "$(curl -s -o /dev/null -w "%{http_code}" "$WEB_URL/api/schedules/tick/run")" = 405 &&
    test "$(curl -s -o /dev/null -w "%{http_code}" "$WEB_URL/api/schedules/nope")" = 404 &&
    web_post /api/schedules/-x/run "{}" >resp && test "$(tail -1 resp)" = 400
'
stop_web

# the scheduler in the server: 30x, so 12:00 comes one real second after start
export DANGO_NOW=2026-03-28T11:59:30Z DANGO_CLOCK_SPEED=30
start_web web2

test_expect_success 'a due schedule runs in the server while it answers' '
    web_get /api/health | jq -r .scheduler.running >out && echo true >expect && test_cmp expect out &&
    wait_until 120 last_status nightly completed &&
    sched nightly ".last_run | [.trigger, .rows, .scheduled_for]" >out &&
    echo "[\"schedule\",2,\"2026-03-28T12:00:00Z\"]" >expect && test_cmp expect out &&
    test_grep "nightly: succeeded, 2 rows" "$TRASH/web2.out" &&
    q "SELECT id, v FROM raw_shop.shop ORDER BY id" >out && printf "1,a\n2,b\n" >expect && test_cmp expect out
'

test_expect_success 'run now through the scheduler; the page answers while the job runs' '
    web_session &&
    web_post /api/schedules/slow/run "{}" >resp && test "$(tail -1 resp)" = 202 &&
    head -1 resp | jq -r .status >out && echo queued >expect && test_cmp expect out &&
    wait_until 60 is_running slow &&
    web_get /api/health | jq -r .status >out && echo ok >expect && test_cmp expect out &&
    wait_until 30 source_rows 2 &&
    web_post /api/schedules/slow/run "{}" >resp && test "$(tail -1 resp)" = 202 &&
    touch release &&
    wait_until 60 last_status slow completed &&
    rid=$(sched slow ".last_run.id" | tr -d \") &&
    web_get "/api/runs/$rid" | jq -r .log >log &&
    test_grep "^slow started$" log && test_grep "^slow done$" log &&
    rm release
'

test_expect_success 'SIGTERM waits for the running scheduled job; a second one kills it' '
    web_post /api/schedules/slow/run "{}" >resp && test "$(tail -1 resp)" = 202 &&
    wait_until 60 is_running slow &&
    kill -TERM $WEB_PID &&
    wait_for_grep "stopping after the 1 running job" "$TRASH/web2.out" 30 &&
    kill -0 $WEB_PID &&
    test_must_fail curl -sf -m 5 "$WEB_URL/api/health" &&
    kill -TERM $WEB_PID &&
    wait_until 60 test_must_fail kill -0 $WEB_PID 2>/dev/null &&
    test_grep "scheduler stopped" "$TRASH/web2.out" &&
    dango schedule history slow --json | jq -r ".[0] | [.status, .error] | @tsv" >out &&
    printf "failed\tkilled: the scheduler was stopped with a second signal\n" >expect && test_cmp expect out
'
wait $WEB_PID

test_expect_success 'with another scheduler running, the server serves without one and says so' '
    { dango scheduler >other.out 2>&1 & } && other=$! &&
    wait_for_grep "scheduler started" other.out 30 &&
    start_web web3 &&
    web_get /api/health | jq -r ".scheduler | [.running, .note] | @tsv" >out &&
    test_grep "^false	not running in this server: a scheduler is already running for this project (pid $other, since" out &&
    test_grep "warning: the scheduler does not run in this server" "$TRASH/web3.out" &&
    stop_web && kill -TERM $other && wait $other
'
test_done
