#!/usr/bin/env bash
# dbt 1.9's microbatch incremental strategy: batches from `begin` on the
# first build, `lookback` batches back on the next, --event-time-start/end
# to backfill, --full-refresh from `begin` again; upstream nodes with an
# event_time read only the batch; each batch in its own transaction, and a
# failed batch is dbt's partial success
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/seeds
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: e.duckdb\n' >profiles.yml
printf 'id,ts,amount\n1,2024-01-01 03:00:00,10\n2,2024-01-01 23:59:59,20\n3,2024-01-02 00:00:00,30\n4,2024-01-03 12:00:00,40\n' >p/seeds/events.csv
printf 'id,label\n1,one\n2,two\n3,three\n4,four\n5,five\n6,six\n' >p/seeds/labels.csv
printf 'seeds:\n  - name: events\n    config: {event_time: ts}\n' >p/seeds/s.yml
# labels has no event_time: read whole in every batch, as dbt does
cat >p/models/daily.sql <<\EOF
{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts',
          batch_size='day', begin='2024-01-01') }}
select e.id, e.ts, e.amount * 2 as amount2, l.label, '{{ model.batch.id }}' as batch_id,
       {{ 'true' if is_incremental() else 'false' }} as incr
from {{ ref('events') }} e join {{ ref('labels') }} l using (id)
EOF
dango init peek >/dev/null
sq() { cp e.duckdb peek/data/warehouse.duckdb && (cd peek && dango query --csv "$1"); }
export DANGO_NOW=2024-01-03T10:00:00Z

test_expect_success 'the first build runs a batch a day from begin to now, the refs filtered to the batch' '
    dango seed --project-dir p --profiles-dir . >/dev/null &&
    dango run --project-dir p --profiles-dir . -s daily >out &&
    test_grep "1 of 1 START sql microbatch model main.daily" out &&
    test_grep "Batch 1 of 3 START batch 2024-01-01 of main.daily" out &&
    test_grep "Batch 1 of 3 OK created batch 2024-01-01 of main.daily .* \[SUCCESS in" out &&
    test_grep "Batch 3 of 3 OK created batch 2024-01-03 of main.daily" out &&
    test_grep "1 of 1 OK created sql microbatch model main.daily" out &&
    sq "select id, ts, amount2, label, batch_id, incr from main.daily order by id" >actual &&
    cat >expect <<-\EOF &&
	id,ts,amount2,label,batch_id,incr
	1,2024-01-01 03:00:00,20,one,20240101,false
	2,2024-01-01 23:59:59,40,two,20240101,false
	3,2024-01-02 00:00:00,60,three,20240102,true
	4,2024-01-03 12:00:00,80,four,20240103,true
	EOF
    test_cmp expect actual &&
    grep -q "from (select \* from \"e\".\"main\".\"events\" where ts >= .2024-01-03 00:00:00+00:00. and ts < .2024-01-04 00:00:00+00:00.) e join \"e\".\"main\".\"labels\" l" p/target/compiled/p/models/daily.sql &&
    grep -q "delete from \"main\".\"daily\"" p/target/run/p/models/daily.sql
'

test_expect_success 'the next run redoes the lookback (1) and the current batch only' '
    printf "id,ts,amount\n1,2024-01-01 03:00:00,10\n2,2024-01-01 23:59:59,20\n3,2024-01-02 00:00:00,30\n4,2024-01-03 12:00:00,40\n5,2024-01-02 05:00:00,50\n6,2024-01-01 05:00:00,60\n" >p/seeds/events.csv &&
    dango seed --project-dir p --profiles-dir . >/dev/null &&
    dango run --project-dir p --profiles-dir . -s daily >out &&
    test_grep "Batch 1 of 2 OK created batch 2024-01-02 of main.daily" out &&
    test_grep "Batch 2 of 2 OK created batch 2024-01-03 of main.daily" out &&
    sq "select id, batch_id, incr from main.daily order by id" >actual &&
    printf "id,batch_id,incr\n1,20240101,false\n2,20240101,false\n3,20240102,true\n4,20240103,true\n5,20240102,true\n" >expect &&
    test_cmp expect actual
'

test_expect_success '--event-time-start/--event-time-end backfill the batches between them' '
    dango run --project-dir p --profiles-dir . -s daily --event-time-start 2024-01-01 --event-time-end 2024-01-02 >out &&
    test_grep "Batch 1 of 1 OK created batch 2024-01-01 of main.daily" out &&
    sq "select id, batch_id from main.daily order by id" >actual &&
    printf "id,batch_id\n1,20240101\n2,20240101\n3,20240102\n4,20240103\n5,20240102\n6,20240101\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'the event-time flags go together, start before end' '
    test_expect_code 2 dango run --project-dir p --profiles-dir . --event-time-end 2024-01-02 2>err &&
    test_grep "The flag .--event-time-end. was specified, but .--event-time-start. was not" err &&
    test_expect_code 2 dango run --project-dir p --profiles-dir . --event-time-start 2024-01-03 --event-time-end 2024-01-02 2>err &&
    test_grep "Value for .--event-time-start. must be less than .--event-time-end." err &&
    test_expect_code 2 dango run --project-dir p --profiles-dir . --event-time-start yesterday --event-time-end 2024-01-02 2>err &&
    test_grep "event-time-start: .yesterday. is not a date" err
