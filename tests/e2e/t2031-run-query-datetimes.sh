#!/usr/bin/env bash
# run_query / load_result tables give Python values as agate does: dates,
# times and timestamps as datetime objects (arithmetic with
# modules.datetime works on them), numbers as numbers, NULL as None; and
# run_started_at is an aware datetime in UTC
. "$(dirname "$0")/lib.sh"

mkdir -p proj/models proj/macros
printf 'name: proj\nprofile: proj\n' >proj/dbt_project.yml
printf 'proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: c.duckdb\n' >profiles.yml
cat >proj/models/vals.sql <<\EOF
{% set t = run_query("select date '2024-02-28' as d, timestamp '2024-02-28 23:30:00.25' as ts,
    timestamptz '2024-02-28 23:30:00+00' as tstz, time '07:08:09' as tm, 42::bigint as n,
    1.5::double as f, null::date as nd, 'x' as s, date 'infinity' as inf") %}
{% if execute %}
{% set r = t.rows[0] %}
{% set dt = modules.datetime %}
select
  '{{ r.d }}' as d, '{{ r.d + dt.timedelta(days=1) }}' as d_next,
  {{ r.d == dt.date(2024, 2, 28) }} as d_eq, {{ r.d.weekday() }} as d_weekday,
  '{{ r.d.strftime("%d/%m/%Y") }}' as d_fmt,
  '{{ r.ts }}' as ts, '{{ r.ts + dt.timedelta(minutes=45) }}' as ts_plus,
  {{ r.ts.hour }} as ts_hour, {{ r.ts.microsecond }} as ts_us,
  {{ (r.ts - dt.datetime(2024, 2, 28)).total_seconds() }} as ts_secs,
  '{{ r.tstz }}' as tstz, '{{ r.tstz.tzinfo }}' as tstz_zone,
  '{{ r.tm }}' as tm, {{ r.tm.minute }} as tm_min,
  {{ r.n + 1 }} as n_plus, {{ r.f * 2 }} as f_twice,
  {{ r.nd is none }} as nd_none, '{{ r.s }}' as s, '{{ r.inf }}' as inf,
  {{ t.columns["d"].values()[0] < dt.date(2025, 1, 1) }} as col_cmp,
  {{ run_started_at.tzinfo is not none }} as started_aware,
  '{{ run_started_at.tzinfo }}' as started_zone
{% else %}
select 1 as parse_time
{% endif %}
EOF
cat >proj/macros/m.sql <<\EOF
{% macro last_day_of(d) %}
  {% call statement('q', fetch_result=True) %}select (date '{{ d }}' + interval 1 month)::date as nxt{% endcall %}
  {% set v = load_result('q').table.rows[0][0] %}
  {{ return((v.replace(day=1) - modules.datetime.timedelta(days=1)).isoformat()) }}
{% endmacro %}
EOF
echo "select '{{ last_day_of('2024-02-10') if execute else '' }}' as eom" >proj/models/eom.sql

test_expect_success 'run_query values are dates, datetimes, times, numbers and None' '
    dango run --project-dir proj --profiles-dir . >out 2>err &&
    dango init peek >/dev/null && cp c.duckdb peek/data/warehouse.duckdb &&
    (cd peek && dango query --csv "select * from main.vals") >actual &&
    cat >expect <<-\EOF &&
	d,d_next,d_eq,d_weekday,d_fmt,ts,ts_plus,ts_hour,ts_us,ts_secs,tstz,tstz_zone,tm,tm_min,n_plus,f_twice,nd_none,s,inf,col_cmp,started_aware,started_zone
	2024-02-28,2024-02-29,true,2,28/02/2024,2024-02-28 23:30:00.250000,2024-02-29 00:15:00.250000,23,250000,84600.25,2024-02-28 23:30:00+00:00,UTC,07:08:09,8,43,3.0,true,x,infinity,true,true,UTC
	EOF
    test_cmp expect actual
'

test_expect_success 'load_result(...).table values work with date methods in a macro' '
    (cd peek && dango query --csv "select * from main.eom") >actual &&
    printf "eom\n2024-02-29\n" >expect &&
    test_cmp expect actual
'

test_done
