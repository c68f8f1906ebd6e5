#!/usr/bin/env bash
# dango debug: the project, the profile and the connection checked, as dbt debug
. "$(dirname "$0")/lib.sh"

mkdir -p p/models
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: x.duckdb\n' >profiles.yml
norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }

test_expect_success 'debug passes on a good project, before and after the first run' '
    dango debug --project-dir p --profiles-dir . >out && norm <out >actual &&
    test_grep "^dbt_project.yml file \[OK found and valid\]$" actual &&
    test_grep "^  target: dev$" actual &&
    test_grep "Connection test: \[OK the database file does not exist yet" actual &&
    test_grep "^All checks passed!$" actual &&
    echo "select 1 as id" >p/models/a.sql && dango run --project-dir p --profiles-dir . >/dev/null &&
    dango debug --project-dir p --profiles-dir . >out && norm <out >actual &&
    test_grep "^  Connection test: \[OK connection ok\]$" actual
'

test_expect_success 'debug fails, saying which file, on a missing profile' '
    test_expect_code 1 dango debug --project-dir p --profiles-dir nowhere >out && norm <out >actual &&
    test_grep "^profiles.yml file \[ERROR invalid\]$" actual &&
    test_grep "^1 check failed.$" actual
'

test_done
