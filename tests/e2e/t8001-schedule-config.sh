#!/usr/bin/env bash
# .dango/schedules.yml: validation with file:line:col, the schedule commands
# that edit it (keeping comments), list and next on a fixed clock.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf 'id,v\n1,a\n2,b\n' >data/shop.csv
dango source add csv --name shop_db --path data/shop.csv >/dev/null
export DANGO_NOW=2026-03-28T12:00:00Z

test_expect_success 'no schedules: list says so' '
    dango schedule list >out &&
    test_grep "No schedules in .dango/schedules.yml" out
'

test_expect_success 'every problem is reported with file:line:col and the key' '
    cat >.dango/schedules.yml <<-\EOS &&
	version: "1.0"
	schedules:
	  - name: bad_one
	    cron: "0 24 * * *"
	    sorces: [x]
	    timezone: Mars/Base
	    notify_on: [failur]
	    sources: [shopdb]
	  - name: Bad-Name
	    cron: "@dayly"
	  - name: scripted
	    type: script
	    cron: daily
	  - name: bad_one
	    type: dbt
	    cron: "*/0 * * * *"
	    sources: [shop_db]
	EOS
    test_expect_code 1 dango schedule list 2>err &&
    cat >expect <<-\EOS &&
	error: .dango/schedules.yml:5:5: unknown key '"'"'sorces'"'"' in schedule '"'"'bad_one'"'"' (did you mean '"'"'sources'"'"'?)
	error: .dango/schedules.yml:4:11: bad cron '"'"'0 24 * * *'"'"' in schedule '"'"'bad_one'"'"': field '"'"'hour'"'"' (0-23): value 24 is out of range
	error: .dango/schedules.yml:6:15: unknown time zone '"'"'Mars/Base'"'"' (an IANA name such as Europe/Berlin or America/New_York) in schedule '"'"'bad_one'"'"'
	error: .dango/schedules.yml:7:16: invalid value '"'"'failur'"'"' in '"'"'notify_on'"'"' of schedule '"'"'bad_one'"'"' (expected failure, success or stale) (did you mean '"'"'failure'"'"'?)
	error: .dango/schedules.yml:8:14: unknown source '"'"'shopdb'"'"' in schedule '"'"'bad_one'"'"' (did you mean '"'"'shop_db'"'"'?)
	error: .dango/schedules.yml:9:11: schedule name '"'"'Bad-Name'"'"' must be lowercase snake_case (letters, digits, _)
	error: .dango/schedules.yml:10:11: bad cron '"'"'@dayly'"'"' in schedule '"'"'Bad-Name'"'"': unknown cron preset '"'"'@dayly'"'"' (did you mean '"'"'@daily'"'"'?)
	error: .dango/schedules.yml:11:5: missing required key '"'"'command'"'"' in schedule '"'"'scripted'"'"' (type '"'"'script'"'"')
	error: .dango/schedules.yml:14:11: duplicate schedule name '"'"'bad_one'"'"' (first defined at line 3)
	error: .dango/schedules.yml:16:11: bad cron '"'"'*/0 * * * *'"'"' in schedule '"'"'bad_one'"'"': field '"'"'minute'"'"' (0-59): step in '"'"'*/0'"'"' is out of range
	error: .dango/schedules.yml:17:14: '"'"'sources'"'"' in schedule '"'"'bad_one'"'"' is not used by type '"'"'dbt'"'"' (use '"'"'select'"'"' for dbt models)
	EOS
    test_cmp expect err
'

test_expect_success 'dango validate reports the same problems and fails' '
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "✗ .dango/schedules.yml:4:11: bad cron" out &&
    test_grep "✗ .dango/schedules.yml:8:14: unknown source .shopdb." out
'

test_expect_success 'validate knows the tables of a source' '
    cat >.dango/schedules.yml <<-\EOS &&
	schedules:
	  - name: orders_intraday
	    cron: "0 12,18 * * *"
	    sources: [shop_db.orders]
	EOS
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "schedule .orders_intraday.: source .shop_db. has no table .orders." out
'