'

test_expect_success '--full-refresh rebuilds from begin' '
    dango run --project-dir p --profiles-dir . -s daily --full-refresh >out &&
    test_grep "Batch 1 of 3 OK created batch 2024-01-01" out &&
    sq "select id, batch_id, incr from main.daily order by id" >actual &&
    printf "id,batch_id,incr\n1,20240101,false\n2,20240101,false\n3,20240102,true\n4,20240103,true\n5,20240102,true\n6,20240101,false\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'a failing batch is a partial success: the others are built, the failed one left as it was' '
    cat >p/models/flaky.sql <<-\EOF &&
	{{ config(materialized="incremental", incremental_strategy="microbatch", event_time="ts", batch_size="day", begin="2024-01-01", lookback=2) }}
	{% if model.batch.id == "20240102" and var("fail", false) %} select * from no_such_table {% else %}
	select id, ts, {{ var("v", 1) }} as v from {{ ref("events") }} {% endif %}
	EOF
    echo "select count(*) as n from {{ ref(\"flaky\") }}" >p/models/after.sql &&
    dango run --project-dir p --profiles-dir . -s flaky >out &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s flaky+ --vars "{fail: true, v: 2}" >out &&
    test_grep "Batch 2 of 3 ERROR creating batch 2024-01-02 of main.flaky .* \[ERROR in" out &&
    test_grep "Batch 3 of 3 OK created batch 2024-01-03 of main.flaky" out &&
    test_grep "PARTIALLY created sql microbatch model main.flaky .* \[PARTIAL SUCCESS (2/3) in" out &&
    test_grep "SKIP relation main.after" out &&
    test_grep "Completed with 1 partial success and 0 warnings" out &&
    test_grep "no_such_table" out &&
    sq "select id, v from main.flaky order by id" >actual &&
    printf "id,v\n1,2\n2,2\n3,1\n4,2\n5,1\n6,2\n" >expect &&
    test_cmp expect actual &&
    grep -q "\"status\": \"partial success\"" p/target/run_results.json
'

test_expect_success 'when the first batch fails, the others are skipped' '
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s flaky --full-refresh --vars "{fail: true}" \
        --event-time-start 2024-01-02 --event-time-end 2024-01-04 >out &&
    test_grep "Batch 1 of 2 ERROR creating batch 2024-01-02 of main.flaky" out &&
    test_grep "Batch 2 of 2 SKIP batch 2024-01-03 of main.flaky .* \[SKIPPED\]" out &&
    test_grep "ERROR creating sql microbatch model main.flaky" out &&
    sq "select count(*) as n from main.flaky" >actual && printf "n\n6\n" >expect && test_cmp expect actual
'

test_expect_success 'month batches; a missing begin or batch_size fails the model with dbt'"'"'s reason' '
    printf "{{ config(materialized=\"incremental\", incremental_strategy=\"microbatch\", event_time=\"ts\", batch_size=\"month\", begin=\"2023-11-15\") }}\nselect * from {{ ref(\"events\") }}\n" >p/models/monthly.sql &&
    dango run --project-dir p --profiles-dir . -s monthly >out &&
    test_grep "Batch 1 of 3 OK created batch 2023-11 of main.monthly" out &&
    test_grep "Batch 3 of 3 OK created batch 2024-01 of main.monthly" out &&
    sq "select count(*) as n from main.monthly" >actual && printf "n\n6\n" >expect && test_cmp expect actual &&
    printf "{{ config(materialized=\"incremental\", incremental_strategy=\"microbatch\", event_time=\"ts\", batch_size=\"day\") }}\nselect 1 as id, now() as ts\n" >p/models/nobegin.sql &&
    printf "{{ config(materialized=\"incremental\", incremental_strategy=\"microbatch\", event_time=\"ts\", begin=\"2024-01-01\") }}\nselect 1 as id, now() as ts\n" >p/models/nosize.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s nobegin nosize >out &&
    test_grep "Microbatch model .nobegin. requires a .begin. configuration." out &&
    test_grep "Microbatch model .nosize. does not have a .batch_size. config" out
'

test_expect_success 'ref(...).render() opts a ref out of the batch filter, as in dbt' '
    printf "{{ config(materialized=\"incremental\", incremental_strategy=\"microbatch\", event_time=\"ts\", batch_size=\"year\", begin=\"2024-01-01\") }}\nselect max(ts) as ts, count(*) as n from {{ ref(\"events\").render() }}\n" >p/models/optout.sql &&
    dango run --project-dir p --profiles-dir . -s optout >out &&
    test_grep "Batch 1 of 1 OK created batch 2024 of main.optout" out &&
    sq "select n from main.optout" >actual && printf "n\n6\n" >expect && test_cmp expect actual
'

test_done
