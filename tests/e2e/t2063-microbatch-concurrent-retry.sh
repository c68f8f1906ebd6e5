#!/usr/bin/env bash
# microbatch: concurrent_batches as dbt runs them with dbt-duckdb (the first
# and the last batch alone, the ones between at once, up to --threads, when
# concurrent_batches is true or unset and the model does not use `this`),
# and dango retry re-running only the batches that failed (dbt 1.9's
# previous_batch_results), from run_results.json's batch_results.
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/seeds
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: e.duckdb\n      threads: 4\n' >profiles.yml
{
    echo "id,ts"
    for d in 1 2 3 4 5 6; do echo "$d,2024-01-0$d 06:00:00"; echo "1$d,2024-01-0$d 18:00:00"; done
} >p/seeds/events.csv
printf 'seeds:\n  - name: events\n    config: {event_time: ts}\n' >p/seeds/s.yml
model() {
    cat <<-EOF
	{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts',
	          batch_size='day', begin='2024-01-01'${1:-}) }}
	select id, ts, '{{ model.batch.id }}' as batch_id ${2:-} from {{ ref('events') }}
	EOF
}
model "" >p/models/conc.sql
# `this` read only once the table is there
seen=", {% if is_incremental() %}(select count(*) from {{ this }}) >= 0{% else %}true{% endif %} as seen"
model ", concurrent_batches=true" "$seen" >p/models/forced.sql
model "" "$seen" >p/models/selfref.sql
model ", concurrent_batches=false" >p/models/inorder.sql
dango init peek >/dev/null
sq() { cp e.duckdb peek/data/warehouse.duckdb && (cd peek && dango query --csv "$1"); }
export DANGO_NOW=2024-01-06T10:00:00Z

test_expect_success 'the first build of each: a table from begin, the first batch alone' '
    dango seed --project-dir p --profiles-dir . >/dev/null &&
    dango run --project-dir p --profiles-dir . >out &&
    test_grep "Batch 6 of 6 OK created batch 2024-01-06 of main.conc" out &&
    for m in conc forced selfref inorder; do
        sq "select count(*) as n, count(distinct batch_id) as b from main.$m" >actual &&
        printf "n,b\n12,6\n" >expect && test_cmp expect actual || return 1
    done
'

test_expect_success 'unset concurrent_batches and no `this`: batches 2 to 5 at once; the rows as in order' '
    dango run --project-dir p --profiles-dir . -s conc --full-refresh >out &&
    test_grep "Batches 2 to 5 of 6 of main.conc run concurrently, on 4 connections" out &&
    for i in 1 2 3 4 5 6; do test_grep "Batch $i of 6 OK created batch 2024-01-0$i of main.conc" out || return 1; done &&
    sq "select id, batch_id from main.conc order by id" >actual &&
    {
        echo "id,batch_id"
        for d in 1 2 3 4 5 6; do echo "$d,2024010$d"; done
        for d in 1 2 3 4 5 6; do echo "1$d,2024010$d"; done
    } >expect &&
    test_cmp expect actual
'

test_expect_success 'concurrent_batches: true wins over `this`; --threads bounds the connections' '
    dango run --project-dir p --profiles-dir . -s forced --full-refresh --threads 2 >out &&
    test_grep "Batches 2 to 5 of 6 of main.forced run concurrently, on 2 connections" out &&
    sq "select count(*) as n, count(distinct batch_id) as b, bool_and(seen) as s from main.forced" >actual &&
    printf "n,b,s\n12,6,true\n" >expect && test_cmp expect actual
'

test_expect_success 'a model that uses `this`, concurrent_batches: false, or one thread: in order' '
    dango run --project-dir p --profiles-dir . -s selfref inorder --full-refresh >out &&
    ! grep -q "run concurrently" out &&
    dango run --project-dir p --profiles-dir . -s conc --full-refresh --threads 1 >out &&
    ! grep -q "run concurrently" out &&
    sq "select count(*) as n from main.selfref" >actual && printf "n\n12\n" >expect && test_cmp expect actual
'

cat >p/models/flaky.sql <<\EOF
{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts',
          batch_size='day', begin='2024-01-01', concurrent_batches=false) }}
{% if model.batch.id in env_var('FAIL_BATCHES', '').split(',') %} select * from no_such_table {% else %}
select id, ts, '{{ env_var("MARK", "1") }}' as mark from {{ ref('events') }} {% endif %}
EOF
echo "select count(*) as n from {{ ref('flaky') }}" >p/models/after.sql

test_expect_success 'failed batches are listed in run_results.json batch_results' '
    FAIL_BATCHES=20240102,20240104 test_expect_code 1 dango run --project-dir p --profiles-dir . -s flaky+ >out &&
    test_grep "PARTIAL SUCCESS (4/6)" out &&
    test_grep "SKIP relation main.after" out &&
    jq -c ".results[] | select(.unique_id == \"model.p.flaky\") | [.status, .batch_results.failed]" p/target/run_results.json >actual &&
    echo "[\"partial success\",[[\"2024-01-02T00:00:00+00:00\",\"2024-01-03T00:00:00+00:00\"],[\"2024-01-04T00:00:00+00:00\",\"2024-01-05T00:00:00+00:00\"]]]" >expect &&
    test_cmp expect actual &&
    jq -r ".results[] | select(.unique_id == \"model.p.flaky\") | .batch_results.successful[][0]" p/target/run_results.json >actual &&
    printf "2024-01-01T00:00:00+00:00\n2024-01-03T00:00:00+00:00\n2024-01-05T00:00:00+00:00\n2024-01-06T00:00:00+00:00\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'dango retry runs only those batches, into the table the run built, and what was skipped' '
    MARK=2 dango retry --project-dir p --profiles-dir . >out 2>&1 || { cat out; false; } &&
    test_grep "Batch 1 of 2 OK created batch 2024-01-02 of main.flaky" out &&
    test_grep "Batch 2 of 2 OK created batch 2024-01-04 of main.flaky" out &&
    test_grep "OK created sql view model main.after" out &&
    sq "select strftime(ts, '"'"'%d'"'"') as d, min(mark) as m, count(*) as n from main.flaky group by 1 order by 1" >actual &&
    printf "d,m,n\n01,1,2\n02,2,2\n03,1,2\n04,2,2\n05,1,2\n06,1,2\n" >expect &&
    test_cmp expect actual &&
    jq -c ".results[] | select(.unique_id == \"model.p.flaky\") | [.status, (.batch_results.successful | length), .batch_results.failed]" p/target/run_results.json >actual &&
    echo "[\"success\",6,[]]" >expect && test_cmp expect actual
'

test_done
