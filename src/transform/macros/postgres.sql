{#- The postgres__ versions of dbt's cross-database macros, written by
    Dango: on a postgres target dispatch finds them before the default__
    ones of cross_db.sql (which render DuckDB's SQL). Each renders the SQL
    dbt-postgres renders, so that a package's model means on PostgreSQL
    what it means under dbt. Only the macros whose SQL differs are here. -#}

{% macro postgres__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {{ from_date_or_timestamp }} + ((interval '1 {{ datepart }}') * ({{ interval }}))
{%- endmacro %}

{#- datediff counts the boundaries crossed, as dbt-postgres: whole days
    by date subtraction, the larger parts from the calendar fields, the
    smaller ones from the day count and the fields below it. -#}
{% macro postgres__datediff(first_date, second_date, datepart) -%}
    {%- set a = '(' ~ first_date ~ ')' -%}
    {%- set b = '(' ~ second_date ~ ')' -%}
    {%- set part = datepart | lower -%}
    {%- set coarser = {'hour': ['day', 24], 'minute': ['hour', 60], 'second': ['minute', 60],
                       'millisecond': ['minute', 60000], 'microsecond': ['minute', 60000000]} -%}
    {%- if part == 'day' -%}
        ({{ b }}::date - {{ a }}::date)
    {%- elif part == 'year' -%}
        (date_part('year', {{ b }}::date) - date_part('year', {{ a }}::date))
    {%- elif part == 'quarter' or part == 'month' -%}
        ({{ postgres__datediff(first_date, second_date, 'year') }} * {{ 4 if part == 'quarter' else 12 }}
         + date_part('{{ part }}', {{ b }}::date) - date_part('{{ part }}', {{ a }}::date))
    {%- elif part == 'week' -%}
        ({{ postgres__datediff(first_date, second_date, 'day') }} / 7 + case
            when date_part('dow', {{ a }}::timestamp) <= date_part('dow', {{ b }}::timestamp)
                then case when {{ first_date }} <= {{ second_date }} then 0 else -1 end
            else case when {{ first_date }} <= {{ second_date }} then 1 else 0 end
        end)
    {%- elif part in coarser -%}
        {%- set up = coarser[part] -%}
        {%- if part == 'hour' or part == 'minute' -%}
        ({{ postgres__datediff(first_date, second_date, up[0]) }} * {{ up[1] }}
         + date_part('{{ part }}', {{ b }}::timestamp) - date_part('{{ part }}', {{ a }}::timestamp))
        {%- else -%}
        ({{ postgres__datediff(first_date, second_date, up[0]) }} * {{ up[1] }}
         + floor(date_part('{{ part }}', {{ b }}::timestamp)) - floor(date_part('{{ part }}', {{ a }}::timestamp)))
        {%- endif -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("Unsupported datepart for macro datediff in postgres: '" ~ datepart ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- PostgreSQL has no interval '1 quarter': a quarter is three months -#}
{% macro postgres__last_day(date, datepart) -%}
    {%- set step = 'month' if datepart == 'quarter' else datepart -%}
    cast(
        {{ dbt.dateadd('day', '-1', dbt.dateadd(step, '3' if datepart == 'quarter' else '1', dbt.date_trunc(datepart, date))) }}
        as date)
{%- endmacro %}

{% macro postgres__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
    array_to_string(
        (array_agg({{ measure }} {{ order_by_clause if order_by_clause else '' }}))[1:{{ limit_num }}],
        {{ delimiter_text }})
    {%- else -%}
    string_agg({{ measure }}, {{ delimiter_text }} {{ order_by_clause if order_by_clause else '' }})
    {%- endif -%}
{%- endmacro %}

{#- a negative part counts from the end: the part's position from the
    number of delimiters, as dbt-postgres computes it -#}
{% macro postgres__split_part(string_text, delimiter_text, part_number) -%}
    {%- if part_number >= 0 -%}
    split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
    {%- else -%}
    {{ dbt._split_part_negative(string_text, delimiter_text, part_number) }}
    {%- endif -%}
{%- endmacro %}
{% macro _split_part_negative(string_text, delimiter_text, part_number) -%}
    split_part({{ string_text }}, {{ delimiter_text }},
        length({{ string_text }}) - length(replace({{ string_text }}, {{ delimiter_text }}, '')) + 2 + {{ part_number }})
{%- endmacro %}

{#- PostgreSQL has neither any_value (before 16) nor try_cast -#}
{% macro postgres__any_value(expression) -%}
    min({{ expression }})
{%- endmacro %}
{% macro postgres__safe_cast(field, type) -%}
    cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro postgres__snapshot_get_time() -%}
    {{ current_timestamp() }}::timestamp without time zone
{%- endmacro %}
{% macro postgres__current_timestamp_backcompat() -%}
    current_timestamp::{{ type_timestamp() }}
{%- endmacro %}
{% macro postgres__current_timestamp_in_utc_backcompat() -%}
    (current_timestamp at time zone 'utc')::{{ type_timestamp() }}
{%- endmacro %}
