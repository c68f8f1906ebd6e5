#!/usr/bin/env bash
# Staleness counts every successful sync of a source, not only the
# scheduler's: a `dango sync` by hand (or from the web page) is read from
# the status files.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf 'id,v\n1,a\n' >data/hand.csv
dango source add csv --name hand_db --path data/hand.csv >/dev/null
cat >>.dango/project.yml <<'EOS'
notifications:
  webhook_url_env: DANGO_WEBHOOK_URL
EOS
cat >.dango/schedules.yml <<'EOS'
schedules:
  - name: hand
    type: sync_only
    cron: "0 3 * * *"
    sources: [hand_db]
    notify_on: [stale]
    stale_after_hours: 1
EOS
"$FIXTURES/webhook_server" "$TRASH/hook.port" "$TRASH/hook.log" &
wait_for_file "$TRASH/hook.port"
export DANGO_WEBHOOK_URL=http://127.0.0.1:$(cat "$TRASH/hook.port")/hook

test_expect_success 'a sync by hand sets when the source goes stale' '
    dango sync hand_db >/dev/null &&
    f=$(grep -l "\"hand_db\"" .dango/state/sync_status_*.json) &&
    jq ".finished_at = \"2026-03-28T11:20:00\"" "$f" >f.tmp && mv f.tmp "$f" &&
    { DANGO_NOW=2026-03-28T11:50:00Z DANGO_CLOCK_SPEED=600 dango scheduler >sched.out 2>&1 & } && s=$! &&
    wait_for_grep "notified DANGO_WEBHOOK_URL of hand (stale)" sched.out &&
    kill -TERM $s && wait $s &&
    test_grep "source .hand_db. is stale: last synced successfully 2026-03-28 11:20 " sched.out
'

test_done
