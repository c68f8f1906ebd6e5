{% macro money(col) %}({{ col }})::decimal(10,2){% endmacro %}
