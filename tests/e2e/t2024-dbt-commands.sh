#!/usr/bin/env bash
# dango parse, dango clean, ls --resource-type for snapshots and unit tests
# (an unknown or missing type is an error), and what Dango does not do yet
# said aloud (model versions, access, exposures: t2040-t2042)
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/snapshots
printf 'name: p\nprofile: p\nclean-targets: [target, logs]\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: d.duckdb\n' >profiles.yml
echo "select 1 as id" >p/models/a.sql
echo "select 1 as id" >p/models/v.sql
cat >p/models/schema.yml <<\EOF
groups:
  - name: finance
    owner: {name: fin}
models:
  - name: a
    group: finance
  - name: v
    latest_version: 2
    versions:
      - v: 1
      - v: 2
unit_tests:
  - name: t_a
    model: a
    given: []
    expect: {rows: [{id: 1}]}
exposures:
  - name: dash
    type: dashboard
    owner: {email: a@b.c}
metrics:
  - name: m1
EOF
printf '{%% snapshot s1 %%}\n{{ config(strategy="check", unique_key="id", check_cols="all", target_schema="snaps") }}\nselect * from {{ ref("a") }}\n{%% endsnapshot %%}\n' >p/snapshots/s.sql

test_expect_success 'dango parse writes the manifest and says what will fail' '
    dango parse --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Found 2 models, 0 tests, 1 unit test, 1 snapshot, 1 exposure, 1 metric, 1 group" out &&
    test -f p/target/manifest.json &&
    jq -r ".nodes | keys[]" p/target/manifest.json | sort >actual &&
    printf "model.p.a\nmodel.p.v.v2\nsnapshot.p.s1\nunit_test.p.a.t_a\n" >expect && test_cmp expect actual &&
    jq -r ".nodes[\"unit_test.p.a.t_a\"].resource_type, .nodes[\"snapshot.p.s1\"].resource_type" p/target/manifest.json >actual &&
    printf "unit_test\nsnapshot\n" >expect && test_cmp expect actual &&
    test_grep "Did not find matching node for patch with name .v_v1. in the .models. section of file .models/schema.yml." err
'

test_expect_success 'dango ls lists snapshots and unit tests by resource type; an unknown type is an error' '
    dango ls --project-dir p --profiles-dir . --resource-type snapshot >actual &&
    echo "p.s.s1" >expect && test_cmp expect actual &&
    dango ls --project-dir p --profiles-dir . --resource-type unit_test >actual &&
    echo "p.a.t_a" >expect && test_cmp expect actual &&
    test_expect_code 2 dango ls --project-dir p --profiles-dir . --resource-type group 2>err &&
    test_grep "Dango does not have group nodes yet" err &&
    test_expect_code 2 dango ls --project-dir p --profiles-dir . --resource-type nosuch 2>err &&
    test_grep "not a dbt resource type" err
'

test_expect_success 'the latest version of a model may live in the unsuffixed file' '
    dango build --project-dir p --profiles-dir . >out 2>err &&
    test_grep "OK created sql view model main.v_v2" out &&
    test_grep "PASS a::t_a" out &&
    test_grep "OK snapshotted snaps.s1" out
'

test_expect_success 'dbt-duckdb profile features Dango does not apply are warned about' '
    printf "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: d.duckdb\n      plugins: [{module: excel}]\n" >p2.yml &&
    mkdir -p pd && cp p2.yml pd/profiles.yml &&
    dango parse --project-dir p --profiles-dir pd >out 2>err &&
    test_grep "profiles.yml: .plugins. of target .dev. is not supported by Dango yet: ignored" err
'

test_expect_success 'dango clean removes the clean-targets and refuses paths outside the project' '
    mkdir -p p/logs && dango clean --project-dir p >out &&
    test_grep "Cleaned target/\*" out && test_grep "Finished cleaning all paths." out &&
    ! test -e p/target && ! test -e p/logs &&
    mkdir keep && printf "name: p\nprofile: p\nclean-targets: [../keep]\n" >p/dbt_project.yml &&
    test_expect_code 1 dango clean --project-dir p 2>err &&
    test_grep "is outside the project: not removed" err && test -d keep
'

test_done
