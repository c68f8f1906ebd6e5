#!/usr/bin/env bash
# run_query() in a model returns every value, typed where Jinja can hold it
# (int, float, string, None; booleans; dates and timestamps as Python's
# datetime objects, '?' below; the rest as DuckDB's text): a UUID
# followed by other columns (which crashed), and a table of every DuckDB type.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
dango query --write "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE main.types AS SELECT
  true AS bool_c, (-128)::TINYINT AS tinyint_c, 9223372036854775807::BIGINT AS bigint_c,
  170141183460469231731687303715884105727::HUGEINT AS hugeint_c, 7::HUGEINT AS small_hugeint_c,
  18446744073709551615::UBIGINT AS ubigint_c, 0.5::FLOAT AS float_c, 1e20::DOUBLE AS double_c,
  12.50::DECIMAL(5,2) AS decimal_c, 'Ann' AS varchar_c, '\xAA'::BLOB AS blob_c, DATE '2024-02-29' AS date_c,
  TIMESTAMP '2024-02-29 12:34:56' AS timestamp_c, TIMESTAMPTZ '2024-02-29 12:34:56+00' AS timestamptz_c,
  INTERVAL 3 DAY AS interval_c, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS uuid_c, [1, 2] AS list_c,
  {'k': 'v'} AS struct_c, MAP {'a': 1} AS map_c, 'ok'::mood AS enum_c, '101'::BIT AS bit_c,
  union_value(n := 4)::UNION(n INT, s VARCHAR) AS union_c, '{\"j\": 1}'::JSON AS json_c;
INSERT INTO main.types DEFAULT VALUES" >/dev/null

mkdir -p dbt/models/marts
cat >dbt/models/marts/uuid_then_more.sql <<'SQL'
{{ config(materialized="table") }}
{% set rows = run_query("select 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u, 41 AS x, 'after' AS s, 2.25::DOUBLE AS d, NULL AS n") %}
{% set r = rows[0] if execute else ['', 0, '', 0.0, none] %}
select '{{ r[0] }}' as u, {{ r[1] + 1 }} as x, '{{ r[2] }}' as s, {{ r[3] * 2 }} as d, {{ r[4] is none }} as n_is_none
SQL
cat >dbt/models/marts/all_types.sql <<'SQL'
{{ config(materialized="table") }}
{% set rows = run_query("select * from main.types order by bool_c nulls last") %}
{% if execute %}
{%- set kinds = [] %}{% set texts = [] %}
{%- for v in rows[0] %}
{%- do kinds.append('none' if v is none else 'bool' if v is boolean else 'int' if v is integer else 'float' if v is float else 'str' if v is string else '?') %}
{%- do texts.append(v | string) %}
{%- endfor %}
select '{{ kinds | join(",") }}' as kinds, '{{ texts | join("|") | replace("'", "''") }}' as texts,
       '{{ rows[1] | map("string") | join(",") }}' as nulls, {{ rows[0][2] - 1 }} as bigint_minus_1,
       {{ rows[0][4] * 6 }} as small_huge_times_6
{% else %}
select 1
{% endif %}
SQL

test_expect_success 'run_query over a UUID followed by other columns: every value, typed' '
    dango run -s uuid_then_more >out &&
    q "SELECT * FROM marts.uuid_then_more" >out &&
    echo "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,42,after,4.5,true" >expect && test_cmp expect out
'

test_expect_success 'run_query over every type: Jinja types and DuckDB'"'"'s text for the rest' '
    dango run -s all_types >out &&
    q "SELECT kinds FROM marts.all_types" >out &&
    echo "\"bool,int,int,str,int,str,float,float,float,str,str,?,?,?,str,str,str,str,str,str,str,str,str\"" >expect &&
    test_cmp expect out &&
    dango query --csv "SELECT texts FROM marts.all_types" | tail -n +2 >out &&
    cat >expect <<-\EOF &&
	"True|-128|9223372036854775807|170141183460469231731687303715884105727|7|18446744073709551615|0.5|1e+20|12.5|Ann|\xAA|2024-02-29|2024-02-29 12:34:56|2024-02-29 12:34:56+00:00|3 days|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|[1, 2]|{'"'"'k'"'"': v}|{a=1}|ok|101|4|{""j"": 1}"
	EOF
    test_cmp expect out &&
    q "SELECT nulls, bigint_minus_1, small_huge_times_6 FROM marts.all_types" >out &&
    echo "\"None,None,None,None,None,None,None,None,None,None,None,None,None,None,None,None,None,None,None,None,None,None,None\",9223372036854775806,42" >expect &&
    test_cmp expect out
'

test_done