test_expect_success 'a good file: list shows type, selection, cron, next run, last run' '
    cat >.dango/schedules.yml <<-\EOS &&
	# our schedules
	version: "1.0"
	schedules:
	  - name: nightly_all          # everything, every morning
	    type: sync
	    cron: daily
	    sources: [shop_db]
	  - name: orders_intraday
	    type: sync_only
	    cron: "0 12,18 * * *"
	    sources: [shop_db.shop_db]
	    timezone: Europe/Berlin
	  - name: marts_hourly
	    type: dbt
	    cron: every_hour
	    select: "marts.* tag:hourly"
	    enabled: false
	    misfire_grace_time: 600
	    timeout_minutes: 30
	    retries: {max: 2, backoff_seconds: 60}
	    notify_on: [failure, stale]
	EOS
    dango validate >out 2>&1 &&
    test_grep "✓ .dango/schedules.yml (3 schedules)" out &&
    dango schedule list >out &&
    cat >expect <<-\EOS &&
	NAME             TYPE       SELECTION                   CRON                         NEXT RUN              LAST RUN  ENABLED
	nightly_all      sync       shop_db                     daily (0 6 * * *)            2026-03-29 06:00 UTC  never     yes
	orders_intraday  sync_only  shop_db.shop_db             0 12,18 * * * Europe/Berlin  2026-03-28 18:00 CET  never     yes
	marts_hourly     dbt        dbt run marts.* tag:hourly  every_hour (0 * * * *)       -                     never     no
	EOS
    test_cmp expect out
'

test_expect_success 'next lists fire times across the DST change, local and UTC' '
    dango schedule next orders_intraday --count 4 >out &&
    cat >expect <<-\EOS &&
	Next 4 runs of '"'"'orders_intraday'"'"' (0 12,18 * * *, Europe/Berlin):
	  2026-03-28 18:00 CET       2026-03-28T17:00:00Z
	  2026-03-29 12:00 CEST      2026-03-29T10:00:00Z
	  2026-03-29 18:00 CEST      2026-03-29T16:00:00Z
	  2026-03-30 12:00 CEST      2026-03-30T10:00:00Z
	EOS
    test_cmp expect out
'

test_expect_success 'add, disable, enable and remove keep the comments' '
    dango schedule add --name every_quarter --cron "*/15 * * * *" --type sync_only --sources shop_db >out &&
    test_grep "Schedule .every_quarter. added" out &&
    test_grep "^# our schedules" .dango/schedules.yml &&
    test_grep "everything, every morning" .dango/schedules.yml &&
    dango schedule disable every_quarter &&
    dango schedule list >out && test_grep "^every_quarter .* no$" out &&
    dango schedule enable every_quarter &&
    dango schedule list >out && test_grep "^every_quarter .* yes$" out &&
    dango schedule disable nightly_all && test_grep "enabled: false" .dango/schedules.yml &&
    dango schedule remove every_quarter &&
    test_grep ! every_quarter .dango/schedules.yml &&
    dango validate >/dev/null 2>&1
'

test_expect_success 'add refuses what would not validate, and unknown names get a suggestion' '
    test_must_fail dango schedule add --name x_bad --cron "61 * * * *" 2>err &&
    test_grep "field .minute. (0-59): value 61 is out of range" err &&
    test_grep ! x_bad .dango/schedules.yml &&
    test_expect_code 2 dango schedule remove nightly_al 2>err &&
    test_grep "no schedule named .nightly_al. in .dango/schedules.yml (did you mean .nightly_all.?)" err
'

test_expect_success 'history is empty before any run' '
    dango schedule history >out &&
    test_grep "No runs recorded yet." out &&
    dango schedule history --json >out && test "$(cat out)" = "[]"
'

test_done
