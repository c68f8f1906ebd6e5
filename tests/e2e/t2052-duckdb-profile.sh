#!/usr/bin/env bash
# dbt-duckdb's profile features: extensions (built-in ones load, others are
# an error since nothing can be downloaded), settings (SET on every
# connection; an unknown one is an error naming profiles.yml) and attach
# (other DuckDB files; a type whose extension is not built in is an error)
. "$(dirname "$0")/lib.sh"

mkdir -p p/models other/models
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'name: other\nprofile: other\n' >other/dbt_project.yml
printf 'other:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: other.duckdb\n' >other/profiles.yml
echo "{{ config(materialized='table') }} select 1 as id, 'from other' as what" >other/models/things.sql
profile() {
    printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: e.duckdb\n      threads: 2\n%s\n' "$1" >profiles.yml
}
dango init peek >/dev/null
sq() { cp e.duckdb peek/data/warehouse.duckdb && (cd peek && dango query --csv "$1"); }

test_expect_success 'settings are SET on every connection, built-in extensions load' '
    profile "      extensions: [parquet, json, icu]
      settings: {TimeZone: America/New_York, default_null_order: nulls_first_on_asc_last_on_desc}" &&
    for i in 1 2 3; do echo "{{ config(materialized=\"table\") }} select current_setting('"'"'TimeZone'"'"') as tz, current_setting('"'"'default_null_order'"'"') as nulls" >p/models/s$i.sql; done &&
    dango run --project-dir p --profiles-dir . >out &&
    sq "select * from main.s1 union all select * from main.s2 union all select * from main.s3" >actual &&
    printf "tz,nulls\nAmerica/New_York,NULLS_FIRST_ON_ASC_LAST_ON_DESC\nAmerica/New_York,NULLS_FIRST_ON_ASC_LAST_ON_DESC\nAmerica/New_York,NULLS_FIRST_ON_ASC_LAST_ON_DESC\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'an unknown setting is an error naming profiles.yml, and nothing runs' '
    profile "      settings: {no_such_setting: 1}" &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "profiles.yml: target .dev.: setting .no_such_setting. of .settings.: Catalog Error: unrecognized configuration parameter \"no_such_setting\"" err &&
    test_grep ! "START" out
'

test_expect_success 'an extension that is not built in is an error: it cannot be downloaded' '
    profile "      extensions: [httpfs]" &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "profiles.yml: target .dev.: extension .httpfs. of .extensions. is not built into Dango.s DuckDB, and extensions cannot be downloaded (built in: .*parquet" err
'

test_expect_success 'attach: models read another DuckDB file, and build into an attached one' '
    dango run --project-dir other --profiles-dir other >out &&
    profile "      attach:
        - {path: other.duckdb, alias: ro, read_only: true}
        - {path: rw.duckdb, alias: rw}" &&
    rm p/models/s*.sql &&
    echo "{{ config(materialized=\"table\") }} select id, what from ro.main.things" >p/models/reads_other.sql &&
    echo "{{ config(materialized=\"table\", database=\"rw\") }} select id * 10 as id from {{ ref(\"reads_other\") }}" >p/models/into_rw.sql &&
    dango run --project-dir p --profiles-dir . >out &&
    test_grep "OK created sql table model rw.main.into_rw" out &&
    sq "select * from main.reads_other" >actual &&
    printf "id,what\n1,from other\n" >expect && test_cmp expect actual &&
    cp rw.duckdb peek/data/warehouse.duckdb && (cd peek && dango query --csv "select * from main.into_rw") >actual &&
    printf "id\n10\n" >expect && test_cmp expect actual
'

test_expect_success 'attach of type sqlite is an error: sqlite_scanner is not built in' '
    profile "      attach:
        - {path: data.sqlite, type: sqlite}" &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "profiles.yml: target .dev.: attach .data.sqlite. has type .sqlite., which needs DuckDB.s sqlite_scanner extension: it is not built into Dango.s DuckDB" err &&
    test_grep "load its tables with a Dango source of type sqlite instead" err
'

test_expect_success 'dango show applies the profile too (attach)' '
    profile "      attach:
        - {path: other.duckdb, alias: ro, read_only: true}" &&
    dango show --project-dir p --profiles-dir . --inline "select what from ro.main.things" >out &&
    test_grep "from other" out
'

test_done
