#!/usr/bin/env bash
# Notifications: failure, success and stale as JSON POSTs to the URL named
# by notifications.webhook_url_env, Slack's shape on request, and a failed
# delivery that is logged without failing the job.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf 'id,v\n1,a\n2,b\n' >data/shop.csv
dango source add csv --name shop_db --path data/shop.csv >/dev/null
printf "id\n1\n" >data/missing.csv && dango source add csv --name missing_db --path data/missing.csv >/dev/null && rm data/missing.csv
cat >>.dango/project.yml <<'EOS'
notifications:
  webhook_url_env: DANGO_WEBHOOK_URL
EOS
cat >.dango/schedules.yml <<'EOS'
schedules:
  - name: broken
    type: script
    cron: "0 12 * * *"
    command: "echo 'error: no luck' >&2; exit 2"
    notify_on: [failure]
  - name: fine
    type: sync_only
    cron: "0 12 * * *"
    sources: [shop_db]
    notify_on: [success, failure]
  - name: stale_src
    type: sync_only
    cron: "0 12 * * *"
    sources: [missing_db]
    notify_on: [stale]
    stale_after_hours: 1
EOS
"$FIXTURES/webhook_server" "$TRASH/hook.port" "$TRASH/hook.log" &
wait_for_file "$TRASH/hook.port"
HOOK=http://127.0.0.1:$(cat "$TRASH/hook.port")
export DANGO_WEBHOOK_URL=$HOOK/hooks/T000/B000/secret123
bodies() { sed -n "s|^POST /hooks/T000/B000/secret123 ||p" "$TRASH/hook.log"; }

test_expect_success 'the scheduler posts failure, success and (once) stale' '
    { DANGO_NOW=2026-03-28T11:50:00Z DANGO_CLOCK_SPEED=600 dango scheduler >sched.out 2>&1 & } && s=$! &&
    wait_for_grep "notified DANGO_WEBHOOK_URL of broken (failure)" sched.out &&
    wait_for_grep "notified DANGO_WEBHOOK_URL of fine (success)" sched.out &&
    wait_for_grep "notified DANGO_WEBHOOK_URL of stale_src (stale)" sched.out &&
    kill -TERM $s && wait $s &&
    bodies | jq -s "map(select(.event == \"failure\"))[0]" >f.json &&
    test "$(jq -r ".schedule, .status, .attempt, .project, .trigger, .scheduled_for" f.json | paste -sd " ")" = "broken failed 1 p schedule 2026-03-28T12:00:00Z" &&
    test "$(jq -r .error f.json)" = "the command exited with status 2: error: no luck" &&
    test "$(jq -r .text f.json)" = "❌ Dango schedule '"'"'broken'"'"' failed (attempt 1 of 1): the command exited with status 2: error: no luck" &&
    jq -r .started_at f.json | grep "^2026-03-28T1[23]:[0-5][0-9]:[0-5][0-9]Z$" &&
    jq -r .log_path f.json | grep "/.dango/logs/schedules/broken/" &&
    bodies | jq -s "map(select(.event == \"success\"))[0]" >ok.json &&
    test "$(jq -r ".schedule, .status, .rows_loaded" ok.json | paste -sd " ")" = "fine success 2" &&
    test "$(jq -r .text ok.json)" = "✅ Dango schedule '"'"'fine'"'"' succeeded: 2 rows loaded" &&
    bodies | jq -s "map(select(.event == \"stale\"))" >st.json &&
    test "$(jq length st.json)" -eq 1 &&
    test "$(jq -r ".[0].text" st.json)" = "⚠️ Dango source '"'"'missing_db'"'"' is stale: not synced successfully in 1 h (schedule '"'"'stale_src'"'"')" &&
    test_grep ! secret123 sched.out
'

test_expect_success 'webhook_format: slack posts Slack'"'"'s {"text": ...} shape' '
    : >"$TRASH/hook.log" &&
    printf "  webhook_format: slack\n" >>.dango/project.yml &&
    test_expect_code 1 dango schedule run broken >out 2>&1 &&
    bodies >b.json &&
    test "$(jq -c "keys" b.json)" = "[\"text\"]" &&
    test_grep "Dango schedule .broken. failed (attempt 1 of 1)" b.json
'

test_expect_success 'a failed delivery is logged and never fails the job' '
    DANGO_WEBHOOK_URL=$HOOK/fail/secret456 dango schedule run fine >out 2>&1 &&
    test_grep "notification to http://127.0.0.1:[0-9]* failed: HTTP 500" out &&
    test_grep "Schedule .fine. succeeded" out &&
    test_grep ! secret456 out &&
    test "$(dango schedule history fine --json | jq -r ".[0].status")" = success
'

test_done
