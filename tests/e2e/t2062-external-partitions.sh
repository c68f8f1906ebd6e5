#!/usr/bin/env bash
# materialized: external with dbt-duckdb's partition_by (COPY ...
# (PARTITION_BY ...) into a folder, the view a hive-partitioned glob over it)
# and per_thread_output (a folder of files, the view over its glob).
. "$(dirname "$0")/lib.sh"

mkdir -p p/models
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: e.duckdb\n' >profiles.yml
cat >p/models/events.sql <<\EOF
{{ config(materialized='external', options={'partition_by': 'yr', 'overwrite_or_ignore': true}) }}
select * from (values (1, 2023, 'a'), (2, 2024, 'b'), (3, 2024, 'c')) t(id, yr, v)
EOF
cat >p/models/two.sql <<\EOF
{{ config(materialized='external', location=env_var('OUT') ~ '/two', format='csv',
          options={'partition_by': 'yr, mo', 'overwrite': true}) }}
select * from (values (1, 2024, 1), (2, 2024, 2), (3, 2024, 2)) t(id, yr, mo)
EOF
cat >p/models/threads.sql <<\EOF
{{ config(materialized='external', location=env_var('OUT') ~ '/threads', options={'per_thread_output': true}) }}
select range as id from range(5)
EOF
export OUT=$PWD/out
dango init peek >/dev/null
sq() { cp e.duckdb peek/data/warehouse.duckdb && (cd peek && dango query --write --csv "$1"); }

test_expect_success 'partition_by: a folder per value, as DuckDB writes it, and the view reads them back' '
    dango run --project-dir p --profiles-dir . >out.txt &&
    test_grep "OK created sql external model main.events" out.txt &&
    (cd p/target/events && ls -d yr=*) >actual &&
    printf "yr=2023\nyr=2024\n" >expect && test_cmp expect actual &&
    sq "select id, yr, v from main.events order by id" >actual &&
    printf "id,yr,v\n1,2023,a\n2,2024,b\n3,2024,c\n" >expect && test_cmp expect actual &&
    sq "select contains(sql, '"'"'/events/*/*.parquet'"'"') as ok from duckdb_views() where view_name = '"'"'events'"'"'" >actual &&
    printf "ok\ntrue\n" >expect && test_cmp expect actual
'

test_expect_success 'two partition columns: PARTITION_BY (yr, mo), a glob two folders deep' '
    (cd out/two && ls -d yr=*/mo=*) >actual &&
    printf "yr=2024/mo=1\nyr=2024/mo=2\n" >expect && test_cmp expect actual &&
    ls out/two/yr=2024/mo=2/*.csv >/dev/null &&
    sq "select id, yr, mo from main.two order by id" >actual &&
    printf "id,yr,mo\n1,2024,1\n2,2024,2\n3,2024,2\n" >expect && test_cmp expect actual
'

test_expect_success 'per_thread_output: files in the folder, the view over all of them' '
    test -d out/threads && ls out/threads/*.parquet >/dev/null &&
    sq "select count(*) as n, sum(id) as s from main.threads" >actual &&
    printf "n,s\n5,10\n" >expect && test_cmp expect actual
'

test_expect_success 'a rebuild overwrites with the overwrite options, as DuckDB does' '
    sed -i "s/(3, 2024, .c.)/(3, 2025, '"'"'c'"'"')/" p/models/events.sql &&
    dango run --project-dir p --profiles-dir . -s events >out.txt &&
    sq "select id, yr from main.events order by id" >actual &&
    test_grep "^3,2025$" actual
'

test_expect_success 'without an overwrite option a second COPY into the folder fails the model with DuckDB'"'"'s reason' '
    sed -i "s/, .overwrite_or_ignore.: true//" p/models/events.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s events >out.txt &&
    test_grep "ERROR creating sql external model main.events" out.txt &&
    test_grep "is not empty! Enable OVERWRITE option to overwrite files" out.txt &&
    sq "select id, yr from main.events order by id" >actual &&
    test_grep "^3,2025$" actual
'

test_done
