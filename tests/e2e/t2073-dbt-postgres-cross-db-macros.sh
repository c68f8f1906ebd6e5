#!/usr/bin/env bash
# dbt's cross-database macros on a postgres target (#19), against a real
# server: the postgres__ versions render SQL PostgreSQL runs, with
# dbt-postgres' semantics (datediff counts calendar boundaries, last_day of
# a quarter, negative split_part, listagg with a limit, any_value as min,
# safe_cast as cast), and the type_* macros name PostgreSQL's types.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"

mkdir -p p/models
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
pg_dbt_profile
cat >p/models/dates.sql <<\EOF
select
  ({{ dbt.dateadd('day', 3, "'2024-01-30'::date") }})::date as add_day,
  ({{ dbt.dateadd('month', 1, "'2024-01-31'::date") }})::date as add_month,
  ({{ dbt.dateadd('hour', -2, "'2024-01-01 01:00:00'::timestamp") }}) as add_hour,
  {{ dbt.datediff("'2024-01-01'", "'2024-03-15'", 'day') }} as diff_day,
  {{ dbt.datediff("'2024-01-01'", "'2024-01-15'", 'week') }} as diff_week,
  {{ dbt.datediff("'2024-01-31'", "'2024-03-01'", 'month') }} as diff_month,
  {{ dbt.datediff("'2023-11-15'", "'2024-02-01'", 'quarter') }} as diff_quarter,
  {{ dbt.datediff("'2023-12-31'", "'2024-01-01'", 'year') }} as diff_year,
  {{ dbt.datediff("'2024-01-01 10:30:00'", "'2024-01-02 09:00:00'", 'hour') }} as diff_hour,
  {{ dbt.datediff("'2024-01-01 10:30:00'", "'2024-01-01 11:15:00'", 'minute') }} as diff_minute,
  {{ dbt.datediff("'2024-01-01 10:00:00'", "'2024-01-01 10:01:30'", 'second') }} as diff_second,
  ({{ dbt.date_trunc('month', "'2024-02-17'::date") }})::date as trunc_month,
  {{ dbt.last_day("'2024-02-10'::date", 'month') }} as last_month,
  {{ dbt.last_day("'2024-02-10'::date", 'quarter') }} as last_quarter
EOF
cat >p/models/strings.sql <<\EOF
with v as (select * from (values (1, 'b', true), (2, 'a', false), (3, 'c', false)) t(n, s, f))
select
  {{ dbt.split_part("'a-b-c'", "'-'", 2) }} as part_2,
  {{ dbt.split_part("'a-b-c'", "'-'", -1) }} as part_last,
  {{ dbt.safe_cast("'12'", dbt.type_int()) }} + 1 as safe,
  {{ dbt.cast_bool_to_text('true') }} as bool_text,
  {{ dbt.hash("'x'") }} = md5('x') as hash_ok,
  (select {{ dbt.listagg('s', "','", "order by s") }} from v) as agg,
  (select {{ dbt.listagg('s', "'|'", "order by n desc", 2) }} from v) as agg_limit,
  (select {{ dbt.bool_or('f') }} from v) as any_true,
  (select {{ dbt.any_value('n') }} from v) as any_n,
  {{ dbt.concat(["'x'", "'y'"]) }} as xy,
  {{ dbt.position("'b'", "'abc'") }} as pos,
  {{ dbt.right("'abcd'", 2) }} as rgt
EOF
cat >p/models/types.sql <<\EOF
select
  pg_typeof(cast(null as {{ dbt.type_string() }}))::text as t_string,
  pg_typeof(cast(null as {{ dbt.type_timestamp() }}))::text as t_timestamp,
  pg_typeof(cast(null as {{ dbt.type_float() }}))::text as t_float,
  pg_typeof(cast(null as {{ dbt.type_numeric() }}))::text as t_numeric,
  pg_typeof(cast(null as {{ dbt.type_bigint() }}))::text as t_bigint,
  pg_typeof(cast(null as {{ dbt.type_int() }}))::text as t_int,
  pg_typeof(cast(null as {{ dbt.type_boolean() }}))::text as t_boolean,
  pg_typeof({{ dbt.snapshot_get_time() }})::text as t_snapshot_time,
  pg_typeof({{ dbt.current_timestamp_backcompat() }})::text as t_backcompat,
  pg_typeof({{ dbt.current_timestamp_in_utc_backcompat() }})::text as t_utc
EOF
echo "select {{ dbt.datediff(\"'2024-01-01'\", \"'2024-01-02'\", 'fortnight') }} as x" >p/models/bad_part.sql

pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }

test_expect_success 'the date macros render PostgreSQL SQL with dbt-postgres semantics' '
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "OK created sql view model analytics.dates " out &&
    pgcsv "SELECT * FROM analytics.dates" >actual &&
    echo "2024-02-02,2024-02-29,2023-12-31 23:00:00,74,2,2,1,1,23,45,90,2024-02-01,2024-02-29,2024-03-31" >expect &&
    test_cmp expect actual
'

test_expect_success 'an unknown datepart is the error dbt-postgres gives, naming the macro file' '
    test_grep "ERROR creating sql view model analytics.bad_part " out &&
    test_grep "Unsupported datepart for macro datediff in postgres: .fortnight." out
'

test_expect_success 'the string and aggregate macros' '
    pgcsv "SELECT * FROM analytics.strings" >actual &&
    echo "b,c,13,true,t,\"a,b,c\",c|a,t,1,xy,2,cd" >expect &&
    test_cmp expect actual
'

test_expect_success 'the type macros name PostgreSQL types' '
    pgcsv "SELECT * FROM analytics.types" >actual &&
    echo "text,timestamp without time zone,double precision,numeric,bigint,integer,boolean,timestamp without time zone,timestamp without time zone,timestamp without time zone" >expect &&
    test_cmp expect actual
'

test_done
