#!/usr/bin/env bash
# dango run of a plain dbt project whose profile is type: postgres, against
# a real server (#19's first step): views are create or replace, tables are
# built under a temporary name and swapped in one transaction, postgres__
# macros win over default__ in dispatch, relations are three-part with the
# database, a failing model keeps the old table and skips its dependents
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
PGDB=wh psql_do "CREATE TABLE public.raw_orders (id int, amount numeric(8,2)); INSERT INTO public.raw_orders VALUES (1, 10), (2, 20), (3, 30)"

mkdir -p p/models p/macros
printf 'name: p\nprofile: p\nmodels:\n  p:\n    +materialized: view\n    marts:\n      +materialized: table\n' >p/dbt_project.yml
cat >profiles.yml <<EOF
p:
  target: dev
  outputs:
    dev:
      type: postgres
      host: 127.0.0.1
      port: $PGPORT
      user: dango
      password: "{{ env_var('WH_PASSWORD') }}"
      dbname: wh
      schema: analytics
      threads: 1
EOF
export WH_PASSWORD=secret
cat >p/models/sources.yml <<\EOF
sources:
  - name: raw
    schema: public
    tables:
      - name: raw_orders
EOF
cat >p/macros/m.sql <<\EOF
{% macro flavour() %}{{ return(adapter.dispatch('flavour')()) }}{% endmacro %}
{% macro default__flavour() %}'default'{% endmacro %}
{% macro postgres__flavour() %}'postgres'{% endmacro %}
EOF
echo "select id, amount, {{ flavour() }} as flavour, '{{ this }}' as me, '{{ target.type }}' as t from {{ source('raw', 'raw_orders') }}" >p/models/stg_orders.sql
mkdir -p p/models/marts
echo "select count(*) as n, sum(amount) as total from {{ ref('stg_orders') }}" >p/models/marts/totals.sql
echo "select * from {{ ref('totals') }}" >p/models/marts/after_totals.sql

test_expect_success 'dango run builds views and tables on PostgreSQL' '
    dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "OK created sql view model analytics.stg_orders " out &&
    test_grep "OK created sql table model analytics.totals " out &&
    test_grep "^.*Done. PASS=3 WARN=0 ERROR=0 SKIP=0 TOTAL=3$" out &&
    PGDB=wh psql_do "COPY (SELECT n, total FROM analytics.totals) TO STDOUT WITH CSV" >actual &&
    echo "3,60.00" >expect && test_cmp expect actual &&
    PGDB=wh psql_do "COPY (SELECT flavour, me, t FROM analytics.stg_orders WHERE id = 1) TO STDOUT WITH CSV" >actual &&
    echo "postgres,\"\"\"wh\"\".\"\"analytics\"\".\"\"stg_orders\"\"\",postgres" >expect && test_cmp expect actual &&
    PGDB=wh psql_do "COPY (SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = '"'"'analytics'"'"' ORDER BY 1) TO STDOUT WITH CSV" >actual &&
    printf "after_totals,BASE TABLE\nstg_orders,VIEW\ntotals,BASE TABLE\n" >expect && test_cmp expect actual
'

test_expect_success 'a second run swaps the tables in, leaving no temporary or backup relation' '
    PGDB=wh psql_do "INSERT INTO public.raw_orders VALUES (4, 40)" &&
    dango run --project-dir p --profiles-dir . >out &&
    PGDB=wh psql_do "COPY (SELECT n, total FROM analytics.totals) TO STDOUT WITH CSV" >actual &&
    echo "4,100.00" >expect && test_cmp expect actual &&
    PGDB=wh psql_do "COPY (SELECT count(*) FROM pg_class WHERE relname LIKE '"'"'%__dbt_%'"'"') TO STDOUT" >actual &&
    echo 0 >expect && test_cmp expect actual
'

test_expect_success 'a failing model keeps its old table and skips its dependents' '
    echo "select count(*) as n, sum(amount) as total, 1/0 as boom from {{ ref('"'"'stg_orders'"'"') }}" >p/models/marts/totals.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out &&
    test_grep "ERROR creating sql table model analytics.totals " out &&
    test_grep "SKIP relation analytics.after_totals " out &&
    test_grep "division by zero" out &&
    PGDB=wh psql_do "COPY (SELECT n, total FROM analytics.totals) TO STDOUT WITH CSV" >actual &&
    echo "4,100.00" >expect && test_cmp expect actual
'

test_expect_success 'the password never shows; a bad one is a clear error' '
    ! grep -q secret out &&
    WH_PASSWORD=wrong test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "cannot connect to PostgreSQL" err &&
    ! grep -q wrong err
'

test_expect_success 'dango test runs generic and singular tests on PostgreSQL, with severity' '
    echo "select count(*) as n, sum(amount) as total from {{ ref('"'"'stg_orders'"'"') }}" >p/models/marts/totals.sql &&
    cat >p/models/schema.yml <<-\EOF &&
	models:
	  - name: stg_orders
	    columns:
	      - name: id
	        tests: [unique, not_null]
	      - name: amount
	        tests:
	          - accepted_values:
	              values: [10, 20, 30]
	              quote: false
	              config:
	                severity: warn
	EOF
    mkdir -p p/tests && echo "select * from {{ ref('"'"'totals'"'"') }} where n < 10" >p/tests/assert_few.sql &&
    test_expect_code 1 dango test --project-dir p --profiles-dir . >out &&
    test_grep "PASS unique_stg_orders_id " out &&
    test_grep "PASS not_null_stg_orders_id " out &&
    test_grep "WARN 1 accepted_values_stg_orders_amount__False__10__20__30 " out &&
    test_grep "FAIL 1 assert_few " out &&
    test_grep "Got 1 result, configured to fail if != 0" out &&
    test_grep "Done. PASS=2 WARN=1 ERROR=1 SKIP=0 TOTAL=4" out
