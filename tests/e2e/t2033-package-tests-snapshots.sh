#!/usr/bin/env bash
# A package's singular tests (its tests/ folder) and snapshots are nodes as
# in dbt: test.<package>.<name> and snapshot.<package>.<name>, built with the
# package's own dbt_project.yml config first, then the root project's;
# dango build runs them, ls lists them, a failing one fails alone
. "$(dirname "$0")/lib.sh"

mkdir -p root/models pkg/models pkg/tests/generic pkg/snapshots pkg/seeds
printf 'name: root\nprofile: root\nsnapshots:\n  helper:\n    +target_schema: hist\n' >root/dbt_project.yml
printf 'root:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: w.duckdb\n' >profiles.yml
printf 'packages:\n  - local: ../pkg\n' >root/packages.yml
cat >pkg/dbt_project.yml <<\EOF
name: helper
version: "0.1.0"
snapshots:
  helper:
    +strategy: check
    +check_cols: all
    +unique_key: id
    +target_schema: pkg_hist
data_tests:
  helper:
    failing:
      +severity: warn
EOF
printf 'id,v\n1,a\n2,b\n' >pkg/seeds/helper_items.csv
echo "select * from {{ ref('helper_items') }}" >pkg/models/helper_model.sql
echo "select * from {{ ref('helper_model') }} where id < 0" >pkg/tests/assert_ids_positive.sql
mkdir -p pkg/tests/failing
echo "select * from {{ ref('helper_model') }} where v = 'a'" >pkg/tests/failing/assert_no_a.sql
echo "{% test never(model) %}select 1 where false{% endtest %}" >pkg/tests/generic/never.sql
cat >pkg/snapshots/items_snap.sql <<\EOF
{% snapshot items_snap %}
select * from {{ ref('helper_model') }}
{% endsnapshot %}
EOF
echo "select 1 as one" >root/models/m.sql
norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }

test_expect_success 'a package'"'"'s singular tests and snapshots are listed' '
    dango deps --project-dir root >/dev/null &&
    dango ls --project-dir root --profiles-dir . --resource-type test >actual &&
    printf "helper.assert_ids_positive\nhelper.failing.assert_no_a\n" >expect &&
    test_cmp expect actual &&
    dango ls --project-dir root --profiles-dir . --resource-type snapshot >actual &&
    echo "helper.items_snap.items_snap" >expect && test_cmp expect actual
'

test_expect_success 'dango build runs them with the package config, then the root project'"'"'s' '
    dango build --project-dir root --profiles-dir . >out && norm <out >actual &&
    test_grep "PASS assert_ids_positive " actual &&
    test_grep "WARN 1 assert_no_a " actual &&
    test_grep "OK snapshotted hist.items_snap " actual &&
    dango init peek >/dev/null && cp w.duckdb peek/data/warehouse.duckdb &&
    (cd peek && dango query --csv "select id, v, dbt_valid_to is null as current from hist.items_snap order by id") >actual &&
    printf "id,v,current\n1,a,true\n2,b,true\n" >expect && test_cmp expect actual
'

test_expect_success 'a package snapshot and test run by name in dango snapshot and dango test' '
    dango snapshot --project-dir root --profiles-dir . -s items_snap >out &&
    test_grep "OK snapshotted hist.items_snap " out &&
    dango test --project-dir root --profiles-dir . -s assert_ids_positive >out &&
    test_grep "PASS assert_ids_positive " out
'

test_expect_success 'packages'"'"' on-run-start and on-run-end hooks run before the root project'"'"'s' '
    printf "on-run-start:\n  - create or replace table main.hook_log (who varchar, n int)\n  - insert into main.hook_log values ('"'"'helper'"'"', 1)\non-run-end: \"insert into main.hook_log values ('"'"'helper end'"'"', 4)\"\n" >>pkg/dbt_project.yml &&
    printf "on-run-start: \"insert into main.hook_log values ('"'"'root'"'"', 2)\"\non-run-end: \"insert into main.hook_log values ('"'"'root end'"'"', 5)\"\n" >>root/dbt_project.yml &&
    dango run --project-dir root --profiles-dir . -s m >out && norm <out >actual &&
    test_grep "Running 3 on-run-start hooks" actual &&
    test_grep "1 of 3 OK hook: helper.on-run-start.0 " actual &&
    test_grep "2 of 3 OK hook: helper.on-run-start.1 " actual &&
    test_grep "3 of 3 OK hook: root.on-run-start.0 " actual &&
    test_grep "1 of 2 OK hook: helper.on-run-end.0 " actual &&
    test_grep "2 of 2 OK hook: root.on-run-end.0 " actual &&
    (cd peek && cp ../w.duckdb data/warehouse.duckdb && dango query --csv "select who from main.hook_log order by rowid") >got &&
    printf "who\nhelper\nroot\nhelper end\nroot end\n" >expect && test_cmp expect got
'

test_done
