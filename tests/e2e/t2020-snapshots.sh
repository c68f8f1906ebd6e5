#!/usr/bin/env bash
# dbt snapshots: SQL blocks and YAML snapshots, timestamp and check
# strategies, one or several unique_key columns, hard_deletes, the meta
# columns' values, dbt_valid_to_current, snapshot_meta_column_names,
# target_schema and schema; three runs over changing seeds compared row by
# row with the versions dbt's documented algorithm gives
. "$(dirname "$0")/lib.sh"

# the snapshot time is Dango's clock: DANGO_NOW, standing still for the run
export DANGO_CLOCK_SPEED=0

mkdir -p p/seeds p/snapshots p/models
cat >p/dbt_project.yml <<\EOF
name: p
profile: p
snapshots:
  p:
    +target_schema: snapshots
EOF
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: s.duckdb\n' >profiles.yml
cat >p/snapshots/orders.sql <<\EOF
{% snapshot orders_snap %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at', invalidate_hard_deletes=True) }}
select * from {{ ref('orders') }}
{% endsnapshot %}

{%- snapshot cust_snap -%}
{{ config(unique_key=['id', 'region'], strategy='check', check_cols=['status'], hard_deletes='new_record',
          dbt_valid_to_current="'9999-12-31'::timestamp",
          snapshot_meta_column_names={'dbt_valid_from': 'valid_from', 'dbt_valid_to': 'valid_to', 'dbt_is_deleted': 'deleted'}) }}
select id, region, status from {{ ref('customers') }}
{%- endsnapshot -%}
EOF
cat >p/snapshots/schema.yml <<\EOF
snapshots:
  - name: orders_all
    relation: ref('orders')
    config:
      schema: hist
      unique_key: id
      strategy: check
      check_cols: all
EOF
echo "select id, status from {{ ref('orders_snap') }} where dbt_valid_to is null" >p/models/current_orders.sql
dango init peek >/dev/null
sq() { cp s.duckdb peek/data/warehouse.duckdb && (cd peek && dango query --csv "$1"); }
seeds() {
    printf "id,status,updated_at\n$1" >p/seeds/orders.csv &&
    printf "id,region,status\n$2" >p/seeds/customers.csv
}
orders_q="select id, status, updated_at, dbt_valid_from, dbt_valid_to, dbt_updated_at = updated_at as upd_ok,
  dbt_scd_id = md5(id::varchar || '|' || updated_at::varchar) as scd_ok from snapshots.orders_snap order by id, dbt_valid_from"
cust_scd_q="select dbt_scd_id = md5(id::varchar || '|' || region || '|' || '2024-01-01 00:00:00') as ok from snapshots.cust_snap"
cols_q="select column_name from information_schema.columns where table_schema = 'snapshots' and table_name = 'cust_snap' order by ordinal_position"
cust_q="select id, region, status, valid_from, valid_to, deleted from snapshots.cust_snap order by id, region, valid_from, deleted"

test_expect_success 'first run: dango build loads seeds, then snapshots, then the models on them' '
    seeds "1,placed,2024-01-01 00:00:00\n2,placed,2024-01-01 00:00:00\n3,placed,2024-01-01 00:00:00\n" \
          "1,eu,a\n1,us,a\n2,eu,b\n" &&
    DANGO_NOW=2024-01-01T00:00:00Z dango build --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Found 1 model, 0 tests, 2 seeds, 3 snapshots" out &&
    test_grep "OK snapshotted snapshots.orders_snap .*\[INSERT 0 3 in" out &&
    test_grep "OK snapshotted main_hist.orders_all " out &&
    test_grep "Finished running 1 view, 2 seeds, 3 snapshots in" out &&
    grep -n "orders_snap\|current_orders" out | sed -n "1p;\$p" >lines &&
    test_grep "START snapshot snapshots.orders_snap" lines && test_grep "current_orders" lines &&
    sq "$orders_q" >actual &&
    cat >expect <<-\EOF &&
	id,status,updated_at,dbt_valid_from,dbt_valid_to,upd_ok,scd_ok
	1,placed,2024-01-01 00:00:00,2024-01-01 00:00:00,,true,true
	2,placed,2024-01-01 00:00:00,2024-01-01 00:00:00,,true,true
	3,placed,2024-01-01 00:00:00,2024-01-01 00:00:00,,true,true
	EOF
    test_cmp expect actual &&
    sq "$cust_q" >actual &&
    cat >expect <<-\EOF &&
	id,region,status,valid_from,valid_to,deleted
	1,eu,a,2024-01-01 00:00:00,9999-12-31 00:00:00,False
	1,us,a,2024-01-01 00:00:00,9999-12-31 00:00:00,False
	2,eu,b,2024-01-01 00:00:00,9999-12-31 00:00:00,False
	EOF
    test_cmp expect actual &&
    sq "$cust_scd_q" >actual &&
    printf "ok\ntrue\ntrue\ntrue\n" >expect && test_cmp expect actual &&
    sq "$cols_q" >actual &&
    printf "column_name\nid\nregion\nstatus\ndbt_scd_id\ndbt_updated_at\nvalid_from\nvalid_to\ndeleted\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'second run: a changed row closes its version and opens one; a deleted row is invalidated' '
    seeds "1,shipped,2024-01-05 00:00:00\n2,placed,2024-01-01 00:00:00\n4,placed,2024-01-06 00:00:00\n" \
          "1,eu,a2\n1,us,a\n" &&
    dango seed --project-dir p --profiles-dir . >/dev/null &&
    DANGO_NOW=2024-02-01T00:00:00Z dango snapshot --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Found 1 model, 0 tests, 2 seeds, 3 snapshots" out &&
    test_grep "^.*Done. PASS=3 WARN=0 ERROR=0 SKIP=0 TOTAL=3$" out &&
    sq "$orders_q" >actual &&
    cat >expect <<-\EOF &&
	id,status,updated_at,dbt_valid_from,dbt_valid_to,upd_ok,scd_ok
	1,placed,2024-01-01 00:00:00,2024-01-01 00:00:00,2024-01-05 00:00:00,true,true
	1,shipped,2024-01-05 00:00:00,2024-01-05 00:00:00,,true,true
	2,placed,2024-01-01 00:00:00,2024-01-01 00:00:00,,true,true
	3,placed,2024-01-01 00:00:00,2024-01-01 00:00:00,2024-02-01 00:00:00,true,true
	4,placed,2024-01-06 00:00:00,2024-01-06 00:00:00,,true,true
	EOF
    test_cmp expect actual &&
    sq "$cust_q" >actual &&
    cat >expect <<-\EOF &&
	id,region,status,valid_from,valid_to,deleted
	1,eu,a,2024-01-01 00:00:00,2024-02-01 00:00:00,False
	1,eu,a2,2024-02-01 00:00:00,9999-12-31 00:00:00,False
	1,us,a,2024-01-01 00:00:00,9999-12-31 00:00:00,False
	2,eu,b,2024-01-01 00:00:00,2024-02-01 00:00:00,False
	2,eu,b,2024-02-01 00:00:00,9999-12-31 00:00:00,True
	EOF
    test_cmp expect actual &&
    sq "select id, status, dbt_valid_to is null as cur from main_hist.orders_all order by id, dbt_valid_from" >actual &&
    printf "id,status,cur\n1,placed,false\n1,shipped,true\n2,placed,true\n3,placed,true\n4,placed,true\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'third run: a deleted row that comes back opens a new version' '
    seeds "1,delivered,2024-01-10 00:00:00\n2,placed,2024-01-01 00:00:00\n3,placed,2024-01-20 00:00:00\n4,placed,2024-01-06 00:00:00\n" \
          "1,eu,a2\n1,us,a\n2,eu,b\n" &&
    dango seed --project-dir p --profiles-dir . >/dev/null &&
    DANGO_NOW=2024-03-01T00:00:00Z dango snapshot --project-dir p --profiles-dir . --select orders_snap cust_snap >out 2>err &&
    test_grep "Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2$" out &&
    sq "$orders_q" >actual &&
    cat >expect <<-\EOF &&
	id,status,updated_at,dbt_valid_from,dbt_valid_to,upd_ok,scd_ok
	1,placed,2024-01-01 00:00:00,2024-01-01 00:00:00,2024-01-05 00:00:00,true,true
	1,shipped,2024-01-05 00:00:00,2024-01-05 00:00:00,2024-01-10 00:00:00,true,true
	1,delivered,2024-01-10 00:00:00,2024-01-10 00:00:00,,true,true
	2,placed,2024-01-01 00:00:00,2024-01-01 00:00:00,,true,true
	3,placed,2024-01-01 00:00:00,2024-01-01 00:00:00,2024-02-01 00:00:00,true,true
	3,placed,2024-01-20 00:00:00,2024-01-20 00:00:00,,true,true
	4,placed,2024-01-06 00:00:00,2024-01-06 00:00:00,,true,true
	EOF
    test_cmp expect actual &&
    sq "$cust_q" >actual &&
    cat >expect <<-\EOF &&
	id,region,status,valid_from,valid_to,deleted
	1,eu,a,2024-01-01 00:00:00,2024-02-01 00:00:00,False
	1,eu,a2,2024-02-01 00:00:00,9999-12-31 00:00:00,False
	1,us,a,2024-01-01 00:00:00,9999-12-31 00:00:00,False
	2,eu,b,2024-01-01 00:00:00,2024-02-01 00:00:00,False
	2,eu,b,2024-02-01 00:00:00,2024-03-01 00:00:00,True
	2,eu,b,2024-03-01 00:00:00,9999-12-31 00:00:00,False
	EOF
    test_cmp expect actual
'

test_expect_success 'a snapshot run with nothing changed changes nothing; dango run does not run snapshots' '
    sq "select * from snapshots.cust_snap order by all" >before &&
    DANGO_NOW=2024-04-01T00:00:00Z dango snapshot --project-dir p --profiles-dir . >out &&
    sq "select * from snapshots.cust_snap order by all" >after && test_cmp before after &&
    dango run --project-dir p --profiles-dir . >out &&
    ! grep -q snapshotted out &&
    dango ls --project-dir p --profiles-dir . --resource-type snapshot >actual &&
    printf "p.orders.cust_snap\np.orders.orders_snap\np.orders_all\n" >expect && sort actual >sorted && test_cmp expect sorted
'

test_expect_success 'a new column of the query is added to the snapshot' '
    printf "id,status,updated_at,note\n1,delivered,2024-01-10 00:00:00,x\n" >p/seeds/orders.csv &&
    dango seed --project-dir p --profiles-dir . >/dev/null &&
    DANGO_NOW=2024-05-01T00:00:00Z dango snapshot --project-dir p --profiles-dir . --select orders_snap >out &&
    sq "select id, status, note, dbt_valid_to from snapshots.orders_snap where id = 1 order by dbt_valid_from" >actual &&
    printf "id,status,note,dbt_valid_to\n1,placed,,2024-01-05 00:00:00\n1,shipped,,2024-01-10 00:00:00\n1,delivered,,\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'a snapshot without a strategy or unique_key fails alone, with the reason' '
    cat >p/snapshots/bad.sql <<-\EOF &&
	{% snapshot bad_snap %}
	{{ config(unique_key="id") }}
	select 1 as id
	{% endsnapshot %}
	{% snapshot bad2 %}
	{{ config(strategy="timestamp", unique_key="id") }}
	select 1 as id
	{% endsnapshot %}
	{% snapshot bad3 %}
	{{ config(strategy="check", unique_key="id", check_cols="all", hard_deletes="forget") }}
	select 1 as id
	{% endsnapshot %}
	EOF
    echo "select * from {{ ref(\"bad_snap\") }}" >p/models/after_bad.sql &&
    test_expect_code 1 dango build --project-dir p --profiles-dir . >out 2>err &&
    test_grep "ERROR creating snapshot snapshots.bad_snap" out &&
    test_grep "snapshots/bad.sql: snapshot .bad_snap. needs a .strategy. in its config (timestamp or check)" out &&
    test_grep "snapshot .bad2.: the timestamp strategy needs .updated_at." out &&
    test_grep "hard_deletes must be ignore, invalidate or new_record, not .forget." out &&
    test_grep "SKIP relation main.after_bad " out &&
    test_grep "OK snapshotted snapshots.orders_snap" out &&
    rm p/snapshots/bad.sql p/models/after_bad.sql
'

test_expect_success 'a failed snapshot run leaves the snapshot as it was' '
    sq "select * from snapshots.orders_snap order by all" >before &&
    printf "id,status,updated_at,note\n1,delivered,2024-06-10 00:00:00,x\n" >p/seeds/orders.csv &&
    dango seed --project-dir p --profiles-dir . >/dev/null &&
    cat >p/snapshots/orders.sql <<-\EOF &&
	{% snapshot orders_snap %}
	{{ config(unique_key="id", strategy="timestamp", updated_at="updated_at", invalidate_hard_deletes=True) }}
	select id, status, updated_at, note, cast(status || id as integer) as boom from {{ ref("orders") }}
	{% endsnapshot %}
	EOF
    test_expect_code 1 dango snapshot --project-dir p --profiles-dir . --select orders_snap >out &&
    sq "select * from snapshots.orders_snap order by all" >after && test_cmp before after
'

test_done