'

test_expect_success 'dango build runs models then their tests in graph order; a failing test skips downstream' '
    rm p/tests/assert_few.sql &&
    sed -i "s/tests: \[unique, not_null\]/tests: [unique, {accepted_values: {values: [1, 2, 3], quote: false}}]/" p/models/schema.yml &&
    test_expect_code 1 dango build --project-dir p --profiles-dir . >out &&
    test_grep "OK created sql view model analytics.stg_orders " out &&
    test_grep "FAIL 1 accepted_values_stg_orders_id__False__1__2__3 " out &&
    test_grep "SKIP relation analytics.totals " out &&
    test_grep "SKIP relation analytics.after_totals " out &&
    sed -i "s/values: \[1, 2, 3\], quote/values: [1, 2, 3, 4], quote/" p/models/schema.yml &&
    dango build --project-dir p --profiles-dir . >out &&
    test_grep "OK created sql table model analytics.totals " out
'

test_expect_success 'dango compile renders on the server (show and docs generate: t2078)' '
    dango compile --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Compiled 6 nodes into target/compiled/" out &&
    grep -q "from \"wh\".\"analytics\".\"stg_orders\"" p/target/compiled/p/models/marts/totals.sql
'

test_expect_success 'incremental models: a table first, then delete+insert on the unique_key, or append' '
    cat >p/models/inc_key.sql <<-\EOF &&
	{{ config(materialized="incremental", unique_key="id") }}
	select id, amount, {{ "2" if is_incremental() else "1" }} as run from {{ ref("stg_orders") }}
	{% if is_incremental() %} where id >= (select max(id) from {{ this }}) {% endif %}
	EOF
    cat >p/models/inc_append.sql <<-\EOF &&
	{{ config(materialized="incremental") }}
	select id from {{ ref("stg_orders") }}
	{% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}
	EOF
    dango run --project-dir p --profiles-dir . -s inc_key inc_append >out &&
    test_grep "OK created sql incremental model analytics.inc_key " out &&
    PGDB=wh psql_do "INSERT INTO public.raw_orders VALUES (5, 50)" &&
    dango run --project-dir p --profiles-dir . -s inc_key inc_append >out &&
    PGDB=wh psql_do "COPY (SELECT id, run FROM analytics.inc_key ORDER BY id) TO STDOUT WITH CSV" >actual &&
    printf "1,1\n2,1\n3,1\n4,2\n5,2\n" >expect && test_cmp expect actual &&
    PGDB=wh psql_do "COPY (SELECT count(*), count(distinct id) FROM analytics.inc_append) TO STDOUT WITH CSV" >actual &&
    echo "5,5" >expect && test_cmp expect actual &&
    dango run --project-dir p --profiles-dir . -s inc_key --full-refresh >out &&
    PGDB=wh psql_do "COPY (SELECT count(*), max(run) FROM analytics.inc_key) TO STDOUT WITH CSV" >actual &&
    echo "5,1" >expect && test_cmp expect actual
'

test_expect_success 'on-run-start, on-run-end, pre-hook and post-hook run on PostgreSQL' '
    cat >p/dbt_project.yml <<-\EOF &&
	name: p
	profile: p
	on-run-start: "create table if not exists public.hook_log (msg text, at timestamptz default now())"
	on-run-end: "insert into public.hook_log (msg) values ('"'"'end'"'"')"
	models:
	  p:
	    +materialized: view
	    marts:
	      +materialized: table
	      +post-hook: "insert into public.hook_log (msg) values ('"'"'built {{ this }}'"'"')"
	EOF
    dango run --project-dir p --profiles-dir . -s totals >out &&
    test_grep "1 of 1 OK hook: p.on-run-start.0" out &&
    test_grep "1 of 1 OK hook: p.on-run-end.0" out &&
    PGDB=wh psql_do "COPY (SELECT msg FROM public.hook_log ORDER BY at, msg) TO STDOUT" >actual &&
    printf "built \"wh\".\"analytics\".\"totals\"\nend\n" >expect && test_cmp expect actual
'

test_expect_success 'run_query and statement run on PostgreSQL, with typed values' '
    cat >p/models/uses_query.sql <<-\EOF &&
	{% set r = run_query("select max(id) as m, date '"'"'2024-02-28'"'"' as d, true as b, 1.5::numeric as f from public.raw_orders") %}
	{% call statement("st", fetch_result=True) %}select count(*) as n from public.raw_orders{% endcall %}
	{% if execute %}
	select {{ r.rows[0].m + 1 }} as next_id, '"'"'{{ r.rows[0].d + modules.datetime.timedelta(days=1) }}'"'"' as d,
	  {{ r.rows[0].b }} as b, {{ r.rows[0].f * 2 }} as f, {{ load_result("st").table.rows[0][0] }} as n
	{% else %}
	select 1 as next_id
	{% endif %}
	EOF
    dango run --project-dir p --profiles-dir . -s uses_query >out &&
    PGDB=wh psql_do "COPY (SELECT * FROM analytics.uses_query) TO STDOUT WITH CSV" >actual &&
    echo "6,2024-02-29,t,3.0,5" >expect && test_cmp expect actual
'

test_done
